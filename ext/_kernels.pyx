# cython: language_level=3, annotation_typing=False
"""Compiled kernels for the trend widget: a single pass over the samples, without the GIL.

Semantics, argument checks and error messages are those of ``ext.numpy_twins`` (shared helpers are
imported from there); the parity tests in tests/ext hold the two to identical output. Annotations are
documentation only (annotation_typing=False): ``n_bins`` must accept any integer, e.g. ``np.int64``.
"""

import numpy as np

from libc.float cimport DBL_MAX
from libc.math cimport INFINITY, fabs, isfinite, isnan

from ext.compression_twins import DECREASING_T_MESSAGE, check_compression
from ext.numpy_twins import NONFINITE_T_MESSAGE, as_1d_float64, bin_scale, check_n_bins, check_series

cdef enum:  # _select_minmax failures, as negative counts
    OUT_FULL = -1
    T_NOT_FINITE = -2


def minmax_decimate(t, y, n_bins, assume_sorted=False):
    """Reduce a series to the points that matter when drawn ``n_bins`` pixels wide.

    See ``ext.numpy_twins.minmax_decimate`` for the exact rules; the result is identical.
    """
    t_arr, y_arr = check_series(t, y)
    idx = _decimate_indices(t_arr, y_arr, n_bins, False, assume_sorted)
    return t_arr[idx], y_arr[idx]


def m4_decimate(t, y, n_bins, assume_sorted=False):
    """M4: min, max, first and last of every pixel column. See ``ext.numpy_twins.m4_decimate``."""
    t_arr, y_arr = check_series(t, y)
    idx = _decimate_indices(t_arr, y_arr, n_bins, True, assume_sorted)
    return t_arr[idx], y_arr[idx]


def minmax_indices(t, y, n_bins, assume_sorted=False):
    """The indices ``minmax_decimate`` keeps, ascending (intp)."""
    return _decimate_indices(t, y, n_bins, False, assume_sorted)


def m4_indices(t, y, n_bins, assume_sorted=False):
    """The indices ``m4_decimate`` keeps, ascending (intp)."""
    return _decimate_indices(t, y, n_bins, True, assume_sorted)


def _decimate_indices(t, y, n_bins, bint with_ends, bint assume_sorted):
    t_arr, y_arr = check_series(t, y)
    n_bins = check_n_bins(n_bins)
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    cdef Py_ssize_t n = tv.shape[0]
    cdef Py_ssize_t nb = n_bins
    cdef Py_ssize_t count
    cdef bint t_finite
    if n <= (4 if with_ends else 2) * nb:
        with nogil:
            t_finite = _all_finite(tv)
        if not t_finite:
            raise ValueError(NONFINITE_T_MESSAGE)
        return np.arange(n, dtype=np.intp)

    cdef double scale = bin_scale(tv[0], tv[n - 1], nb)
    # Ascending t gives at most 3 (5 with ends) points per bin; only descending steps in t need more (<= n).
    idx = np.empty(min(n, (5 if with_ends else 3) * nb), dtype=np.intp)
    cdef Py_ssize_t[::1] iv = idx
    with nogil:
        count = _select_minmax(tv, yv, nb, scale, iv, with_ends)
    if count == OUT_FULL:
        idx = np.empty(n, dtype=np.intp)
        iv = idx
        with nogil:
            count = _select_minmax(tv, yv, nb, scale, iv, with_ends)
    if count == T_NOT_FINITE:
        raise ValueError(NONFINITE_T_MESSAGE)
    return idx[:count]


def nan_aware_minmax(y: np.ndarray) -> tuple[float, float]:
    """Min and max of the finite values of y, for autoscaling; (nan, nan) when there are none."""
    cdef const double[::1] yv = np.ascontiguousarray(as_1d_float64(y, "y"))
    cdef Py_ssize_t i
    cdef double v, lo = 0.0, hi = 0.0
    cdef bint seen = False
    with nogil:
        for i in range(yv.shape[0]):
            v = yv[i]
            if not isfinite(v):
                continue
            if not seen:
                lo = v
                hi = v
                seen = True
            elif v < lo:
                lo = v
            elif v > hi:
                hi = v
    if not seen:
        return float("nan"), float("nan")
    return lo, hi


cdef bint _all_finite(const double[::1] a) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(a.shape[0]):
        if not isfinite(a[i]):
            return False
    return True


cdef Py_ssize_t _select_minmax(const double[::1] t, const double[::1] y, Py_ssize_t n_bins, double scale,
                               Py_ssize_t[::1] out, bint with_ends) noexcept nogil:
    """Write the indices of the kept samples to ``out`` in order and return how many.

    Returns OUT_FULL if ``out`` is too small and T_NOT_FINITE if a timestamp is NaN or inf.
    A run is a maximal stretch of consecutive samples in the same bin (a bin, when t is ascending). Each
    run is found on t first, then scanned on y: two tight loops, each with predictable branches.
    """
    cdef Py_ssize_t n = t.shape[0]
    cdef Py_ssize_t count = 0
    cdef Py_ssize_t start = 0
    cdef Py_ssize_t end, b
    cdef double t0 = t[0]
    cdef double pos, pos_lo, pos_hi
    cdef Py_ssize_t found[3]
    while start < n:
        if not isfinite(t[start]):
            return T_NOT_FINITE
        b = _bin_of(t[start], t0, scale, n_bins)
        _bin_bounds(b, n_bins, &pos_lo, &pos_hi)
        end = start + 1
        while end < n:
            # pos_lo <= pos < pos_hi implies bin b (see _bin_bounds); only when that fast test fails is
            # the exact rule needed: a new bin, a bad time, or a far-out time whose position overflowed
            # (possible only when t is not ascending).
            pos = (t[end] - t0) * scale
            if not (pos >= pos_lo and pos < pos_hi):
                if not isfinite(t[end]):
                    return T_NOT_FINITE
                if _bin_of(t[end], t0, scale, n_bins) != b:
                    break
            end += 1
        _scan_run(&y[0], start, end, found)
        if with_ends:
            count = _emit_run_with_ends(found, start, end, &out[0], count, out.shape[0])
        else:
            count = _emit_run(found, &out[0], count, out.shape[0])
        if count < 0:
            return OUT_FULL
        start = end
    return count


cdef inline Py_ssize_t _bin_of(double x, double t0, double scale, Py_ssize_t n_bins) noexcept nogil:
    """The bin of time x: the twin's subtract, multiply, clip and truncate, so bin edges are identical."""
    cdef double pos = (x - t0) * scale
    if pos >= <double>n_bins:
        return n_bins - 1
    if pos > 0.0:
        return <Py_ssize_t>pos
    return 0


cdef inline void _bin_bounds(Py_ssize_t b, Py_ssize_t n_bins, double* lo, double* hi) noexcept nogil:
    """[lo, hi): positions that _bin_of maps to bin b.

    The outer bins are open-ended, except that -inf is left out so that a -inf time fails the fast test
    and is caught; +inf is already left out of the last bin. With scale 0 every position is 0 (bin 0) or
    NaN (left to the exact rule).
    """
    lo[0] = -DBL_MAX if b == 0 else <double>b
    hi[0] = INFINITY if b == n_bins - 1 else <double>(b + 1)


cdef inline void _scan_run(const double* y, Py_ssize_t start, Py_ssize_t end,
                           Py_ssize_t* found) noexcept nogil:
    """found = [first minimum, first maximum, first NaN] of y[start:end], -1 where there is none.

    Most samples lie within the extremes seen so far, so one well-predicted range test passes them over
    and the updates stay off the hot path. (As a plain if/elif chain, gcc -O3 turns the max update into
    maxsd/cmov on every sample, a dependency chain that made the whole kernel ~15% slower.)
    """
    cdef Py_ssize_t i, imin = -1, imax = -1, inan = -1
    cdef double v, lo = INFINITY, hi = -INFINITY  # an empty range: the first number takes the rare path
    for i in range(start, end):
        v = y[i]
        if v >= lo and v <= hi:
            continue
        if isnan(v):
            if inan < 0:
                inan = i
            continue
        if imin < 0 or v < lo:
            imin = i
            lo = v
        if imax < 0 or v > hi:
            imax = i
            hi = v
    found[0] = imin
    found[1] = imax
    found[2] = inan


cdef inline Py_ssize_t _emit_run(const Py_ssize_t* found, Py_ssize_t* out, Py_ssize_t count,
                                 Py_ssize_t cap) noexcept nogil:
    """Append the distinct indices in found to out in ascending (time) order; -1 if out is full."""
    cdef Py_ssize_t a = found[0], b = found[1], c = found[2], tmp
    # Three-element sorting network; absent entries (-1) end up first and are skipped.
    if a > b:
        tmp = a; a = b; b = tmp
    if b > c:
        tmp = b; b = c; c = tmp
    if a > b:
        tmp = a; a = b; b = tmp
    if a >= 0:
        if count >= cap:
            return -1
        out[count] = a
        count += 1
    if b >= 0 and b != a:
        if count >= cap:
            return -1
        out[count] = b
        count += 1
    if c >= 0 and c != b:
        if count >= cap:
            return -1
        out[count] = c
        count += 1
    return count


cdef inline Py_ssize_t _emit_run_with_ends(const Py_ssize_t* found, Py_ssize_t start, Py_ssize_t end,
                                           Py_ssize_t* out, Py_ssize_t count, Py_ssize_t cap) noexcept nogil:
    """M4: the run's first sample, its distinct extremes and first NaN in time order, then its last."""
    cdef Py_ssize_t a = found[0], b = found[1], c = found[2], tmp, last = start, x, k
    cdef Py_ssize_t ordered[3]
    if a > b:
        tmp = a; a = b; b = tmp
    if b > c:
        tmp = b; b = c; c = tmp
    if a > b:
        tmp = a; a = b; b = tmp
    ordered[0] = a
    ordered[1] = b
    ordered[2] = c
    if count >= cap:
        return -1
    out[count] = start
    count += 1
    for k in range(3):
        x = ordered[k]
        if x > last:
            if count >= cap:
                return -1
            out[count] = x
            count += 1
            last = x
    if end - 1 > last:
        if count >= cap:
            return -1
        out[count] = end - 1
        count += 1
    return count


# -- history compression (twins: ext.compression_twins; same rules, identical output) ----------------

def sdt_compress(t, y, deviation, max_interval=float("inf")):
    """Swinging-door compression: indices of the points to keep. See ``ext.compression_twins``."""
    t_arr, y_arr = check_compression(t, y, deviation, max_interval)
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    cdef Py_ssize_t n = tv.shape[0]
    cdef int time_error
    if n <= 2:
        with nogil:
            time_error = _check_times(tv)
        _raise_time_error(time_error)
        return np.arange(n, dtype=np.intp)
    keep = np.empty(n, dtype=np.intp)
    cdef Py_ssize_t[::1] kv = keep
    cdef double dev = deviation
    cdef double max_dt = max_interval
    cdef Py_ssize_t count
    with nogil:
        count = _sdt(tv, yv, dev, max_dt, kv)
    if count < 0:  # the loop stops at the first bad time; report it as the twin would
        with nogil:
            time_error = _check_times(tv)
        _raise_time_error(time_error)
    return keep[:count].copy()


cdef enum:  # time errors, as negative results
    T_DECREASING = -3


cdef int _check_times(const double[::1] t) noexcept nogil:
    """The twin's order: any non-finite time first, then any decrease."""
    cdef Py_ssize_t i
    for i in range(t.shape[0]):
        if not isfinite(t[i]):
            return T_NOT_FINITE
    for i in range(1, t.shape[0]):
        if t[i] < t[i - 1]:
            return T_DECREASING
    return 0


def _raise_time_error(int code):
    if code == T_NOT_FINITE:
        raise ValueError(NONFINITE_T_MESSAGE)
    if code == T_DECREASING:
        raise ValueError(DECREASING_T_MESSAGE)


cdef Py_ssize_t _sdt(const double[::1] t, const double[::1] y, double dev, double max_dt,
                     Py_ssize_t[::1] keep) noexcept nogil:
    cdef Py_ssize_t n = t.shape[0]
    cdef Py_ssize_t count = 1
    cdef Py_ssize_t pivot = 0
    cdef Py_ssize_t i, prev
    cdef double upper = -INFINITY
    cdef double lower = INFINITY
    cdef double ti, yi, dt, slope, bound, inv
    if not isfinite(t[0]):
        return T_NOT_FINITE
    keep[0] = 0
    for i in range(1, n):
        ti = t[i]
        yi = y[i]
        prev = i - 1
        if not (ti >= t[prev]):  # also false for NaN: checked in the loop, a separate pass cost more
            return T_NOT_FINITE if not isfinite(ti) else T_DECREASING
        if ti == INFINITY:
            return T_NOT_FINITE
        if not isfinite(yi) or not isfinite(y[pivot]):
            if prev != keep[count - 1]:
                keep[count] = prev
                count += 1
            keep[count] = i
            count += 1
            pivot = i
            upper = -INFINITY
            lower = INFINITY
            continue
        dt = ti - t[pivot]
        if dt > max_dt and prev != pivot:
            keep[count] = prev
            count += 1
            pivot = prev
            upper = -INFINITY
            lower = INFINITY
            dt = ti - t[pivot]
        if dt <= 0.0:
            keep[count] = i
            count += 1
            pivot = i
            upper = -INFINITY
            lower = INFINITY
            continue
        inv = 1.0 / dt
        slope = (yi - y[pivot]) * inv
        if not (upper <= slope and slope <= lower):
            keep[count] = prev
            count += 1
            pivot = prev
            dt = ti - t[pivot]
            if dt <= 0.0:
                keep[count] = i
                count += 1
                pivot = i
                upper = -INFINITY
                lower = INFINITY
                continue
            upper = -INFINITY
            lower = INFINITY
            inv = 1.0 / dt
        bound = (yi - y[pivot] - dev) * inv
        if bound > upper:
            upper = bound
        bound = (yi - y[pivot] + dev) * inv
        if bound < lower:
            lower = bound
    if keep[count - 1] != n - 1:
        keep[count] = n - 1
        count += 1
    return count


def deadband_filter(t, y, deadband, max_interval=float("inf")):
    """Deadband filter: indices of the points to keep. See ``ext.compression_twins``."""
    t_arr, y_arr = check_compression(t, y, deadband, max_interval, "deadband")
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    cdef Py_ssize_t n = tv.shape[0]
    cdef int time_error
    with nogil:
        time_error = _check_times(tv)
    _raise_time_error(time_error)
    if n == 0:
        return np.arange(0, dtype=np.intp)
    keep = np.empty(n, dtype=np.intp)
    cdef Py_ssize_t[::1] kv = keep
    cdef double band = deadband
    cdef double max_dt = max_interval
    cdef Py_ssize_t count = 1
    cdef Py_ssize_t i
    cdef double last_t = tv[0]
    cdef double last_y = yv[0]
    cdef double yi
    cdef bint finite, last_finite, same
    kv[0] = 0
    with nogil:
        for i in range(1, n):
            yi = yv[i]
            finite = isfinite(yi)
            last_finite = isfinite(last_y)
            same = (isnan(yi) and isnan(last_y)) or yi == last_y
            if (finite != last_finite or (not finite and not same) or (finite and fabs(yi - last_y) > band)
                    or tv[i] - last_t >= max_dt):
                kv[count] = i
                count += 1
                last_t = tv[i]
                last_y = yi
    return keep[:count].copy()
