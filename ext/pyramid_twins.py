"""NumPy twins of the min/max pyramid kernels (compiled versions in ``ext._kernels``).

A level k >= 1 summarises blocks of ``block**k`` consecutive samples, each as five numbers: the first
minimum and the first maximum (value and sample index; NaN skipped, ±inf are values) and the index of its
first NaN; -1 (index) and NaN (value) where the block has none. Level 1 is reduced from the samples, level
k+1 from ``block`` blocks of level k; both sides compute each block identically, so the levels are equal
bit for bit. ``pyramid_select`` is the reference for a query: exactly ``minmax_indices``/``m4_indices`` of
the samples in the window, which the compiled version answers from the levels in O(bins · block · levels).
"""

from __future__ import annotations

import numpy as np

from ext.numpy_twins import bin_scale, check_n_bins, m4_indices, minmax_indices, select_runs

MAX_DEPTH = 16  # levels above the samples; the compiled query keeps their pointers in fixed arrays
Level = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # lo, lo_at, hi, hi_at, nan_at


def reduce_samples(y: np.ndarray, block: int, first: int, stop: int, level: Level) -> None:
    """Write level-1 blocks [first, stop) reduced from ``y`` into ``level``."""
    if stop <= first:
        return
    rows = y[first * block : stop * block].reshape(-1, block)
    base = first * block + np.arange(stop - first)[:, None] * block
    _reduce_rows(rows, base + np.arange(block)[None, :], first, stop, level)


def reduce_level(below: Level, block: int, first: int, stop: int, level: Level) -> None:
    """Write blocks [first, stop) of the next level up, each from ``block`` blocks of ``below``."""
    if stop <= first:
        return
    b_lo, b_lo_at, b_hi, b_hi_at, b_nan_at = (a[first * block : stop * block].reshape(-1, block) for a in below)
    lo, lo_at, hi, hi_at, nan_at = level
    lo[first:stop], lo_at[first:stop] = _first_extreme(b_lo, b_lo_at, np.fmin)
    hi[first:stop], hi_at[first:stop] = _first_extreme(b_hi, b_hi_at, np.fmax)
    nan_at[first:stop] = _first_valid(b_nan_at)


def _reduce_rows(rows: np.ndarray, index: np.ndarray, first: int, stop: int, level: Level) -> None:
    lo, lo_at, hi, hi_at, nan_at = level
    lo[first:stop], lo_at[first:stop] = _first_extreme(rows, index, np.fmin)
    hi[first:stop], hi_at[first:stop] = _first_extreme(rows, index, np.fmax)
    nan_index = np.where(np.isnan(rows), index, -1)
    nan_at[first:stop] = _first_valid(nan_index)


def _first_extreme(values: np.ndarray, index: np.ndarray, reduce: np.ufunc) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the NaN-skipping extreme and the index (from ``index``) of its first occurrence, -1 if none.

    The value stored is the one at that occurrence (so -0.0 and 0.0 come out as the compiled loop keeps them).
    """
    extreme = reduce.reduce(values, axis=1)
    hit = values == extreme[:, None]  # a NaN extreme (nothing but NaN) matches nothing
    found = hit.any(axis=1)
    rows, first = np.arange(len(values)), hit.argmax(axis=1)
    at = np.where(found, index[rows, first], -1).astype(np.intp, copy=False)
    return np.where(found, values[rows, first], np.nan), at


def _first_valid(index: np.ndarray) -> np.ndarray:
    """Per row, the first entry that is not -1, or -1."""
    valid = index >= 0
    return np.where(valid.any(axis=1), index[np.arange(len(index)), valid.argmax(axis=1)], -1).astype(np.intp)


def pyramid_select(t: np.ndarray, y: np.ndarray, levels: list[Level], block: int, i0: int, i1: int, n_bins: int,
                   with_ends: bool, grid: tuple[float, float] | None = None) -> np.ndarray:
    """Indices (into t, y) that min/max (or M4) decimation of the samples [i0, i1) keeps.

    The bins split [t[i0], t[i1 - 1]] as for ``minmax_indices``, or the given ``grid`` (g0, g1) when there is
    one (a view's pixel columns, fixed in time however the samples fall).
    """
    del levels, block  # the reference reads every sample
    if grid is None:
        select = m4_indices if with_ends else minmax_indices
        return select(t[i0:i1], y[i0:i1], n_bins) + i0
    n_bins = check_n_bins(n_bins)
    if i1 - i0 <= (4 if with_ends else 2) * n_bins:
        return np.arange(i0, i1, dtype=np.intp)
    g0, g1 = grid
    return select_runs(t[i0:i1], y[i0:i1], n_bins, with_ends, g0, bin_scale(g0, g1, n_bins)) + i0
