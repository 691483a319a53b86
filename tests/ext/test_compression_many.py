"""Many series in one call (the historian's writer): exactly one `*_stream` call per segment, compiled and
twin alike, states included; errors name the segment."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext import compression_twins as twins
from tests.ext.test_compression import series

SETTINGS = settings(max_examples=200, deadline=None, database=None)
kernels = pytest.importorskip("ext._compression", reason="ext._compression is not compiled")
KINDS = [("sdt_stream", "sdt_stream_many", twins.SdtState), ("deadband_stream", "deadband_stream_many",
                                                              twins.DeadbandState)]


def same_state(a, b) -> bool:
    """Field by field, NaN equal to NaN (a dataclass's == says NaN != NaN)."""
    return type(a) is type(b) and all(x == y or (x != x and y != y)
                                      for x, y in zip(dataclasses.astuple(a), dataclasses.astuple(b), strict=True))


def one_call_each(kind: str, parts, params, max_intervals, states):
    stream = getattr(twins, kind)
    out = [stream(t, y, p, m, s) for (t, y), p, m, s in zip(parts, params, max_intervals, states, strict=True)]
    segment = np.concatenate([np.full(len(o[0]), i) for i, o in enumerate(out)]) if out else np.empty(0)
    times = np.concatenate([o[0] for o in out]) if out else np.empty(0)
    values = np.concatenate([o[1] for o in out]) if out else np.empty(0)
    return segment, times, values, [o[2] for o in out]


@pytest.mark.parametrize(("kind", "many", "state_type"), KINDS)
@SETTINGS
@given(parts=st.lists(series(), max_size=8), params=st.lists(st.floats(0, 100), min_size=8, max_size=8),
       max_interval=st.sampled_from([math.inf, 0.5, 5.0]), warm=st.booleans())
def test_many_is_one_call_per_segment(kind, many, state_type, parts, params, max_interval, warm):
    params = params[:len(parts)]
    states = [None] * len(parts)
    if warm:  # a stream already going: the first half of each series goes through the single call first
        halves = [(t[: len(t) // 2], y[: len(y) // 2]) for t, y in parts]
        states = [getattr(twins, kind)(t, y, p, max_interval)[2] for (t, y), p in zip(halves, params, strict=True)]
        parts = [(t[len(t) // 2:], y[len(y) // 2:]) for t, y in parts]
    expected = one_call_each(kind, parts, params, [max_interval] * len(parts), states)
    t = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
    y = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
    starts = np.cumsum([0] + [len(p[0]) for p in parts[:-1]]) if parts else np.empty(0, np.int64)
    for impl in (twins, kernels):
        segment, times, values, after = getattr(impl, many)(t, y, starts, np.array(params), max_interval, states)
        np.testing.assert_array_equal(segment, expected[0])
        np.testing.assert_array_equal(times, expected[1])
        np.testing.assert_array_equal(values, expected[2])  # NaN == NaN here
        assert [same_state(a, b) for a, b in zip(after, expected[3], strict=True)] == [True] * len(after)
        assert all(type(s) is state_type for s in after)


@pytest.mark.parametrize("impl", [twins, kernels], ids=["twin", "compiled"])
@pytest.mark.parametrize(("kind", "many", "state_type"), KINDS)
def test_a_segment_going_back_is_named(impl, kind, many, state_type):
    t = np.array([0.0, 1.0, 2.0, 5.0, 4.0])
    with pytest.raises(ValueError, match="segment 1: t must not decrease"):
        getattr(impl, many)(t, np.zeros(5), np.array([0, 3]), 0.1, math.inf, [None, None])
    with pytest.raises(ValueError, match="segment 0: t must not decrease"):
        getattr(impl, many)(np.array([3.0]), np.zeros(1), np.array([0]), 0.1, math.inf, [state_type(last_t=5.0)])


@pytest.mark.parametrize("impl", [twins, kernels], ids=["twin", "compiled"])
def test_bad_segments_and_parameters(impl):
    t = np.arange(4.0)
    with pytest.raises(ValueError, match="starts must begin at 0"):
        impl.sdt_stream_many(t, t, np.array([1]), 0.1, math.inf, [None])
    with pytest.raises(ValueError, match="one state"):
        impl.sdt_stream_many(t, t, np.array([0, 2]), 0.1, math.inf, [None])
    with pytest.raises(ValueError, match="deviation must be finite"):
        impl.sdt_stream_many(t, t, np.array([0]), -1.0, math.inf, [None])
    with pytest.raises(TypeError, match="DeadbandState"):
        impl.deadband_stream_many(t, t, np.array([0]), 0.1, math.inf, [twins.SdtState()])
