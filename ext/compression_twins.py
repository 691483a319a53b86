"""History compression, pure Python/NumPy: swinging-door trending (SDT) and a deadband filter.

These are the twins of the compiled kernels in ``ext._kernels`` (same arguments, same checks,
identical output); the historian uses whichever ``ext`` exports.

SDT bound: every input point with a finite value lies within ``deviation`` of the straight line
between the two kept points around it (linear interpolation), and kept points are at most
``max_interval`` apart unless the input itself has a longer gap. The doors are checked against the
real endpoint, not the ideal slope, so the bound is exact rather than the classic "about 2x".
Non-finite values (bad-quality gaps) are always kept, with the last finite point before them and
the first after, so gaps stay gaps. The first and the last point are always kept.
"""

from __future__ import annotations

import math

import numpy as np

from ext.numpy_twins import NONFINITE_T_MESSAGE, check_series

DECREASING_T_MESSAGE = "t must not decrease: history is compressed in time order"


def check_compression(t: object, y: object, deviation: float, max_interval: float,
                      name: str = "deviation") -> tuple[np.ndarray, np.ndarray]:
    """Shapes and parameters; the time checks (finite, not decreasing) are `check_times`, which the
    compiled kernels do inside their loop instead (a separate pass cost more than the compression)."""
    t_arr, y_arr = check_series(t, y)
    if not deviation >= 0 or not math.isfinite(deviation):
        raise ValueError(f"{name} must be a finite number >= 0, not {deviation!r}")
    if not max_interval > 0:
        raise ValueError(f"max_interval must be > 0 seconds (inf for none), not {max_interval!r}")
    return t_arr, y_arr


def check_times(t: np.ndarray) -> None:
    if not np.isfinite(t).all():
        raise ValueError(NONFINITE_T_MESSAGE)
    if t.shape[0] > 1 and (np.diff(t) < 0).any():
        raise ValueError(DECREASING_T_MESSAGE)


def sdt_compress(t: np.ndarray, y: np.ndarray, deviation: float, max_interval: float = math.inf) -> np.ndarray:
    """Indices of the points to keep (ascending)."""
    t_arr, y_arr = check_compression(t, y, deviation, max_interval)
    check_times(t_arr)
    n = t_arr.shape[0]
    if n <= 2:
        return np.arange(n, dtype=np.intp)
    tl, yl = t_arr.tolist(), y_arr.tolist()
    keep = [0]
    pivot = 0
    upper, lower = -math.inf, math.inf  # the slope range that keeps every point since the pivot within the doors
    for i in range(1, n):
        ti, yi = tl[i], yl[i]
        prev = i - 1
        if not math.isfinite(yi) or not math.isfinite(yl[pivot]):
            # a gap, or the first point after one: both ends of it are kept, no line crosses it
            if prev != keep[-1]:
                keep.append(prev)
            keep.append(i)
            pivot, upper, lower = i, -math.inf, math.inf
            continue
        dt = ti - tl[pivot]
        if dt > max_interval and prev != pivot:
            keep.append(prev)
            pivot, upper, lower = prev, -math.inf, math.inf
            dt = ti - tl[pivot]
        if dt <= 0.0:  # same time as the pivot: a vertical step, keep it as the new pivot
            keep.append(i)
            pivot, upper, lower = i, -math.inf, math.inf
            continue
        inv = 1.0 / dt  # one division per point: the bounds below multiply (the kernel does the same)
        slope = (yi - yl[pivot]) * inv
        if not upper <= slope <= lower:  # the line to i would leave a door for some point in between
            keep.append(prev)
            pivot = prev
            dt = ti - tl[pivot]
            if dt <= 0.0:
                keep.append(i)
                pivot, upper, lower = i, -math.inf, math.inf
                continue
            upper, lower = -math.inf, math.inf
            inv = 1.0 / dt
        upper = max(upper, (yi - yl[pivot] - deviation) * inv)
        lower = min(lower, (yi - yl[pivot] + deviation) * inv)
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return np.asarray(keep, dtype=np.intp)


def deadband_filter(t: np.ndarray, y: np.ndarray, deadband: float, max_interval: float = math.inf) -> np.ndarray:
    """Indices of the points to keep: the first, each one that moved more than ``deadband`` from
    the last kept value, one at least every ``max_interval``, and every change into or out of a
    non-finite value (a step-hold reconstruction is then within ``deadband`` everywhere)."""
    t_arr, y_arr = check_compression(t, y, deadband, max_interval, "deadband")
    check_times(t_arr)
    n = t_arr.shape[0]
    if n == 0:
        return np.arange(0, dtype=np.intp)
    tl, yl = t_arr.tolist(), y_arr.tolist()
    keep = [0]
    last_t, last_y = tl[0], yl[0]
    for i in range(1, n):
        yi = yl[i]
        finite, last_finite = math.isfinite(yi), math.isfinite(last_y)
        if (finite != last_finite or (not finite and not _same(yi, last_y))
                or (finite and abs(yi - last_y) > deadband) or tl[i] - last_t >= max_interval):
            keep.append(i)
            last_t, last_y = tl[i], yi
    return np.asarray(keep, dtype=np.intp)


def _same(a: float, b: float) -> bool:
    """Non-finite values are 'the same' when both are NaN or both the same infinity."""
    return (math.isnan(a) and math.isnan(b)) or a == b
