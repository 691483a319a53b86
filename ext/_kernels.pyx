# cython: language_level=3, annotation_typing=False
"""Compiled kernels for the trend widget: a single pass over the samples, without the GIL.

Semantics, argument checks and error messages are those of ``ext.numpy_twins`` (shared helpers are
imported from there); the parity tests in tests/ext hold the two to identical output. Annotations are
documentation only (annotation_typing=False): ``n_bins`` must accept any integer, e.g. ``np.int64``.
"""

import numpy as np

from libc.float cimport DBL_MAX
from libc.math cimport INFINITY, NAN, fabs, isfinite, isnan

cdef extern from "simd_scan.h" nogil:
    void lw_scan_bin(const double* y, Py_ssize_t start, Py_ssize_t end, Py_ssize_t* found)
    bint lw_non_decreasing(const double* t, Py_ssize_t n)

from ext.lttb_twins import DEFAULT_MINMAX_RATIO
from ext.lttb_twins import select as lttb_select
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
    cdef Py_ssize_t[::1] iv
    cdef bint ok = False
    if n <= (4 if with_ends else 2) * nb:
        with nogil:
            ok = _all_finite(tv)
        if not ok:
            raise ValueError(NONFINITE_T_MESSAGE)
        return np.arange(n, dtype=np.intp)
    if not (isfinite(tv[0]) and isfinite(tv[n - 1])):
        raise ValueError(NONFINITE_T_MESSAGE)
    cdef double scale = bin_scale(tv[0], tv[n - 1], nb)
    if not assume_sorted:
        # One streaming pass over t buys the binary-search path; with the end points finite, a
        # non-decreasing t is also finite throughout (NaN >= x is false).
        with nogil:
            ok = lw_non_decreasing(&tv[0], n)
    if assume_sorted or ok:
        # At most 3 (5 with ends) points per bin when t is sorted.
        idx = np.empty(min(n, (5 if with_ends else 3) * nb), dtype=np.intp)
        iv = idx
        with nogil:
            count = _select_sorted(tv, yv, nb, scale, iv, with_ends)
        return idx[:count]
    # t steps back somewhere (or has a NaN): reduce each run of samples in one bin on its own.
    idx = np.empty(min(n, (5 if with_ends else 3) * nb), dtype=np.intp)
    iv = idx
    with nogil:
        count = _select_minmax(tv, yv, nb, scale, iv, with_ends)
    if count == OUT_FULL:  # descending steps make more runs than bins
        idx = np.empty(n, dtype=np.intp)
        iv = idx
        with nogil:
            count = _select_minmax(tv, yv, nb, scale, iv, with_ends)
    if count == T_NOT_FINITE:
        raise ValueError(NONFINITE_T_MESSAGE)
    return idx[:count]


cdef Py_ssize_t _select_sorted(const double[::1] t, const double[::1] y, Py_ssize_t n_bins, double scale,
                               Py_ssize_t[::1] out, bint with_ends) noexcept nogil:
    return _select_window(&t[0], &y[0], 0, t.shape[0], n_bins, t[0], scale, &out[0], out.shape[0], with_ends,
                          NULL)


cdef Py_ssize_t _select_window(const double* t, const double* y, Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t n_bins,
                               double t0, double scale, Py_ssize_t* out, Py_ssize_t cap, bint with_ends,
                               const Pyramid* pyramid) noexcept nogil:
    """The sorted-t path over the samples [i0, i1): bin edges by galloping binary search on t, then each
    bin's extremes from a SIMD scan of y, or from the pyramid's levels when there is one.

    Reads t only around the bin edges, so the pass over y is all the memory traffic there is. The edge of
    bin b is the first sample whose position ``(t - t0) * scale`` is >= b: the twin's floor rule, since
    rounding is monotonic and the position of sorted times therefore is too. (t0 is t[i0], or the start of
    a caller's grid.)
    """
    cdef Py_ssize_t count = 0, start = i0, end, b
    cdef Py_ssize_t guess_len = (i1 - i0) // n_bins + 1
    cdef Py_ssize_t found[3]
    for b in range(n_bins):
        if start >= i1:
            break
        if b == n_bins - 1 or scale == 0.0:
            end = i1
        else:
            end = _first_at_or_past(t, t0, scale, <double>(b + 1), start, i1, start + guess_len)
        if end == start:
            continue
        guess_len = end - start  # the next bin probably holds as many samples as this one
        if pyramid == NULL:
            lw_scan_bin(y, start, end, found)
        else:
            _pyramid_scan(y, start, end, pyramid, found)
        if with_ends:
            count = _emit_run_with_ends(found, start, end, out, count, cap)
        else:
            count = _emit_run(found, out, count, cap)
        start = end
    return count


cdef inline bint _at_or_past(const double* t, Py_ssize_t i, double t0, double scale, double target) noexcept nogil:
    return (t[i] - t0) * scale >= target


cdef Py_ssize_t _first_at_or_past(const double* t, double t0, double scale, double target, Py_ssize_t lo,
                                  Py_ssize_t n, Py_ssize_t guess) noexcept nogil:
    """The first i in [lo, n) whose position is >= target, or n. Gallops from ``guess`` (the edge if this
    bin is as long as the last one), so evenly sampled data costs two probes per edge, not log2(n)."""
    cdef Py_ssize_t hi, probe, step = 1, mid
    if lo >= n:
        return n
    if guess > n - 1:
        guess = n - 1
    if guess < lo:
        guess = lo
    if _at_or_past(t, guess, t0, scale, target):
        hi = guess  # answer in [lo, hi]: walk down until a probe is before the edge
        while True:
            probe = hi - step
            if probe < lo:
                break
            if _at_or_past(t, probe, t0, scale, target):
                hi = probe
                step *= 2
            else:
                lo = probe + 1
                break
    else:
        lo = guess + 1  # answer in [guess + 1, n]: walk up until a probe is at or past the edge
        hi = n
        while True:
            probe = lo + step - 1
            if probe >= n:
                break
            if _at_or_past(t, probe, t0, scale, target):
                hi = probe
                break
            lo = probe + 1
            step *= 2
    while lo < hi:  # invariant: before lo nothing qualifies; hi qualifies or is n
        mid = lo + (hi - lo) // 2
        if _at_or_past(t, mid, t0, scale, target):
            hi = mid
        else:
            lo = mid + 1
    return lo


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


# -- MinMaxLTTB (twin and shared preselection rules: ext.lttb_twins) ----------------------------------

def minmaxlttb_decimate(t, y, n_out, minmax_ratio=DEFAULT_MINMAX_RATIO, assume_sorted=False):
    """``n_out`` points (plus one per gap) that draw like the whole series. See ``ext.lttb_twins``."""
    t_arr, y_arr = check_series(t, y)
    idx = minmaxlttb_indices(t_arr, y_arr, n_out, minmax_ratio, assume_sorted)
    return t_arr[idx], y_arr[idx]


def minmaxlttb_indices(t, y, n_out, minmax_ratio=DEFAULT_MINMAX_RATIO, assume_sorted=False):
    """The indices ``minmaxlttb_decimate`` keeps, ascending (intp)."""
    return lttb_select(t, y, n_out, minmax_ratio, assume_sorted, minmax_indices, _lttb_core)


def _lttb_core(t, y, candidates, n_out):
    cdef const double[::1] tv = t
    cdef const double[::1] yv = y
    cdef const Py_ssize_t[::1] cv = np.ascontiguousarray(candidates, dtype=np.intp)
    cdef Py_ssize_t n = n_out
    out = np.empty(n, dtype=np.intp)
    cdef Py_ssize_t[::1] ov = out
    with nogil:
        _lttb(&tv[0], &yv[0], &cv[0], cv.shape[0], n, &ov[0])
    return out


cdef void _lttb(const double* t, const double* y, const Py_ssize_t* cand, Py_ssize_t m, Py_ssize_t n_out,
                Py_ssize_t* out) noexcept nogil:
    """The twin's ``lttb_core`` step for step (same sums, same order, no FMA: setup.py turns contraction off)."""
    cdef double every = <double>(m - 2) / <double>(n_out - 2)
    cdef Py_ssize_t i, j, lo, hi, next_lo, next_hi, a = 0, best
    cdef double avg_t, avg_y, at, ay, area, best_area, sum_t, sum_y
    out[0] = cand[0]
    out[n_out - 1] = cand[m - 1]
    for i in range(n_out - 2):
        lo = <Py_ssize_t>(i * every) + 1
        hi = <Py_ssize_t>((i + 1) * every) + 1
        next_lo = hi
        next_hi = <Py_ssize_t>((i + 2) * every) + 1
        if next_hi > m:
            next_hi = m
        if next_lo >= m - 1 or next_hi <= next_lo:
            avg_t = t[cand[m - 1]]
            avg_y = y[cand[m - 1]]
        else:
            sum_t = 0.0
            sum_y = 0.0
            for j in range(next_lo, next_hi):
                sum_t += t[cand[j]]
                sum_y += y[cand[j]]
            avg_t = sum_t / <double>(next_hi - next_lo)
            avg_y = sum_y / <double>(next_hi - next_lo)
        at = t[cand[a]]
        ay = y[cand[a]]
        best = lo
        best_area = -1.0
        for j in range(lo, hi):
            area = fabs((at - avg_t) * (y[cand[j]] - ay) - (at - t[cand[j]]) * (avg_y - ay))
            if area > best_area:  # NaN never wins
                best_area = area
                best = j
        out[i + 1] = cand[best]
        a = best


# -- min/max pyramid (layout and twins: ext.pyramid_twins; the series object: ext.pyramid) ------------

cdef enum:
    MAX_LEVELS = 17  # ext.pyramid_twins.MAX_DEPTH levels above the samples, plus the samples (index 0)


cdef struct Pyramid:
    Py_ssize_t depth
    Py_ssize_t size[MAX_LEVELS]  # samples per block at each level: block ** k, a power of two
    Py_ssize_t shift[MAX_LEVELS]  # log2(size)
    Py_ssize_t blocks[MAX_LEVELS]  # complete blocks at each level
    const double* lo[MAX_LEVELS]
    const Py_ssize_t* lo_at[MAX_LEVELS]
    const double* hi[MAX_LEVELS]
    const Py_ssize_t* hi_at[MAX_LEVELS]
    const Py_ssize_t* nan_at[MAX_LEVELS]


def reduce_samples(y, block, first, stop, level):
    """Write level-1 blocks [first, stop) reduced from ``y`` into ``level``. See ``ext.pyramid_twins``."""
    cdef const double[::1] yv = y
    cdef double[::1] lo = level[0]
    cdef Py_ssize_t[::1] lo_at = level[1]
    cdef double[::1] hi = level[2]
    cdef Py_ssize_t[::1] hi_at = level[3]
    cdef Py_ssize_t[::1] nan_at = level[4]
    cdef Py_ssize_t b = block, j, j0 = first, j1 = stop
    cdef Py_ssize_t found[3]
    if j1 <= j0:
        return
    if j1 * b > yv.shape[0] or j1 > lo.shape[0]:
        raise ValueError("blocks past the end of the samples or of the level")
    with nogil:
        for j in range(j0, j1):
            lw_scan_bin(&yv[0], j * b, (j + 1) * b, found)
            lo_at[j] = found[0]
            lo[j] = yv[found[0]] if found[0] >= 0 else NAN
            hi_at[j] = found[1]
            hi[j] = yv[found[1]] if found[1] >= 0 else NAN
            nan_at[j] = found[2]


def reduce_level(below, block, first, stop, level):
    """Write blocks [first, stop) of the next level up from ``block`` blocks each of ``below``."""
    cdef const double[::1] b_lo = below[0]
    cdef const Py_ssize_t[::1] b_lo_at = below[1]
    cdef const double[::1] b_hi = below[2]
    cdef const Py_ssize_t[::1] b_hi_at = below[3]
    cdef const Py_ssize_t[::1] b_nan_at = below[4]
    cdef double[::1] lo = level[0]
    cdef Py_ssize_t[::1] lo_at = level[1]
    cdef double[::1] hi = level[2]
    cdef Py_ssize_t[::1] hi_at = level[3]
    cdef Py_ssize_t[::1] nan_at = level[4]
    cdef Py_ssize_t b = block, j, q, j0 = first, j1 = stop
    cdef Py_ssize_t found[3]
    cdef double v_lo, v_hi
    if j1 <= j0:
        return
    if j1 * b > b_lo.shape[0] or j1 > lo.shape[0]:
        raise ValueError("blocks past the end of the level below or of this level")
    with nogil:
        for j in range(j0, j1):
            found[0] = -1
            found[1] = -1
            found[2] = -1
            v_lo = NAN
            v_hi = NAN
            for q in range(j * b, (j + 1) * b):
                _take(b_lo[q], b_lo_at[q], b_hi[q], b_hi_at[q], b_nan_at[q], &v_lo, &v_hi, found)
            lo[j] = v_lo
            lo_at[j] = found[0]
            hi[j] = v_hi
            hi_at[j] = found[1]
            nan_at[j] = found[2]


cdef inline void _take(double lo, Py_ssize_t lo_at, double hi, Py_ssize_t hi_at, Py_ssize_t nan_at,
                       double* v_lo, double* v_hi, Py_ssize_t* found) noexcept nogil:
    """Fold a later stretch's summary into a running one: strictly better extremes only, so ties keep the
    earlier (first) occurrence; the first NaN stays the first."""
    if lo_at >= 0 and (found[0] < 0 or lo < v_lo[0]):
        v_lo[0] = lo
        found[0] = lo_at
    if hi_at >= 0 and (found[1] < 0 or hi > v_hi[0]):
        v_hi[0] = hi
        found[1] = hi_at
    if nan_at >= 0 and found[2] < 0:
        found[2] = nan_at


cdef inline void _take_sample(const double* y, Py_ssize_t i, double* v_lo, double* v_hi,
                              Py_ssize_t* found) noexcept nogil:
    cdef double v = y[i]
    if v != v:
        if found[2] < 0:
            found[2] = i
        return
    if found[0] < 0 or v < v_lo[0]:
        v_lo[0] = v
        found[0] = i
    if found[1] < 0 or v > v_hi[0]:
        v_hi[0] = v
        found[1] = i


cdef inline void _take_block(const Pyramid* p, Py_ssize_t k, Py_ssize_t q, double* v_lo, double* v_hi,
                             Py_ssize_t* found) noexcept nogil:
    _take(p.lo[k][q], p.lo_at[k][q], p.hi[k][q], p.hi_at[k][q], p.nan_at[k][q], v_lo, v_hi, found)


cdef inline bint _has_block(const Pyramid* p, Py_ssize_t k, Py_ssize_t i) noexcept nogil:
    return (i >> p.shift[k]) < p.blocks[k]


cdef void _pyramid_scan(const double* y, Py_ssize_t a, Py_ssize_t b, const Pyramid* p,
                        Py_ssize_t* found) noexcept nogil:
    """found = [first minimum, first maximum, first NaN] of y[a:b] from the largest aligned blocks that fit:
    climb from the samples to coarser levels while the position is aligned and the range allows, then come
    down again to finish the range. At most about 2·block steps per level: O(block · depth) whatever b - a is.
    (Block sizes are powers of two, so alignment and block numbers are masks and shifts.)"""
    cdef Py_ssize_t i = a, k = 0, size
    cdef double v_lo = NAN, v_hi = NAN
    found[0] = -1
    found[1] = -1
    found[2] = -1
    while k < p.depth:  # climb
        size = p.size[k]
        while (i & (p.size[k + 1] - 1)) != 0 and i + size <= b and (k == 0 or _has_block(p, k, i)):
            if k == 0:
                _take_sample(y, i, &v_lo, &v_hi, found)
            else:
                _take_block(p, k, i >> p.shift[k], &v_lo, &v_hi, found)
            i += size
        if (i & (p.size[k + 1] - 1)) == 0 and i + p.size[k + 1] <= b and _has_block(p, k + 1, i):
            k += 1
        else:
            break
    while k >= 0:  # come down
        size = p.size[k]
        while i + size <= b and (k == 0 or _has_block(p, k, i)):
            if k == 0:
                _take_sample(y, i, &v_lo, &v_hi, found)
            else:
                _take_block(p, k, i >> p.shift[k], &v_lo, &v_hi, found)
            i += size
        k -= 1


def pyramid_select(t, y, levels, block, i0, i1, n_bins, with_ends, grid=None):
    """Indices that min/max (or M4) decimation of the samples [i0, i1) keeps, answered from the levels, with
    the bins on ``grid`` (g0, g1) if given. Same result as ``ext.pyramid_twins.pyramid_select``; t must be
    sorted and finite (the series ensures it)."""
    n_bins = check_n_bins(n_bins)
    cdef const double[::1] tv = t
    cdef const double[::1] yv = y
    cdef Py_ssize_t a = i0, z = i1, nb = n_bins, k, count
    if not (0 <= a <= z <= tv.shape[0] and yv.shape[0] == tv.shape[0]):
        raise ValueError(f"window [{i0}, {i1}) is not within the {tv.shape[0]} samples")
    if z - a <= (4 if with_ends else 2) * nb:
        return np.arange(a, z, dtype=np.intp)
    if len(levels) > MAX_LEVELS - 1:
        raise ValueError(f"at most {MAX_LEVELS - 1} levels, got {len(levels)}")
    if block < 2 or block & (block - 1):
        raise ValueError(f"block must be a power of two >= 2, got {block}")
    cdef Pyramid p
    p.depth = len(levels)
    p.size[0] = 1
    p.shift[0] = 0
    p.blocks[0] = tv.shape[0]
    keep = []  # the memoryviews whose pointers p holds
    cdef const double[::1] lo_v, hi_v
    cdef const Py_ssize_t[::1] lo_at_v, hi_at_v, nan_at_v
    for k in range(1, p.depth + 1):
        lo_v, lo_at_v, hi_v, hi_at_v, nan_at_v = levels[k - 1]
        keep.append((lo_v, lo_at_v, hi_v, hi_at_v, nan_at_v))
        p.size[k] = p.size[k - 1] * block
        p.shift[k] = p.shift[k - 1] + (block.bit_length() - 1)
        p.blocks[k] = lo_v.shape[0]
        if p.blocks[k] > 0:
            p.lo[k] = &lo_v[0]
            p.lo_at[k] = &lo_at_v[0]
            p.hi[k] = &hi_v[0]
            p.hi_at[k] = &hi_at_v[0]
            p.nan_at[k] = &nan_at_v[0]
    cdef double first = tv[a] if grid is None else grid[0]
    cdef double scale = bin_scale(tv[a], tv[z - 1], nb) if grid is None else bin_scale(grid[0], grid[1], nb)
    idx = np.empty(min(z - a, (5 if with_ends else 3) * nb), dtype=np.intp)
    cdef Py_ssize_t[::1] iv = idx
    cdef bint ends = with_ends
    if p.depth == 0:
        with nogil:
            count = _select_window(&tv[0], &yv[0], a, z, nb, first, scale, &iv[0], iv.shape[0], ends, NULL)
    else:
        with nogil:
            count = _select_window(&tv[0], &yv[0], a, z, nb, first, scale, &iv[0], iv.shape[0], ends, &p)
    return idx[:count]
