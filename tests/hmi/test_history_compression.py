"""TagStream: a tag's storage mode applied batch by batch gives the same rows as one batch, keeps quality
changes and the last value before a gap, and periodic sampling cannot be flooded by a clock."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG, DISCRETE, MAX_TICKS, TagStream, effective_mode

NAN = math.nan


def series(draw_values: list[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = 100.0 + np.arange(len(draw_values), dtype=float)
    y = np.array([v for v, _ in draw_values], dtype=float)
    q = np.array([q for _, q in draw_values], dtype=np.int64)
    return t, y, q


def stream_rows(spec: HistorySpec, t, y, q, cuts: list[int]) -> list[tuple[int, float | None, int]]:
    stream = TagStream(spec, ANALOG)
    rows = []
    bounds = [0, *sorted(set(cuts)), len(t)]
    for a, b in itertools.pairwise(bounds):
        rows += stream.feed(t[a:b], y[a:b], q[a:b])
    return rows + stream.finish()


samples = st.lists(
    st.tuples(st.one_of(st.floats(-50, 50), st.just(NAN)), st.sampled_from([0, 0, 0, 1, 3])), min_size=0, max_size=80
)


@settings(max_examples=150, deadline=None)
@given(samples, st.lists(st.integers(0, 80), max_size=6), st.sampled_from(["sdt", "deadband", "all"]),
       st.floats(0, 5))
def test_any_split_into_batches_stores_the_same_rows(values, cuts, mode, tolerance):
    t, y, q = series(values)
    spec = HistorySpec(mode=mode, deviation=tolerance, deadband=tolerance, max_interval_s=7.0)
    one = stream_rows(spec, t, y, q, [])
    assert stream_rows(spec, t, y, q, [c for c in cuts if c < len(t)]) == one
    times = [r[0] for r in one]
    assert times == sorted(times)
    if mode != "all" and len(t):
        # every change of quality or of having a value is stored, with the sample before it
        for i in range(1, len(t)):
            if q[i] != q[i - 1] or math.isnan(y[i]) != math.isnan(y[i - 1]):
                stored_at = {r[0] for r in one}
                assert round(t[i] * 1e6) in stored_at
                if not math.isnan(y[i - 1]):
                    assert round(t[i - 1] * 1e6) in stored_at


def test_auto_is_swinging_door_for_measurements_and_on_change_for_the_rest():
    assert effective_mode(HistorySpec(), ANALOG) == "sdt"
    assert effective_mode(HistorySpec(), DISCRETE) == "deadband"
    assert effective_mode(HistorySpec(mode="all"), ANALOG) == "all"


def periodic(period: float = 10.0) -> TagStream:
    return TagStream(HistorySpec(mode="periodic", period_s=period), ANALOG)


def test_periodic_stores_the_value_held_at_each_grid_time_from_the_first_tick_on():
    stream = periodic()
    assert stream.tick(1005.0) == []  # nothing received yet
    stream.feed(np.array([1007.0, 1012.0]), np.array([1.0, 2.0]), np.array([0, 0]))
    assert stream.tick(1031.0) == [(1010_000_000, 1.0, 0), (1020_000_000, 2.0, 0), (1030_000_000, 2.0, 0)]
    stream.feed(np.array([1040.0]), np.array([NAN]), np.array([3]))
    assert stream.tick(1045.0) == [(1040_000_000, None, 3)]  # a sample at a grid time counts for it


def test_periodic_samples_with_a_clock_far_behind_do_not_flood_the_history():
    stream = periodic()
    stream.feed(np.array([5.0]), np.array([1.0]), np.array([0]))  # a PLC clock at 1970
    rows = stream.tick(1_700_000_000.0)
    assert len(rows) <= 1
    assert len(stream.tick(1_700_000_000.0 + 10 * 86400 * 365)) == MAX_TICKS + 1  # a clock jump: bounded
