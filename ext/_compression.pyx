# cython: language_level=3, annotation_typing=False
"""Compiled history compression: swinging door and deadband, one pass without the GIL.

Same rules, argument checks and error messages as ``ext.compression_twins`` (the reference); the tests in
tests/ext hold the two to identical output.
"""

import numpy as np

from libc.math cimport INFINITY, fabs, isfinite, isnan

from ext.compression_twins import DECREASING_T_MESSAGE, check_compression
from ext.numpy_twins import NONFINITE_T_MESSAGE

cdef enum:  # time errors, as negative results
    T_NOT_FINITE = -2
    T_DECREASING = -3


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
