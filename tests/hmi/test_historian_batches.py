"""The writer's batch path (every tag that only continues its stream, compressed in one kernel call per mode)
stores exactly what feeding each tag on its own stores, for mixed flushes: quality changes, gaps, text, samples
out of order and replayed, tags that come and go, every storage mode."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

import hmi.storage.historian as historian_module
from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG, DISCRETE
from hmi.storage.historian import HistoryTag
from tests.hmi.test_historian import record

TAGS = [
    HistoryTag("sdt_a", HistorySpec(mode="sdt", deviation=0.2, max_interval_s=5), ANALOG),
    HistoryTag("sdt_b", HistorySpec(mode="sdt", deviation=0.0), ANALOG),
    HistoryTag("sdt_c", HistorySpec(mode="auto"), ANALOG),
    HistoryTag("band", HistorySpec(mode="deadband", deadband=0.5, max_interval_s=3), DISCRETE),
    HistoryTag("onchange", HistorySpec(mode="auto"), DISCRETE),
    HistoryTag("all", HistorySpec(mode="all"), ANALOG),
    HistoryTag("text", HistorySpec(mode="auto"), DISCRETE, text=True),
    HistoryTag("off", HistorySpec(mode="off"), ANALOG),
]


def flushes(seed: int) -> list[list[TagUpdate]]:
    rng = np.random.default_rng(seed)
    batches, t = [], 1_700_000_000.0
    level = {tag.name: 0.0 for tag in TAGS}
    for _ in range(40):
        batch = []
        for _ in range(int(rng.integers(0, 60))):
            tag = TAGS[int(rng.integers(0, len(TAGS)))].name
            t += float(rng.choice([0.0, 0.01, 0.3, 1.0, 7.0]))
            level[tag] += float(rng.normal(0, 0.4))
            quality = Quality(int(rng.choice([0, 0, 0, 0, 0, 0, 1, 2, 3])))
            value = None if quality is Quality.COMM_LOST or rng.random() < 0.03 else round(level[tag], 3)
            if tag == "text" and value is not None:
                value = f"state {int(value)}"
            stamp = t - float(rng.choice([0.0, 0.0, 0.0, 0.0, 0.5, 30.0]))  # late and replayed samples too
            batch.append(TagUpdate(tag, value, quality, stamp, stamp))
        batches.append(batch)
    return batches


def rows(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT t.name, s.ts_us, s.value, s.quality FROM samples s JOIN tags t ON t.id = "
                            "s.tag_id ORDER BY t.name, s.ts_us").fetchall()


@pytest.mark.parametrize("seed", range(12))
def test_batch_path_stores_what_tag_by_tag_stores(seed, tmp_path, monkeypatch):
    batches = flushes(seed)
    batch_path = record(tmp_path / "batch.sqlite", TAGS, *batches)
    monkeypatch.setattr(historian_module, "continuing", lambda *_: False)  # every tag through TagStream.feed
    single = record(tmp_path / "single.sqlite", TAGS, *batches)
    assert batch_path.samples_received == single.samples_received == sum(
        1 for b in batches for u in b if u.tag != "zzz")
    assert rows(tmp_path / "batch.sqlite") == rows(tmp_path / "single.sqlite")
    for table in ("rollup_1m", "rollup_1h"):
        with sqlite3.connect(tmp_path / "batch.sqlite") as a, sqlite3.connect(tmp_path / "single.sqlite") as b:
            query = f"SELECT * FROM {table} ORDER BY tag_id, start_us"
            assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_the_batch_path_is_taken(tmp_path, monkeypatch):
    calls = []
    real = historian_module.feed_many
    monkeypatch.setattr(historian_module, "feed_many", lambda streams, *a: calls.append(len(streams)) or
                        real(streams, *a))
    ramp = [[TagUpdate(name, float(i + k), Quality.GOOD, 1e9 + i, 1e9 + i) for name in ("sdt_a", "band")]
            for i in range(3) for k in range(1)]
    record(tmp_path / "h.sqlite", TAGS, *ramp)
    assert calls == [2, 2]  # the first flush starts each stream tag by tag; the next ones continue in one call
