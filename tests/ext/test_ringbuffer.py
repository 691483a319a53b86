"""RingBuffer: a fixed-capacity live series, checked against a plain list model."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ext
from ext import numpy_twins
from ext.numpy_twins import RingBuffer


def filled(capacity: int, t: list[float], y: list[float] | None = None) -> RingBuffer:
    buf = RingBuffer(capacity)
    buf.append(np.array(t, dtype=np.float64), np.array(t if y is None else y, dtype=np.float64))
    return buf


def test_exported_from_ext() -> None:
    assert ext.RingBuffer is numpy_twins.RingBuffer


def test_empty() -> None:
    buf = RingBuffer(4)
    assert len(buf) == 0
    assert buf.capacity == 4
    assert buf.latest() is None
    t, y = buf.window(-math.inf, math.inf)
    assert t.shape == y.shape == (0,)
    assert t.dtype == y.dtype == np.float64


@pytest.mark.parametrize("capacity", [0, -1])
def test_capacity_must_be_positive(capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        RingBuffer(capacity)


def test_capacity_must_be_an_integer() -> None:
    with pytest.raises(TypeError):
        RingBuffer(4.0)  # type: ignore[arg-type]


def test_wraps_and_keeps_the_newest() -> None:
    buf = filled(5, [0, 1, 2])
    buf.append(np.array([3.0, 4.0, 5.0, 6.0]), np.array([30.0, 40.0, 50.0, 60.0]))
    assert len(buf) == 5
    t, y = buf.window(-math.inf, math.inf)
    np.testing.assert_array_equal(t, [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(y, [2, 30, 40, 50, 60])
    assert buf.latest() == (6.0, 60.0)


def test_batch_larger_than_capacity_keeps_its_tail() -> None:
    buf = filled(3, [0, 1])
    buf.append(np.arange(10.0, 20.0), np.arange(10.0) * -1)
    t, y = buf.window(-math.inf, math.inf)
    np.testing.assert_array_equal(t, [17, 18, 19])
    np.testing.assert_array_equal(y, [-7, -8, -9])
    assert buf.latest() == (19.0, -9.0)


def test_window_bounds_are_inclusive_across_the_wrap() -> None:
    buf = filled(6, [0, 1, 2, 3])
    buf.append(np.array([4.0, 5.0, 5.0, 6.0]), np.array([4.0, 5.0, 5.5, 6.0]))  # wraps after index 5
    np.testing.assert_array_equal(buf.window(3, 5)[0], [3, 4, 5, 5])
    np.testing.assert_array_equal(buf.window(3, 5)[1], [3, 4, 5, 5.5])
    np.testing.assert_array_equal(buf.window(5, 5)[1], [5, 5.5])
    np.testing.assert_array_equal(buf.window(2.5, 4.5)[0], [3, 4])
    assert buf.window(6.5, 100)[0].size == 0
    assert buf.window(-5, 1.5)[0].size == 0  # 0 and 1 were overwritten


@pytest.mark.parametrize(("start", "end"), [(3.0, 2.0), (math.nan, 5.0), (0.0, math.nan)])
def test_empty_or_undefined_window(start: float, end: float) -> None:
    t, y = filled(8, [0, 1, 2, 3, 4]).window(start, end)
    assert t.size == y.size == 0


def test_window_returns_independent_contiguous_copies() -> None:
    buf = filled(4, [0, 1, 2])
    buf.append(np.array([3.0, 4.0]), np.array([3.0, 4.0]))  # wrapped: two segments
    for t_start in (-1.0, 2.0):  # spanning the wrap, and within one segment
        t, y = buf.window(t_start, 10.0)
        assert t.flags.c_contiguous
        assert y.flags.c_contiguous
        t[:] = -1
        y[:] = -1
    np.testing.assert_array_equal(buf.window(-1, 10)[1], [1, 2, 3, 4])


def test_append_copies_its_input() -> None:
    t, y = np.array([0.0, 1.0]), np.array([5.0, 6.0])
    buf = RingBuffer(4)
    buf.append(t, y)
    y[:] = 0
    np.testing.assert_array_equal(buf.window(0, 1)[1], [5, 6])


def test_nan_and_inf_values_are_kept() -> None:
    buf = filled(4, [0, 1, 2], [math.nan, math.inf, -math.inf])
    np.testing.assert_array_equal(buf.window(0, 2)[1], [math.nan, math.inf, -math.inf])


def test_repeated_timestamps_are_allowed() -> None:
    buf = filled(4, [1, 1])
    buf.append(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(buf.window(1, 1)[1], [1, 1, 3])


def test_clear() -> None:
    buf = filled(3, [0, 1, 2, 3])
    buf.clear()
    assert len(buf) == 0
    assert buf.latest() is None
    assert buf.capacity == 3
    buf.append(np.array([-5.0]), np.array([1.0]))  # an older time is fine after clear()
    assert buf.latest() == (-5.0, 1.0)


@pytest.mark.parametrize(
    ("t", "y", "match"),
    [
        (np.zeros((2, 2)), np.zeros(4), "t must be 1-D"),
        (np.zeros(3), np.zeros(2), "same length"),
        (np.array([10.0, math.nan]), np.zeros(2), "t must be finite"),
        (np.array([10.0, math.inf]), np.zeros(2), "t must be finite"),
        (np.array([10.0, 12.0, 11.0]), np.zeros(3), "non-decreasing within a batch"),
        (np.array([4.0, 20.0]), np.zeros(2), "must not go back in time"),
    ],
)
def test_bad_batches_are_rejected_whole(t: np.ndarray, y: np.ndarray, match: str) -> None:
    buf = filled(4, [3, 4, 5])
    with pytest.raises(ValueError, match=match):
        buf.append(t, y)
    assert len(buf) == 3
    np.testing.assert_array_equal(buf.window(-math.inf, math.inf)[0], [3, 4, 5])


def test_append_does_not_copy_the_buffer() -> None:
    """Appending small batches to a large buffer allocates about the batch, not the capacity."""
    buf = RingBuffer(1_000_000)  # 16 MB of storage
    t = np.arange(100, dtype=np.float64)
    buf.append(t, t)
    tracemalloc.start()
    try:
        for k in range(1, 50):
            buf.append(t + 100 * k, t)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000
    assert len(buf) == 5000


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[list[float], list[float]]]:
    """Batches of non-decreasing times (with repeats), some empty, some larger than the buffer."""
    now = draw(st.floats(-1e6, 1e6))
    out = []
    for _ in range(draw(st.integers(0, 12))):
        steps = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), max_size=15))
        t = [now + s for s in np.cumsum(steps).tolist()] if steps else []
        now = t[-1] if t else now
        out.append((t, draw(st.lists(st.floats(), min_size=len(t), max_size=len(t)))))
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(
    capacity=st.integers(1, 20),
    history=batches(),
    bounds=st.lists(st.tuples(st.floats(-2e6, 2e6), st.floats(-2e6, 2e6)), max_size=5),
)
def test_matches_list_model(
    capacity: int, history: list[tuple[list[float], list[float]]], bounds: list[tuple[float, float]]
) -> None:
    buf = RingBuffer(capacity)
    model: list[tuple[float, float]] = []
    for t, y in history:
        buf.append(np.array(t, dtype=np.float64), np.array(y, dtype=np.float64))
        model = (model + list(zip(t, y, strict=True)))[-capacity:]
        assert len(buf) == len(model)
        if model:
            np.testing.assert_array_equal(buf.latest(), model[-1])
        else:
            assert buf.latest() is None
        all_t, all_y = buf.window(-math.inf, math.inf)
        np.testing.assert_array_equal(all_t, [p[0] for p in model])
        np.testing.assert_array_equal(all_y, [p[1] for p in model])
    if model:  # windows whose edges sit exactly on stored samples, plus random ones
        bounds = [*bounds, (model[0][0], model[-1][0]), (model[len(model) // 2][0], model[-1][0])]
    for lo, hi in bounds:
        expected = [p for p in model if lo <= p[0] <= hi]
        got_t, got_y = buf.window(lo, hi)
        np.testing.assert_array_equal(got_t, [p[0] for p in expected])
        np.testing.assert_array_equal(got_y, [p[1] for p in expected])
