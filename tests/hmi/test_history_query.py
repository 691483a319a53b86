"""Reading history back for trends: what the real historian wrote, split good/flagged, decimated on the
query side without losing a flagged stretch, on the reader's own threads."""

from __future__ import annotations

import asyncio
import math
import sqlite3

import numpy as np
import pytest

from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG
from hmi.storage.historian import Historian, HistoryTag
from hmi.storage.history_query import HistoryReader


def record(path, updates: list[TagUpdate], tags=("a", "b")) -> None:
    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=60)
        await historian.start([HistoryTag(name, HistorySpec(mode="all"), ANALOG) for name in tags])
        historian.submit(updates)
        await historian.close()

    asyncio.run(scenario())


def sample(tag: str, value, t: float, quality: Quality = Quality.GOOD) -> TagUpdate:
    return TagUpdate(tag, value, quality, t, t)


@pytest.fixture
def reader(tmp_path):
    history = HistoryReader(tmp_path / "h.sqlite")
    yield history
    history.close()


def test_samples_come_back_split_into_good_and_flagged_with_gaps_in_both(reader):
    record(reader.path, [sample("a", 1.0, 10.0), sample("a", 2.0, 11.0, Quality.UNCERTAIN),
                         sample("a", None, 12.0, Quality.COMM_LOST), sample("a", 4.0, 13.0),
                         sample("b", 9.0, 11.5)])
    part = reader.submit("a", 10.0, 13.0, None).result(timeout=10)
    np.testing.assert_array_equal(part.t, [10.0, 11.0, 12.0, 13.0])
    np.testing.assert_array_equal(part.good, [1.0, math.nan, math.nan, 4.0])
    np.testing.assert_array_equal(part.flagged, [math.nan, 2.0, math.nan, math.nan])
    assert part.rows == 4
    assert not part.decimated


def test_decimation_keeps_a_flagged_excursion_inside_good_data(reader):
    n = 100_000
    updates = [sample("a", math.sin(i / 500), 1000.0 + i) for i in range(n)]
    updates[54_321] = sample("a", 50.0, 1000.0 + 54_321, Quality.UNCERTAIN)  # hidden by the good extremes' M4
    record(reader.path, updates)
    part = reader.query("a", 0.0, 1e9, 200)
    assert part.rows == n
    assert part.decimated
    assert len(part.t) <= 10 * 200
    assert np.nanmax(part.flagged) == 50.0
    assert (np.diff(part.t) > 0).all()
    assert np.nanmax(part.good) == pytest.approx(1.0, abs=1e-6)  # the good series' own extremes stay


def test_nothing_recorded_is_an_empty_answer_and_a_bad_range_an_error(reader):
    assert reader.query("a", 0.0, 10.0, 100).rows == 0  # no file yet
    record(reader.path, [sample("a", 1.0, 5.0)])
    assert reader.query("unknown", 0.0, 10.0, 100).rows == 0
    with pytest.raises(ValueError, match="start <= end"):
        reader.query("a", 10.0, 0.0, 100)
    with pytest.raises(ValueError, match="n_bins must be >= 1"):
        reader.query("a", 0.0, 10.0, 0)


def test_a_zoomed_out_view_is_drawn_from_roll_ups_with_the_same_envelope(reader):
    n = 86_400  # a day at 1 Hz
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.standard_normal(n))
    updates = [sample("a", float(v), 1_800_000_000.0 + i) for i, v in enumerate(values)]
    updates[40_000] = sample("a", 500.0, 1_800_040_000.0, Quality.UNCERTAIN)  # flagged: its bucket is read raw
    record(reader.path, updates)
    span = (1_800_000_000.0, 1_800_000_000.0 + n)
    part = reader.query("a", *span, 300)  # ~5 min per column: minute roll-ups
    assert part.from_rollups
    assert part.decimated
    assert part.rows == n
    assert len(part.t) <= 10 * 300
    good = np.delete(values, 40_000)
    assert np.nanmin(part.good) == pytest.approx(good.min())
    assert np.nanmax(part.good) == pytest.approx(good.max())
    assert np.nanmax(part.flagged) == 500.0

    # history from before roll-ups existed (a migrated file) is read as samples
    conn = sqlite3.connect(reader.path)
    conn.execute("DELETE FROM rollup_1m WHERE start_us < ?", (round((span[0] + n / 2) * 1e6),))
    conn.commit()
    conn.close()
    older = reader.query("a", *span, 300)
    assert older.rows == n
    assert np.nanmin(older.good) == pytest.approx(good.min())
