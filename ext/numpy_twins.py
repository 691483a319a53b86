"""Pure NumPy versions of the kernels in ``_kernels.pyx``.

These are the reference semantics: the compiled kernels must give the same results (tests/ext compares
the outputs bit for bit) and raise the same errors, using the helpers below. They are also what
runs when the extension is not built, so they stay vectorised: no Python loop over samples or bins.
"""

from __future__ import annotations

import math
import operator

import numpy as np

NONFINITE_T_MESSAGE = "t must be finite: a NaN or inf timestamp has no place on a time axis"


def as_1d_float64(a: object, name: str) -> np.ndarray:
    """Return ``a`` as a 1-D float64 array (no copy when it already is one); ValueError otherwise."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def check_series(t: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (t, y) pair as two 1-D float64 arrays of the same length."""
    t_arr = as_1d_float64(t, "t")
    y_arr = as_1d_float64(y, "y")
    if t_arr.shape[0] != y_arr.shape[0]:
        raise ValueError(f"t and y must have the same length, got {t_arr.shape[0]} and {y_arr.shape[0]}")
    return t_arr, y_arr


def check_n_bins(n_bins: int) -> int:
    """Return ``n_bins`` as an int >= 1; TypeError for non-integers, ValueError below 1."""
    n = operator.index(n_bins)
    if n < 1:
        raise ValueError(f"n_bins must be >= 1, got {n}")
    return n


def bin_scale(t0: float, t1: float, n_bins: int) -> float:
    """Factor mapping ``t - t0`` to a bin position, or 0.0 when [t0, t1] cannot be split into bins.

    That is the case for an empty or reversed span, and for spans so large (overflow to inf) or so small
    (``n_bins / span`` overflows) that the product would be inf or NaN; everything then goes to bin 0.
    Shared by both implementations so that they agree on every bin edge.
    """
    span = float(t1) - float(t0)
    if not span > 0.0:
        return 0.0
    scale = n_bins / span
    return scale if math.isfinite(scale) else 0.0


def minmax_decimate(t: np.ndarray, y: np.ndarray, n_bins: int,
                    assume_sorted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a series to the points that matter when drawn ``n_bins`` pixels wide.

    [t[0], t[-1]] is split into ``n_bins`` equal bins; sample i falls in bin
    ``clip(floor((t[i] - t[0]) * (n_bins / (t[-1] - t[0]))), 0, n_bins - 1)``. For each run of consecutive
    samples in the same bin the output keeps, in input order and without duplicates:

    - the first sample holding the minimum and the first holding the maximum of the non-NaN values
      (±inf count as values: they are real extremes);
    - the first NaN sample, if any, so that the gap still breaks the line under pyqtgraph's
      ``connect="finite"``. A run with only NaN samples therefore yields one NaN point.

    With ascending t (the contract) a run is a bin, so the output has at most ``2 * n_bins`` points, or
    ``3 * n_bins`` if y has NaN. Descending steps in t are tolerated (a clock stepping back is a real event):
    each run is reduced on its own, so the output is still a subsequence of the input and never longer.

    The output is always a pair of new float64 arrays holding a subsequence of the input samples; when
    ``len(t) <= 2 * n_bins`` it is simply a copy of the input.

    ``assume_sorted=True`` is a promise that t is finite and non-decreasing, as MinMaxPyramid and the
    historian guarantee: the compiled kernel then reads t only at bin edges (a binary search) instead of
    checking every timestamp, which halves the memory it reads. If the promise is broken the output is
    unspecified, though still a subsequence of the input. The NumPy twin checks t regardless.

    Raises ValueError if t or y is not 1-D, their lengths differ, ``n_bins < 1`` or t is not finite.
    """
    return _decimate(t, y, n_bins, with_ends=False)


def m4_decimate(t: np.ndarray, y: np.ndarray, n_bins: int,
                assume_sorted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """M4: like ``minmax_decimate``, and each run also keeps its first and its last sample, so the
    line drawn into and out of every pixel column is the true one (at most 4 points per bin, 5 with
    a NaN). A copy of the input when ``len(t) <= 4 * n_bins``."""
    return _decimate(t, y, n_bins, with_ends=True)


def minmax_indices(t: np.ndarray, y: np.ndarray, n_bins: int, assume_sorted: bool = False) -> np.ndarray:
    """The indices ``minmax_decimate`` keeps, ascending (intp), so other columns can ride along."""
    return _decimate_indices(t, y, n_bins, with_ends=False)


def m4_indices(t: np.ndarray, y: np.ndarray, n_bins: int, assume_sorted: bool = False) -> np.ndarray:
    """The indices ``m4_decimate`` keeps, ascending (intp)."""
    return _decimate_indices(t, y, n_bins, with_ends=True)


def _decimate(t: np.ndarray, y: np.ndarray, n_bins: int, with_ends: bool) -> tuple[np.ndarray, np.ndarray]:
    t_arr, y_arr = check_series(t, y)
    idx = _decimate_indices(t_arr, y_arr, n_bins, with_ends)
    return t_arr[idx], y_arr[idx]


def _decimate_indices(t: np.ndarray, y: np.ndarray, n_bins: int, with_ends: bool) -> np.ndarray:
    t_arr, y_arr = check_series(t, y)
    n_bins = check_n_bins(n_bins)
    if not np.isfinite(t_arr).all():
        raise ValueError(NONFINITE_T_MESSAGE)
    n = t_arr.shape[0]
    if n <= (4 if with_ends else 2) * n_bins:
        return np.arange(n, dtype=np.intp)

    return select_runs(t_arr, y_arr, n_bins, with_ends, t_arr[0], bin_scale(t_arr[0], t_arr[-1], n_bins))


def select_runs(t_arr: np.ndarray, y_arr: np.ndarray, n_bins: int, with_ends: bool, t_first: float,
                scale: float) -> np.ndarray:
    """The decimation rule with the bins placed explicitly: sample i is in bin
    ``clip(floor((t[i] - t_first) * scale), 0, n_bins - 1)`` (``scale == 0``: all in bin 0)."""
    n = t_arr.shape[0]
    if scale == 0.0:
        starts = np.zeros(1, dtype=np.intp)
    else:
        with np.errstate(over="ignore"):  # only out-of-range times (t not ascending) overflow; clipped
            pos = np.subtract(t_arr, t_first)
            pos *= scale
        np.clip(pos, 0.0, n_bins - 1, out=pos)
        bins = pos.astype(np.intp)
        del pos
        starts = np.flatnonzero(bins[1:] != bins[:-1]) + 1
        starts = np.concatenate(([0], starts)).astype(np.intp, copy=False)
    lengths = np.diff(starts, append=n)

    picks = [_first_nan(y_arr, starts, lengths)]
    if with_ends:
        picks += [starts, starts + lengths - 1]
    lo = np.fmin.reduceat(y_arr, starts)  # fmin/fmax skip NaN; a run with no number gives NaN
    hi = np.fmax.reduceat(y_arr, starts)
    has_value = ~np.isnan(lo)
    for extreme in (lo, hi):
        picks.append(_first_equal(y_arr, extreme, starts, lengths)[has_value])
    return np.unique(np.concatenate(picks)).astype(np.intp, copy=False)  # runs are index ranges: sorted = time order


def _first_nan(y: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Index of the first NaN of each run that has one."""
    nan_at = np.flatnonzero(np.isnan(y))
    if nan_at.size == 0:
        return nan_at
    j = np.searchsorted(nan_at, starts)
    candidate = nan_at[np.minimum(j, nan_at.size - 1)]
    inside = (j < nan_at.size) & (candidate < starts + lengths)
    return candidate[inside]


def _first_equal(y: np.ndarray, per_run: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each run, the index of the first sample equal to the run's value in ``per_run``.

    Runs whose value is NaN match nothing; their entry is garbage and the caller masks it out.
    """
    hits = np.flatnonzero(y == np.repeat(per_run, lengths))
    if hits.size == 0:
        return np.zeros(starts.shape[0], dtype=np.intp)
    return hits[np.minimum(np.searchsorted(hits, starts), hits.size - 1)]


def nan_aware_minmax(y: np.ndarray) -> tuple[float, float]:
    """Min and max of the finite values of y, for autoscaling; (nan, nan) when there are none.

    ±inf are skipped as well as NaN: an axis range cannot extend to infinity.
    """
    y_arr = as_1d_float64(y, "y")
    finite = y_arr[np.isfinite(y_arr)]
    if finite.size == 0:
        return float("nan"), float("nan")
    return float(finite.min()), float(finite.max())


def check_batch_times(t: np.ndarray, latest: float | None) -> None:
    """A batch of times for a live series: finite, non-decreasing, and not before the latest stored one."""
    if not np.isfinite(t).all():
        raise ValueError(NONFINITE_T_MESSAGE)
    if (t[1:] < t[:-1]).any():
        raise ValueError("t must be non-decreasing within a batch")
    if latest is not None and t[0] < latest:
        raise ValueError(f"t must not go back in time: batch starts at {t[0]!r}, latest sample is at {latest!r}")
