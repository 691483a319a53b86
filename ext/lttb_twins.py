"""MinMaxLTTB: min/max preselection, then Largest-Triangle-Three-Buckets to a target point count.

Van der Donckt et al., "MinMaxLTTB: Leveraging MinMax-Preselection to Scale LTTB" (2023): LTTB keeps the
visual shape of a line better than min/max at the same point count, but is sequential and slow on long
series; a min/max preselection of ``minmax_ratio * n_out`` points first makes it fast at no visible cost.

NaN-aware, as the other decimators: LTTB runs over the preselected points that have a value (±inf count as
values), and the first NaN of every gap in the preselection is kept as well, so gaps stay gaps under
``connect="finite"``. The output therefore has ``n_out`` points plus one per gap.

This module is the reference (NumPy twin); ``ext._kernels`` has the compiled LTTB core with identical
arithmetic (same operation order, no fused multiply-add), and both share the preselection rules below.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np

from ext.numpy_twins import check_series, minmax_indices

DEFAULT_MINMAX_RATIO = 4


def check_lttb(n_out: int, minmax_ratio: int) -> tuple[int, int]:
    """Validate the point budget; TypeError for non-integers, ValueError for values too small."""
    n = operator.index(n_out)
    if n < 3:
        raise ValueError(f"n_out must be >= 3 (LTTB keeps the first and last point and one per bucket), got {n}")
    ratio = operator.index(minmax_ratio)
    if ratio < 2:
        raise ValueError(f"minmax_ratio must be >= 2, got {ratio}")
    return n, ratio


def minmaxlttb_decimate(t: np.ndarray, y: np.ndarray, n_out: int, minmax_ratio: int = DEFAULT_MINMAX_RATIO,
                        assume_sorted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``n_out`` points (plus one per gap) that draw like the whole series; see the module docstring.

    ``assume_sorted`` as for ``minmax_decimate``. Raises ValueError for invalid series (as the other
    decimators), ``n_out < 3`` or ``minmax_ratio < 2``.
    """
    t_arr, y_arr = check_series(t, y)
    idx = minmaxlttb_indices(t_arr, y_arr, n_out, minmax_ratio, assume_sorted)
    return t_arr[idx], y_arr[idx]


def minmaxlttb_indices(t: np.ndarray, y: np.ndarray, n_out: int, minmax_ratio: int = DEFAULT_MINMAX_RATIO,
                       assume_sorted: bool = False) -> np.ndarray:
    """The indices ``minmaxlttb_decimate`` keeps, ascending (intp)."""
    return select(t, y, n_out, minmax_ratio, assume_sorted, minmax_indices, lttb_core)


def select(t: object, y: object, n_out: int, minmax_ratio: int, assume_sorted: bool,
           preselect: Callable[..., np.ndarray], core: Callable[..., np.ndarray]) -> np.ndarray:
    """The algorithm around the LTTB core, shared by both implementations (they pass their own kernels)."""
    t_arr, y_arr = check_series(t, y)
    n_out, ratio = check_lttb(n_out, minmax_ratio)
    n = t_arr.shape[0]
    # Preselection also validates t (finite; sorted unless promised) with the decimators' messages.
    picked = preselect(t_arr, y_arr, max(1, n_out * ratio // 2), assume_sorted=assume_sorted)
    if n <= n_out:
        return picked  # every sample: preselection returns them all for short input
    picked = np.union1d(picked, np.array([0, n - 1], dtype=np.intp))  # LTTB anchors on both ends
    is_nan = np.isnan(y_arr[picked])
    valued = picked[~is_nan]
    gap_starts = picked[is_nan & ~np.concatenate(([False], is_nan[:-1]))]
    if valued.shape[0] > n_out:
        valued = core(t_arr, y_arr, valued, n_out)
    return np.union1d(valued, gap_starts).astype(np.intp, copy=False)


def lttb_core(t: np.ndarray, y: np.ndarray, candidates: np.ndarray, n_out: int) -> np.ndarray:
    """LTTB over ``t[candidates], y[candidates]`` (m > n_out >= 3 points): ``n_out`` of the candidates.

    Bucket i (1..n_out-2) holds candidates [floor((i-1)·every)+1, floor(i·every)+1) with
    every = (m-2)/(n_out-2); each picks the candidate with the largest triangle formed with the point
    picked before it and the mean of the next bucket (the last point for the last bucket). The mean is a
    left-to-right sum divided by the count; the first largest area wins, NaN areas never do (the first
    candidate is taken when every area is NaN, e.g. next to ±inf).
    """
    ct = t[candidates]
    cy = y[candidates]
    m = ct.shape[0]
    every = (m - 2) / (n_out - 2)
    out = np.empty(n_out, dtype=np.intp)
    out[0] = candidates[0]
    out[n_out - 1] = candidates[m - 1]
    with np.errstate(invalid="ignore"):  # ±inf make NaN sums and areas; handled as documented
        _lttb_buckets(ct, cy, candidates, n_out, every, out)
    return out


def _lttb_buckets(ct: np.ndarray, cy: np.ndarray, candidates: np.ndarray, n_out: int, every: float,
                  out: np.ndarray) -> None:
    m = ct.shape[0]
    a = 0
    for i in range(n_out - 2):
        lo = int(i * every) + 1
        hi = int((i + 1) * every) + 1
        next_lo = hi
        next_hi = min(int((i + 2) * every) + 1, m)
        if next_lo >= m - 1 or next_hi <= next_lo:  # the last bucket looks at the last point
            avg_t, avg_y = ct[m - 1], cy[m - 1]
        else:
            count = next_hi - next_lo
            avg_t = np.add.accumulate(ct[next_lo:next_hi])[-1] / count  # left to right, as the compiled loop
            avg_y = np.add.accumulate(cy[next_lo:next_hi])[-1] / count
        at, ay = ct[a], cy[a]
        area = np.abs((at - avg_t) * (cy[lo:hi] - ay) - (at - ct[lo:hi]) * (avg_y - ay))
        area[np.isnan(area)] = -1.0
        best = lo + int(np.argmax(area))  # first of equal maxima
        out[i + 1] = candidates[best]
        a = best
