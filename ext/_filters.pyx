# cython: language_level=3, annotation_typing=False
"""Compiled filters and rolling statistics: one pass over the samples, without the GIL.

Semantics, argument checks, error messages and state objects are those of ``ext.filter_twins`` (shared
from there); every loop here does the twin's floating-point operations in the twin's order, so output and
states are bit-identical (tests/ext/test_filters.py). See the twin for the exact rules.
"""

import numpy as np

from libc.math cimport NAN, expm1, isfinite, isnan, sqrt
from libc.stdlib cimport free, malloc, realloc

from ext.filter_twins import (
    SQRT1_2,
    BiquadState,
    EwmaState,
    RollingState,
    check_times,
    prepare_biquad,
    prepare_ewma,
    prepare_rolling,
)


cdef bint _times_ok(const double[::1] t, double t_end) noexcept nogil:
    """Whether ``check_times`` would pass; if not, it is called to raise its error."""
    cdef Py_ssize_t i
    cdef Py_ssize_t n = t.shape[0]
    if n == 0:
        return True
    if not isfinite(t[0]) or t[0] < t_end:
        return False
    for i in range(1, n):
        if not (t[i] >= t[i - 1]) or not isfinite(t[i]):
            return False
    return True


cdef void _check_times(const double[::1] tv, object t_arr, double t_end):
    cdef bint ok
    with nogil:
        ok = _times_ok(tv, t_end)
    if not ok:
        check_times(t_arr, t_end)
        raise AssertionError("unreachable: check_times accepted what _times_ok refused")


# -- EWMA -------------------------------------------------------------------------------------------

def ewma(t, y, tau, state=None):
    """Exponentially weighted moving average with time constant ``tau`` seconds. See ``ext.filter_twins``."""
    t_arr, y_arr, tau_, state = prepare_ewma(t, y, tau, state)
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    _check_times(tv, t_arr, state.t_end)
    cdef Py_ssize_t n = tv.shape[0]
    if n == 0:
        return np.empty(0), state
    out = np.empty(n)
    cdef double[::1] ov = out
    cdef double c_tau = tau_
    cdef double t_last = state.t_last
    cdef double s = state.value
    cdef double dt_cached = NAN
    cdef double a = 0.0
    cdef double dt, yi
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            yi = yv[i]
            ov[i] = NAN
            if not isfinite(yi):
                continue
            if isnan(s):
                s = yi
            else:
                dt = tv[i] - t_last
                if dt != dt_cached:
                    dt_cached = dt
                    a = -expm1(-dt / c_tau)
                s = s + a * (yi - s)
                if not isfinite(s):
                    s = NAN
                    continue
            t_last = tv[i]
            ov[i] = s
    return out, EwmaState(float(tv[n - 1]), t_last, s)


# -- rolling mean and standard deviation (the two-stacks algorithm of the twin) ---------------------

cdef struct Agg:
    double n
    double mean  # about the shift of its part of the window
    double m2


cdef inline void _welford(Agg* a, double u) noexcept nogil:
    cdef double d
    a.n = a.n + 1.0
    d = u - a.mean
    a.mean = a.mean + d / a.n
    a.m2 = a.m2 + d * (u - a.mean)


cdef struct Front:
    Agg* suffix  # suffix[j]: aggregate of front samples j..end, oldest first
    Py_ssize_t capacity
    double shift


cdef bint _build_front(Front* f, const double* y, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t count) noexcept nogil:
    """The twin's ``_front_suffixes`` for the ``count`` good samples in positions [lo, hi); False if out of memory."""
    cdef Py_ssize_t p, j = count
    cdef Agg acc
    cdef Agg* grown
    cdef double x
    if count > f.capacity:
        grown = <Agg*> realloc(f.suffix, max(count, 2 * f.capacity) * sizeof(Agg))
        if grown == NULL:
            return False
        f.suffix = grown
        f.capacity = max(count, 2 * f.capacity)
    acc.n = 0.0
    acc.mean = 0.0
    acc.m2 = 0.0
    for p in range(hi - 1, lo - 1, -1):
        x = y[p]
        if not isfinite(x):
            continue
        if j == count:
            f.shift = x
        _welford(&acc, x - f.shift)
        j -= 1
        f.suffix[j] = acc
    return True


cdef struct Queue:
    Py_ssize_t head  # position of the oldest good sample in the window (if count > 0)
    Py_ssize_t count  # good samples in the window
    Py_ssize_t front_count  # how many of them, oldest first, are in the front


cdef bint _rolling(const double[::1] t, const double[::1] y, Py_ssize_t m, double window, Py_ssize_t ddof,
                   bint want_std, double[::1] out, Queue* q) noexcept nogil:
    """Positions [0, m) hold the state's samples (the first q.front_count of them in the front), the rest
    the batch; out gets one value per batch sample. False if out of memory."""
    cdef Py_ssize_t total = t.shape[0]
    cdef Py_ssize_t p, k = 0
    cdef Front f
    cdef Agg back, fa
    cdef double back_shift = NAN
    cdef double tp, x, n, d, mean, m2, shift
    f.capacity = max(q.front_count, <Py_ssize_t>16)
    f.suffix = <Agg*> malloc(f.capacity * sizeof(Agg))
    f.shift = NAN
    if f.suffix == NULL:
        return False
    _build_front(&f, &y[0], 0, q.front_count, q.front_count)
    back.n = 0.0
    back.mean = 0.0
    back.m2 = 0.0
    for p in range(q.front_count, m):
        if back.n == 0.0:
            back_shift = y[p]
        _welford(&back, y[p] - back_shift)

    for p in range(m, total):
        tp = t[p]
        while q.count and tp - t[q.head] >= window:
            if q.front_count == 0:
                if not _build_front(&f, &y[0], q.head, p, q.count):
                    free(f.suffix)
                    return False
                q.front_count = q.count
                k = 0
                back.n = 0.0
                back.mean = 0.0
                back.m2 = 0.0
            q.front_count -= 1
            q.count -= 1
            k += 1
            if q.count:
                q.head += 1
                while not isfinite(y[q.head]):
                    q.head += 1
        x = y[p]
        out[p - m] = NAN
        if not isfinite(x):
            continue
        if q.count == 0:
            q.head = p
        q.count += 1
        if back.n == 0.0:
            back_shift = x
        _welford(&back, x - back_shift)
        if q.front_count:
            fa = f.suffix[k]
            n = fa.n + back.n
            d = back.mean + (back_shift - f.shift) - fa.mean
            mean = fa.mean + d * (back.n / n)
            shift = f.shift
            m2 = fa.m2 + back.m2 + d * d * (fa.n * back.n / n)
        else:
            n = back.n
            mean = back.mean
            m2 = back.m2
            shift = back_shift
        if want_std:
            if n > ddof:
                out[p - m] = sqrt(m2 / (n - ddof))
        else:
            out[p - m] = shift + mean
    free(f.suffix)
    return True


def _rolling_call(t_arr, y_arr, double window, Py_ssize_t ddof, bint want_std, state):
    cdef const double[::1] tb = np.ascontiguousarray(t_arr)
    _check_times(tb, t_arr, state.t_end)
    cdef Py_ssize_t n_out = tb.shape[0]
    if n_out == 0:
        return np.empty(0), state
    cdef Py_ssize_t m = state.t.shape[0]
    if m:
        t_all = np.concatenate((state.t, t_arr))
        y_all = np.concatenate((state.y, y_arr))
    else:
        t_all = tb
        y_all = np.ascontiguousarray(y_arr)
    cdef const double[::1] tv = t_all
    cdef const double[::1] yv = y_all
    out = np.empty(n_out)
    cdef double[::1] ov = out
    cdef Queue q
    q.head = 0
    q.count = m
    q.front_count = state.n_front
    cdef bint ok
    with nogil:
        ok = _rolling(tv, yv, m, window, ddof, want_std, ov, &q)
    if not ok:
        raise MemoryError("rolling window")
    t_end = float(tb[n_out - 1])
    if q.count == 0:
        return out, RollingState(window, t_end)
    tail_t = np.asarray(tv[q.head:])
    tail_y = np.asarray(yv[q.head:])
    good = np.isfinite(tail_y)
    kept_t = tail_t[good]
    kept_y = tail_y[good]
    kept_t.setflags(write=False)
    kept_y.setflags(write=False)
    return out, RollingState(window, t_end, kept_t, kept_y, q.front_count)


def rolling_mean(t, y, window, state=None):
    """Mean of the good samples in the last ``window`` seconds, at every sample. See ``ext.filter_twins``."""
    t_arr, y_arr, window_, _, state = prepare_rolling(t, y, window, state)
    return _rolling_call(t_arr, y_arr, window_, 0, False, state)


def rolling_std(t, y, window, ddof=1, state=None):
    """Standard deviation of the good samples in the last ``window`` seconds. See ``ext.filter_twins``."""
    t_arr, y_arr, window_, ddof_, state = prepare_rolling(t, y, window, state, ddof)
    return _rolling_call(t_arr, y_arr, window_, ddof_, True, state)


# -- biquad low-pass --------------------------------------------------------------------------------

def biquad_lowpass(y, cutoff_hz, sample_rate_hz, q=SQRT1_2, state=None):
    """Second-order IIR low-pass (RBJ cookbook, Butterworth by default), resumable. See ``ext.filter_twins``."""
    y_arr, coefficients, state = prepare_biquad(y, cutoff_hz, sample_rate_hz, q, state)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    cdef Py_ssize_t n = yv.shape[0]
    if n == 0:
        return np.empty(0), state
    cdef double b0, b1, b2, a1, a2
    b0, b1, b2, a1, a2 = coefficients
    out = np.empty(n)
    cdef double[::1] ov = out
    cdef double x0 = state.x0
    cdef double z1 = state.z1
    cdef double z2 = state.z2
    cdef double x, u, v, r
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            x = yv[i]
            ov[i] = NAN
            if not isfinite(x):
                x0 = NAN
                z1 = 0.0
                z2 = 0.0
                continue
            if isnan(x0):
                x0 = x
            u = x - x0
            v = b0 * u + z1
            z1 = b1 * u - a1 * v + z2
            z2 = b2 * u - a2 * v
            r = x0 + v
            if not isfinite(r):
                x0 = NAN
                z1 = 0.0
                z2 = 0.0
                continue
            ov[i] = r
    return out, BiquadState(state.cutoff_hz, state.sample_rate_hz, state.q, x0, z1, z2)
