"""MinMaxPyramid: answers exactly what min/max (M4) decimation of the window gives, compiled and twin alike,
through appends and evictions; rejects what would break its order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext import MinMaxPyramid, numpy_twins, pyramid_twins

try:
    from ext import _kernels
except ImportError:
    _kernels = None

IMPLS = [pyramid_twins] + ([_kernels] if _kernels is not None else [])
impl_param = pytest.mark.parametrize("impl", IMPLS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
SETTINGS = settings(max_examples=150, deadline=None, database=None)
NAN, INF = math.nan, math.inf


@st.composite
def appends(draw: st.DrawFn) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ties = draw(st.booleans())
    batches, t0 = [], 1.7e9
    for _ in range(draw(st.integers(1, 12))):
        m = draw(st.sampled_from([0, 1, 3, 17, 200, 1500]))
        t = t0 + np.cumsum(rng.choice([0.0, 0.001, 1.0, 40.0], size=m))
        if ties:
            y = rng.choice([0.0, -0.0, 1.0, -1.0, INF, -INF, NAN], size=m)
        else:
            y = np.cumsum(rng.standard_normal(m))
            y[rng.random(m) < 0.02] = NAN
        batches.append((t, y))
        t0 = t[-1] if m else t0
    return batches


def queries(series: MinMaxPyramid, rng: np.random.Generator) -> list[tuple[float, float, int]]:
    if len(series) == 0:
        return [(0.0, 1.0, 10)]
    lo, hi = series.t[0] - 10, series.t[-1] + 10
    picks = [(lo, hi, 1), (lo, hi, 300), (series.t[0], series.t[-1], 7)]
    for _ in range(6):
        a, b = sorted(rng.uniform(lo, hi, 2))
        picks.append((a, b, int(rng.integers(1, 400))))
    return picks


@pytest.mark.parametrize("block", [2, 4, 16])
@impl_param
@SETTINGS
@given(batches=appends(), seed=st.integers(0, 2**32 - 1))
def test_answers_what_decimating_the_window_gives(impl: object, block: int, batches: list, seed: int) -> None:
    series = MinMaxPyramid(4000, block=block, implementation=impl)
    kept_t, kept_y = np.empty(0), np.empty(0)
    for t, y in batches:
        series.append(t, y)
        kept_t, kept_y = np.concatenate([kept_t, t]), np.concatenate([kept_y, y])
        np.testing.assert_array_equal(series.t, kept_t[len(kept_t) - len(series) :])  # evicted from the front
        np.testing.assert_array_equal(series.y, kept_y[len(kept_y) - len(series) :])
    assert len(series) <= series.capacity
    for t0, t1, n_bins in queries(series, np.random.default_rng(seed)):
        a, b = np.searchsorted(series.t, t0, "left"), np.searchsorted(series.t, t1, "right")
        for with_ends, reference in ((False, numpy_twins.minmax_indices), (True, numpy_twins.m4_indices)):
            got = series.decimate_indices(t0, t1, n_bins, with_ends)
            expected = reference(series.t[a:b], series.y[a:b], n_bins) + a
            np.testing.assert_array_equal(got, expected)
            assert got.dtype == np.intp
            # On a pixel grid fixed in time (a scrolling view): the twin's rule with the bins on the grid
            grid = (t0 - (t1 - t0) * 0.37, t1 + 0.5)
            got = series.decimate_indices(t0, t1, n_bins, with_ends, grid=grid)
            bins = numpy_twins.bin_scale(grid[0], grid[1], n_bins)
            expected = (numpy_twins.select_runs(series.t[a:b], series.y[a:b], n_bins, with_ends, grid[0], bins) + a
                        if b - a > (4 if with_ends else 2) * n_bins else np.arange(a, b))
            np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(_kernels is None, reason="ext._kernels is not compiled")
@SETTINGS
@given(batches=appends())
def test_compiled_levels_equal_the_twins_bit_for_bit(batches: list) -> None:
    compiled = MinMaxPyramid(3000, block=4, implementation=_kernels)
    twin = MinMaxPyramid(3000, block=4, implementation=pyramid_twins)
    for t, y in batches:
        compiled.append(t, y)
        twin.append(t, y)
    for k in range(compiled.depth):
        n = compiled._blocks[k]
        assert n == twin._blocks[k]
        for ours, theirs in zip(compiled._levels[0][k], twin._levels[0][k], strict=True):
            assert ours[:n].tobytes() == theirs[:n].tobytes()


def test_eviction_keeps_whole_top_blocks_and_the_newest_samples() -> None:
    series = MinMaxPyramid(100_000, block=16)
    assert series.depth == 3  # top blocks of 4096 samples: at most ~1/16 of the capacity goes at once
    assert series.evict_unit == 4096
    t = np.arange(250_000, dtype=np.float64)
    for start in range(0, len(t), 7_919):
        series.append(t[start : start + 7_919], np.sin(t[start : start + 7_919]))
    assert series.capacity - series.evict_unit <= len(series) <= series.capacity
    assert series.t[-1] == t[-1]
    assert series.t[0] % series.evict_unit == (len(t) - len(series)) % series.evict_unit
    np.testing.assert_array_equal(series.y, np.sin(series.t))


def test_a_batch_larger_than_the_capacity_keeps_its_newest_samples() -> None:
    series = MinMaxPyramid(1000, block=4)
    series.append(np.arange(5.0), np.zeros(5))
    series.append(np.arange(10.0, 5000.0), np.ones(4990))
    assert series.t[-1] == 4999.0
    assert len(series) == series.capacity - series.evict_unit
    assert (series.y == 1.0).all()


@pytest.mark.parametrize(
    ("t", "message"),
    [([0.0, NAN], "t must be finite"), ([2.0, 1.0], "non-decreasing within a batch"), ([5.0], "back in time")],
)
def test_rejects_an_append_that_breaks_the_order_and_keeps_what_it_has(t: list, message: str) -> None:
    series = MinMaxPyramid(1000)
    series.append([1.0, 9.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=message):
        series.append(t, np.zeros(len(t)))
    np.testing.assert_array_equal(series.t, [1.0, 9.0])


def test_stored_arrays_are_read_only_views() -> None:
    series = MinMaxPyramid(100)
    series.append([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="read-only"):
        series.y[0] = 0.0


@pytest.mark.parametrize(
    ("capacity", "block", "message"),
    [(10, 1, "block must be a power of two"), (100, 12, "block must be a power of two"), (3, 4, "capacity")],
)
def test_rejects_impossible_sizes(capacity: int, block: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MinMaxPyramid(capacity, block=block)


@impl_param
def test_columns_share_times_and_eviction_and_each_has_its_own_levels(impl: object) -> None:
    series = MinMaxPyramid(2000, block=4, columns=2, payload=1, implementation=impl)
    rng = np.random.default_rng(5)
    t = np.arange(5000, dtype=np.float64)
    good, flagged, quality = rng.standard_normal(5000), rng.standard_normal(5000), rng.integers(0, 3, 5000) * 1.0
    for a in range(0, 5000, 333):
        series.append(t[a : a + 333], good[a : a + 333], flagged[a : a + 333], quality[a : a + 333])
    n = len(series)
    np.testing.assert_array_equal(series.column(2), quality[-n:])
    for column, values in ((0, good), (1, flagged)):
        idx = series.decimate_indices(t[-n], t[-1], 50, column=column)
        np.testing.assert_array_equal(idx, numpy_twins.minmax_indices(t[-n:], values[-n:], 50))
    with pytest.raises(ValueError, match="column 2 has no levels"):
        series.decimate_indices(0, 1, 10, column=2)
    with pytest.raises(ValueError, match="expected 3 column"):
        series.append([1e9], [1.0])


def test_a_grid_must_hold_the_window() -> None:
    series = MinMaxPyramid(100)
    series.append([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="must be finite and hold the window"):
        series.decimate_indices(0.0, 5.0, 10, grid=(1.0, 5.0))
