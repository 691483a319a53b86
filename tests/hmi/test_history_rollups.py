"""Roll-ups written by the historian: 1-minute and 1-hour buckets that agree with the stored samples, a
restart inside a closed bucket merged into it, the same on PostgreSQL."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG, DISCRETE
from hmi.storage.historian import Historian, HistoryTag

MINUTE = 60.0
T0 = 1_800_000_000.0  # a whole hour


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "h.sqlite")
    return request.getfixturevalue("postgres_url")


def url(target: str) -> str:
    return target if "://" in target else f"sqlite:///{target}"


def record(target, tags, *batches) -> None:
    async def scenario() -> None:
        historian = Historian(target, flush_interval_s=60)
        await historian.start(tags)
        for updates in batches:
            historian.submit(updates)
            await historian._flush()
        await historian.close()
        assert historian.last_error == ""

    asyncio.run(scenario())


def rollups(target, table: str, tag: str) -> list[dict]:
    engine = create_engine(url(target))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT r.* FROM {table} r JOIN tags ON tags.id = r.tag_id "
                                     "WHERE tags.name = :tag ORDER BY start_us"), {"tag": tag})
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def test_minute_and_hour_buckets_agree_with_the_samples(target):
    tag = HistoryTag("a", HistorySpec(mode="all"), ANALOG)
    t = T0 + np.arange(0, 7200, 10.0)  # two hours at 0.1 Hz, a ramp of 1 per second: the mean of a minute is known
    updates = [TagUpdate("a", float(s - T0), Quality.GOOD, float(s), float(s)) for s in t]
    updates[30] = TagUpdate("a", 300.0, Quality.BAD, float(t[30]), float(t[30]))  # minute 5: one bad sample
    record(target, [tag], updates[:200], updates[200:])  # in two flushes
    minutes = rollups(target, "rollup_1m", "a")
    assert len(minutes) == 120
    first = minutes[0]
    assert (first["count"], first["good_count"], first["min"], first["max"]) == (6, 6, 0.0, 60.0)
    assert first["integral"] / first["good_s"] == pytest.approx(30.0)  # time-weighted mean of 0..60
    assert first["sum"] / first["good_count"] == pytest.approx(25.0)  # arithmetic mean of 0, 10, .., 50
    assert first["covered_s"] == pytest.approx(MINUTE)
    bad = minutes[5]
    assert (bad["count"], bad["good_count"]) == (6, 5)
    assert bad["good_s"] == pytest.approx(50.0)  # 10 s held by the bad sample
    hours = rollups(target, "rollup_1h", "a")
    assert [h["start_us"] for h in hours] == [round(T0 * 1e6), round((T0 + 3600) * 1e6)]
    assert hours[0]["count"] == 360
    assert hours[0]["integral"] == pytest.approx(sum(m["integral"] for m in minutes[:60]))
    assert hours[1]["last_value"] == 7190.0


def test_a_restart_inside_a_closed_bucket_is_merged_into_it(target):
    tag = HistoryTag("b", HistorySpec(mode="all"), DISCRETE)
    record(target, [tag], [TagUpdate("b", 1.0, Quality.GOOD, T0 + 5, T0 + 5)])
    record(target, [tag], [TagUpdate("b", 3.0, Quality.GOOD, T0 + 40, T0 + 40)])
    (minute,) = rollups(target, "rollup_1m", "b")
    assert (minute["count"], minute["min"], minute["max"]) == (2, 1.0, 3.0)
    assert (minute["first_value"], minute["last_value"]) == (1.0, 3.0)
