"""Aggregates per interval agree with the signal the query rules define (checked by brute force on a fine
grid), fill intervals a line crosses without a sample, and never count time Linewise was not acquiring."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmi.storage.aggregates import aggregate
from hmi.storage.queries import NOT_ACQUIRING, RawSeries, interpolate

NAN = math.nan


def raw(*samples: tuple[float, float, int]) -> RawSeries:
    t, v, q = zip(*samples, strict=True)
    return RawSeries(np.array(t, float), np.array(v, float), np.array(q, dtype=np.int64))


def test_a_ramp_per_minute_and_a_held_value_through_empty_intervals():
    out = aggregate(raw((0.0, 0.0, 0), (60.0, 60.0, 0), (300.0, 60.0, 0)), 0.0, 360.0, 60.0, analog=True, now=360.0)
    assert list(out.count) == [1, 1, 0, 0, 0, 1]
    assert out.time_weighted[0] == pytest.approx(30.0)
    assert (out.min[0], out.max[0]) == (0.0, 60.0)
    # 60 -> 60 through the empty minutes: a flat line, known and good
    np.testing.assert_allclose(out.time_weighted[1:], 60.0)
    np.testing.assert_allclose(out.good_fraction, 1.0)
    assert math.isnan(out.first[2])
    assert out.first[1] == 60.0


def test_nothing_is_known_while_not_acquiring():
    samples = raw((0.0, 1.0, 0), (100.0, NAN, NOT_ACQUIRING), (250.0, NAN, NOT_ACQUIRING), (250.0, 3.0, 0))
    out = aggregate(samples, 0.0, 300.0, 50.0, analog=True, now=300.0)
    np.testing.assert_allclose(out.time_weighted[:2], 1.0)
    assert np.isnan(out.time_weighted[2:5]).all()  # 100 .. 250: stopped
    assert out.time_weighted[5] == 3.0


series = st.lists(st.tuples(st.floats(0, 1000), st.one_of(st.floats(-100, 100), st.just(NAN)),
                            st.sampled_from([0, 0, 0, 1])), min_size=1, max_size=25)


@settings(max_examples=80, deadline=None)
@given(series, st.booleans(), st.sampled_from([37.0, 100.0, 250.0]))
def test_time_weighted_mean_min_and_max_match_the_signal(points, analog, interval):
    points.sort(key=lambda p: p[0])
    data = raw(*points)
    end = 1200.0
    out = aggregate(data, 0.0, end, interval, analog=analog, now=end)
    for k, start in enumerate(out.start):
        lo, hi = max(start, 0.0), min(start + interval, end)
        fine = np.linspace(lo, hi, 4001)[:-1] + (hi - lo) / 8000  # midpoints of a fine grid
        signal = interpolate(data, fine, linear=analog)
        good = (signal.quality == 0) & ~np.isnan(signal.value)
        if good.sum() < 40:
            continue  # a sliver: the midpoint rule cannot judge it
        expected = signal.value[good].mean()
        span = np.ptp(signal.value[good]) + 1.0
        assert out.time_weighted[k] == pytest.approx(expected, abs=0.02 * span)
        assert out.min[k] <= signal.value[good].min() + 1e-9
        assert out.max[k] >= signal.value[good].max() - 1e-9
        stored = (data.t >= start) & (data.t < start + interval)
        assert out.count[k] == stored.sum()
