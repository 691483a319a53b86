"""Reading history back: boundaries, gaps at acquisition stops, the value at a time, interpolation rules;
the same answers from a SQLite file and from PostgreSQL."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pytest

from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG, DISCRETE
from hmi.storage.historian import Historian, HistoryTag
from hmi.storage.queries import NOT_ACQUIRING, HistoryStore, RawSeries, interpolate

NAN = math.nan
G, U, B, C = (int(q) for q in (Quality.GOOD, Quality.UNCERTAIN, Quality.BAD, Quality.COMM_LOST))


def series(*samples: tuple[float, float, int]) -> RawSeries:
    t, v, q = zip(*samples, strict=True)
    return RawSeries(np.array(t, float), np.array(v, float), np.array(q, dtype=np.int64))


# -- interpolation rules -----------------------------------------------------------------------------


def test_analog_is_linear_between_good_samples_and_unknown_before_the_first():
    raw = series((10.0, 0.0, G), (20.0, 10.0, G))
    out = interpolate(raw, np.array([5.0, 10.0, 15.0, 20.0, 30.0]), linear=True)
    np.testing.assert_array_equal(out.value, [NAN, 0.0, 5.0, 10.0, 10.0])  # the last value holds after it
    np.testing.assert_array_equal(out.quality, [NOT_ACQUIRING, G, G, G, G])


def test_discrete_holds_each_value_until_the_next_sample():
    raw = series((10.0, 0.0, G), (20.0, 1.0, G))
    out = interpolate(raw, np.array([15.0, 19.999, 20.0]), linear=False)
    np.testing.assert_array_equal(out.value, [0.0, 0.0, 1.0])


def test_no_interpolation_across_bad_quality_or_gaps():
    raw = series((0.0, 0.0, G), (10.0, 10.0, U), (20.0, 20.0, G), (30.0, NAN, C), (40.0, 40.0, G),
                 (50.0, NAN, NOT_ACQUIRING), (60.0, 60.0, G))
    out = interpolate(raw, np.array([5.0, 15.0, 25.0, 35.0, 45.0, 55.0]), linear=True)
    # toward an uncertain sample the good value holds; the uncertain one holds with its quality; comm lost and
    # a stop are unknown
    np.testing.assert_array_equal(out.value, [0.0, 10.0, 20.0, NAN, 40.0, NAN])
    np.testing.assert_array_equal(out.quality, [G, U, G, C, G, NOT_ACQUIRING])


# -- through the database ------------------------------------------------------------------------------


def record_runs(target) -> tuple[float, float, float]:
    """Two runs of acquisition: a ramp on 'a' (analog) and steps on 'b' (discrete); returns the first run's
    first sample time, its stop and the second run's start."""
    tags = [HistoryTag("a", HistorySpec(mode="all"), ANALOG), HistoryTag("b", HistorySpec(mode="all"), DISCRETE)]
    base = float(int(time.time()) - 100)  # whole seconds: interpolation on a half-second grid is then exact

    async def run(updates: list[TagUpdate]) -> Historian:
        historian = Historian(target, flush_interval_s=60)
        await historian.start(tags)
        historian.submit(updates)
        await historian.close()
        assert historian.last_error == ""
        return historian

    first = asyncio.run(run([TagUpdate("a", float(i), Quality.GOOD, base + i, base + i) for i in range(10)]
                            + [TagUpdate("b", 1.0, Quality.GOOD, base, base)]))
    stopped = time.time()
    time.sleep(0.05)
    second = asyncio.run(run([TagUpdate("a", 50.0, Quality.GOOD, time.time() + 1, time.time() + 1)]))
    assert first is not second
    return base, stopped, second._started_at


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "h.sqlite"
    return request.getfixturevalue("postgres_url")


def test_stops_are_gaps_and_nothing_is_known_while_not_acquiring(target):
    base, stopped, started = record_runs(target)
    store = HistoryStore(target)
    try:
        raw = store.raw("a", base - 10, started + 10)
        gaps = raw.t[raw.quality == NOT_ACQUIRING]
        assert len(gaps) == 4  # each run's start (1 µs before it) and stop
        assert stopped - 1 < gaps[1] <= stopped
        assert np.isnan(raw.value[raw.quality == NOT_ACQUIRING]).all()
        assert list(raw.value[raw.quality == G]) == [float(i) for i in range(10)] + [50.0]

        assert store.value_at("a", base + 5.5).value == 5.0
        assert store.value_at("a", (stopped + started) / 2) is None  # not acquiring then
        assert store.value_at("a", base - 50) is None  # nothing stored before
        assert store.value_at("b", base + 50).value == 1.0  # held (discrete)

        within = store.raw("a", base + 2.5, base + 4.0, before=True)
        assert list(within.value) == [2.0, 3.0, 4.0]  # the value the range starts with, then the range

        grid = store.interpolated("a", base, base + 9, 0.5)
        np.testing.assert_allclose(grid.value, np.arange(19) * 0.5)  # analog: the tag's kind from the database
        steps = store.interpolated("a", base, base + 1, 0.5, kind="discrete")
        np.testing.assert_array_equal(steps.value, [0.0, 0.0, 1.0])
        with pytest.raises(ValueError, match="interval must be"):
            store.interpolated("a", base, base + 1, 0.0)
        with pytest.raises(ValueError, match="start <= end"):
            store.raw("a", base + 1, base)
        assert len(store.raw("unknown tag", base, started)) == 0
    finally:
        store.close()


def test_a_reader_of_a_file_not_yet_written_gets_nothing(tmp_path):
    store = HistoryStore(tmp_path / "none.sqlite")
    assert len(store.raw("a", 0, 10)) == 0
    assert store.value_at("a", 5) is None
    assert not (tmp_path / "none.sqlite").exists()  # reading never creates it
