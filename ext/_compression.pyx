# cython: language_level=3, annotation_typing=False
"""Compiled history compression: swinging door and deadband, batch and stream, one pass.

Same rules, argument checks, error messages and state objects as ``ext.compression_twins`` (the reference;
the states are its dataclasses). Each loop does the twin's floating-point operations in the twin's order,
and the batch and stream kernels share it, as in the twin; the tests in tests/ext hold the two to identical
output and states.
"""

import numpy as np

from libc.math cimport INFINITY, NAN, fabs, isfinite, isnan
from libc.stdlib cimport free, malloc

from ext.compression_twins import (
    DECREASING_T_MESSAGE,
    DeadbandState,
    SdtState,
    check_compression,
    check_many,
    check_state,
)
from ext.numpy_twins import NONFINITE_T_MESSAGE

cdef extern from *:
    """
    /* Python's min(a, b) and max(a, b) on doubles: b if it is strictly below (above) a, else a, so a NaN b
     * leaves a alone. MINSD/MAXSD are exactly that; written as a branch, gcc kept one of the two SDT door
     * updates as a jump that the door's random walk mispredicts (265 instead of 450 M points/s). */
    #if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
    #include <emmintrin.h>
    static inline double lw_min(double a, double b) { return _mm_cvtsd_f64(_mm_min_sd(_mm_set_sd(b), _mm_set_sd(a))); }
    static inline double lw_max(double a, double b) { return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(b), _mm_set_sd(a))); }
    #else
    static inline double lw_min(double a, double b) { return b < a ? b : a; }
    static inline double lw_max(double a, double b) { return b > a ? b : a; }
    #endif
    """
    double lw_min(double a, double b) noexcept nogil
    double lw_max(double a, double b) noexcept nogil

cdef enum:
    BAD_TIME = -1  # a loop's result when a time is not finite or goes back: the caller says which
    STACK_KEEP = 128  # stream batches up to this size keep their indices on the stack (no malloc)
    # A stream batch releases the GIL only from this size on: a historian makes ~10,000 calls of ~10 points
    # a second, and each release could wait for another thread's switch interval to get the GIL back.
    NOGIL_FROM = 4096


cdef void _raise_time_error(const double[::1] t) except *:
    """The twin's order: any non-finite time first, else a decrease (within the batch or from the last)."""
    cdef Py_ssize_t i
    for i in range(t.shape[0]):
        if not isfinite(t[i]):
            raise ValueError(NONFINITE_T_MESSAGE)
    raise ValueError(DECREASING_T_MESSAGE)


cdef tuple _points(const double[::1] t, const double[::1] y, const Py_ssize_t* keep, Py_ssize_t count,
                   double held_t, double held_y):
    """The kept points as (times, values); index -1 is the last point of the batch before."""
    out_t = np.empty(count)
    out_y = np.empty(count)
    cdef double[::1] ot = out_t
    cdef double[::1] oy = out_y
    cdef Py_ssize_t j, k
    for j in range(count):
        k = keep[j]
        if k < 0:
            ot[j] = held_t
            oy[j] = held_y
        else:
            ot[j] = t[k]
            oy[j] = y[k]
    return out_t, out_y


# -- swinging door ----------------------------------------------------------------------------------

cdef struct Sdt:  # an SdtState, unpacked
    double last_t, last_y, pivot_t, pivot_y, upper, lower
    bint last_archived


cdef inline Sdt _sdt_start(double last_t, double last_y) noexcept nogil:
    """SdtState(last_t, last_y): no stream open."""
    cdef Sdt s
    s.last_t = last_t
    s.last_y = last_y
    s.last_archived = True
    s.pivot_t = NAN
    s.pivot_y = NAN
    s.upper = -INFINITY
    s.lower = INFINITY
    return s


cdef Py_ssize_t _sdt(const double[::1] t, const double[::1] y, double dev, double max_dt, Sdt* s, bint final,
                     Py_ssize_t* keep) noexcept nogil:
    """The twin's ``_sdt``: fills ``keep`` (room for n + 1), updates ``s``; the count, or BAD_TIME."""
    cdef Py_ssize_t n = t.shape[0]
    cdef Py_ssize_t count = 0
    cdef Py_ssize_t i
    cdef double last_t = s.last_t, last_y = s.last_y, pivot_t = s.pivot_t, pivot_y = s.pivot_y
    cdef double upper = s.upper, lower = s.lower
    cdef bint archived = s.last_archived, prev_archived
    cdef double ti, yi, prev_t, prev_y, dt, inv, slope
    for i in range(n):
        ti = t[i]
        yi = y[i]
        if not (ti >= last_t) or not isfinite(ti):  # checked in the loop: a separate pass cost more
            return BAD_TIME
        prev_t = last_t
        prev_y = last_y
        prev_archived = archived
        last_t = ti
        last_y = yi
        archived = True
        if not isfinite(yi) or not isfinite(pivot_y):
            if not prev_archived:
                keep[count] = i - 1
                count += 1
            keep[count] = i
            count += 1
            pivot_t = ti
            pivot_y = yi
            upper = -INFINITY
            lower = INFINITY
            continue
        dt = ti - pivot_t
        if dt > max_dt and not prev_archived:
            keep[count] = i - 1
            count += 1
            pivot_t = prev_t
            pivot_y = prev_y
            upper = -INFINITY
            lower = INFINITY
            prev_archived = True
            dt = ti - pivot_t
        if dt <= 0.0:
            keep[count] = i
            count += 1
            pivot_t = ti
            pivot_y = yi
            upper = -INFINITY
            lower = INFINITY
            continue
        inv = 1.0 / dt
        slope = (yi - pivot_y) * inv
        if not (upper <= slope and slope <= lower):
            if not prev_archived:
                keep[count] = i - 1
                count += 1
                pivot_t = prev_t
                pivot_y = prev_y
                dt = ti - pivot_t
                if dt <= 0.0:
                    keep[count] = i
                    count += 1
                    pivot_t = ti
                    pivot_y = yi
                    upper = -INFINITY
                    lower = INFINITY
                    continue
                inv = 1.0 / dt
            upper = -INFINITY
            lower = INFINITY
        upper = lw_max(upper, (yi - pivot_y - dev) * inv)
        lower = lw_min(lower, (yi - pivot_y + dev) * inv)
        archived = False
    if final:
        if not archived:
            keep[count] = n - 1
            count += 1
        s[0] = _sdt_start(last_t, last_y)
        return count
    s.last_t, s.last_y, s.last_archived = last_t, last_y, archived
    s.pivot_t, s.pivot_y, s.upper, s.lower = pivot_t, pivot_y, upper, lower
    return count


def sdt_compress(t, y, deviation, max_interval=float("inf")):
    """Swinging-door compression: indices of the points to keep. See ``ext.compression_twins``."""
    t_arr, y_arr = check_compression(t, y, deviation, max_interval)
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    keep = np.empty(tv.shape[0] + 1, dtype=np.intp)  # + 1: room for the stream's held point, never used here
    cdef Py_ssize_t[::1] kv = keep
    cdef double dev = deviation
    cdef double max_dt = max_interval
    cdef Sdt s = _sdt_start(-INFINITY, NAN)
    cdef Py_ssize_t count
    with nogil:
        count = _sdt(tv, yv, dev, max_dt, &s, True, &kv[0])
    if count == BAD_TIME:
        _raise_time_error(tv)
    return keep[:count].copy()


def sdt_stream(t, y, deviation, max_interval=float("inf"), state=None, bint final=False):
    """Swinging door on a stream: ``(times, values, state)`` of the points archived by this batch.
    See ``ext.compression_twins``."""
    t_arr, y_arr = check_compression(t, y, deviation, max_interval)
    cdef Sdt s = _sdt_of(state, "sdt_stream")
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    cdef double dev = deviation
    cdef double max_dt = max_interval
    cdef double held_t = s.last_t, held_y = s.last_y
    cdef Py_ssize_t n = tv.shape[0]
    cdef Py_ssize_t count
    cdef Py_ssize_t on_stack[STACK_KEEP]
    cdef Py_ssize_t* keep = on_stack
    if n >= STACK_KEEP:
        keep = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
        if keep == NULL:
            raise MemoryError()
    try:
        if n >= NOGIL_FROM:
            with nogil:
                count = _sdt(tv, yv, dev, max_dt, &s, final, keep)
        else:
            count = _sdt(tv, yv, dev, max_dt, &s, final, keep)
        if count == BAD_TIME:
            _raise_time_error(tv)
        out_t, out_y = _points(tv, yv, keep, count, held_t, held_y)
    finally:
        if keep != on_stack:
            free(keep)
    return out_t, out_y, SdtState(s.last_t, s.last_y, s.last_archived, s.pivot_t, s.pivot_y, s.upper, s.lower)


# -- deadband ---------------------------------------------------------------------------------------

cdef struct Deadband:  # a DeadbandState, unpacked
    double last_t, last_y, kept_t, kept_y
    bint last_archived


cdef inline Deadband _deadband_start(double last_t, double last_y) noexcept nogil:
    """DeadbandState(last_t, last_y): no stream open."""
    cdef Deadband s
    s.last_t = last_t
    s.last_y = last_y
    s.last_archived = True
    s.kept_t = -INFINITY
    s.kept_y = NAN
    return s


cdef Py_ssize_t _deadband(const double[::1] t, const double[::1] y, double band, double max_dt, Deadband* s,
                          bint gap_edges, bint final, Py_ssize_t* keep) noexcept nogil:
    """The twin's ``_deadband``: fills ``keep`` (room for n + 1), updates ``s``; the count, or BAD_TIME."""
    cdef Py_ssize_t n = t.shape[0]
    cdef Py_ssize_t count = 0
    cdef Py_ssize_t i
    cdef double last_t = s.last_t, last_y = s.last_y, kept_t = s.kept_t, kept_y = s.kept_y
    cdef bint archived = s.last_archived
    cdef double ti, yi
    cdef bint finite, same
    for i in range(n):
        ti = t[i]
        yi = y[i]
        if not (ti >= last_t) or not isfinite(ti):
            return BAD_TIME
        finite = isfinite(yi)
        same = (isnan(yi) and isnan(kept_y)) or yi == kept_y
        if (finite != isfinite(kept_y) or (not finite and not same) or (finite and fabs(yi - kept_y) > band)
                or ti - kept_t >= max_dt):
            if gap_edges and not finite and not archived and isfinite(last_y):
                keep[count] = i - 1
                count += 1
            keep[count] = i
            count += 1
            kept_t = ti
            kept_y = yi
            archived = True
        else:
            archived = False
        last_t = ti
        last_y = yi
    if final:
        if not archived:
            keep[count] = n - 1
            count += 1
        s[0] = _deadband_start(last_t, last_y)
        return count
    s.last_t, s.last_y, s.last_archived, s.kept_t, s.kept_y = last_t, last_y, archived, kept_t, kept_y
    return count


def deadband_filter(t, y, deadband, max_interval=float("inf")):
    """Deadband filter: indices of the points to keep. See ``ext.compression_twins``."""
    t_arr, y_arr = check_compression(t, y, deadband, max_interval, "deadband")
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    keep = np.empty(tv.shape[0] + 1, dtype=np.intp)
    cdef Py_ssize_t[::1] kv = keep
    cdef double band = deadband
    cdef double max_dt = max_interval
    cdef Deadband s = _deadband_start(-INFINITY, NAN)
    cdef Py_ssize_t count
    with nogil:
        count = _deadband(tv, yv, band, max_dt, &s, False, False, &kv[0])
    if count == BAD_TIME:
        _raise_time_error(tv)
    return keep[:count].copy()


def deadband_stream(t, y, deadband, max_interval=float("inf"), state=None, bint final=False):
    """Deadband filter on a stream: ``(times, values, state)`` of the points kept by this batch, and the
    last value before a gap. See ``ext.compression_twins``."""
    t_arr, y_arr = check_compression(t, y, deadband, max_interval, "deadband")
    cdef Deadband s = _deadband_of(state, "deadband_stream")
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    cdef double band = deadband
    cdef double max_dt = max_interval
    cdef double held_t = s.last_t, held_y = s.last_y
    cdef Py_ssize_t n = tv.shape[0]
    cdef Py_ssize_t count
    cdef Py_ssize_t on_stack[STACK_KEEP]
    cdef Py_ssize_t* keep = on_stack
    if n >= STACK_KEEP:
        keep = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
        if keep == NULL:
            raise MemoryError()
    try:
        if n >= NOGIL_FROM:
            with nogil:
                count = _deadband(tv, yv, band, max_dt, &s, True, final, keep)
        else:
            count = _deadband(tv, yv, band, max_dt, &s, True, final, keep)
        if count == BAD_TIME:
            _raise_time_error(tv)
        out_t, out_y = _points(tv, yv, keep, count, held_t, held_y)
    finally:
        if keep != on_stack:
            free(keep)
    return out_t, out_y, DeadbandState(s.last_t, s.last_y, s.last_archived, s.kept_t, s.kept_y)


# -- many series at once ------------------------------------------------------------------------------

cdef Sdt _sdt_of(state, str caller) except *:
    """An SdtState (or None: a new stream) unpacked."""
    cdef Sdt s
    if state is None:
        return _sdt_start(-INFINITY, NAN)
    if type(state) is not SdtState:
        check_state(state, SdtState, caller)  # raises, unless a subclass
    s.last_t, s.last_y, s.last_archived = state.last_t, state.last_y, state.last_archived
    s.pivot_t, s.pivot_y, s.upper, s.lower = state.pivot_t, state.pivot_y, state.upper, state.lower
    return s


cdef Deadband _deadband_of(state, str caller) except *:
    """A DeadbandState (or None: a new stream) unpacked."""
    cdef Deadband s
    if state is None:
        return _deadband_start(-INFINITY, NAN)
    if type(state) is not DeadbandState:
        check_state(state, DeadbandState, caller)  # raises, unless a subclass
    s.last_t, s.last_y, s.last_archived = state.last_t, state.last_y, state.last_archived
    s.kept_t, s.kept_y = state.kept_t, state.kept_y
    return s


cdef tuple _stream_many(bint sdt, t, y, starts, parameter, max_interval, list states, str name):
    """One loop over the segments for both kernels: states unpacked with the GIL, the kernels run without
    it, the kept points gathered and the states packed with it again."""
    t_arr, y_arr, bounds, par, mx = check_many(t, y, starts, parameter, max_interval, states, name)
    cdef const double[::1] tv = np.ascontiguousarray(t_arr)
    cdef const double[::1] yv = np.ascontiguousarray(y_arr)
    cdef const long long[::1] bv = np.ascontiguousarray(bounds, dtype=np.int64)
    cdef const double[::1] pv = par
    cdef const double[::1] mv = mx
    cdef Py_ssize_t m = bv.shape[0] - 1
    cdef Py_ssize_t n = tv.shape[0]
    cdef Py_ssize_t i, j, a, b, count, total = 0, bad = -1
    cdef Sdt* sdts = NULL
    cdef Deadband* bands = NULL
    cdef Py_ssize_t* keep = <Py_ssize_t*> malloc((n + m + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* counts = <Py_ssize_t*> malloc((m + 1) * sizeof(Py_ssize_t))
    cdef double* held = <double*> malloc((2 * m + 1) * sizeof(double))
    if sdt:
        sdts = <Sdt*> malloc((m + 1) * sizeof(Sdt))
    else:
        bands = <Deadband*> malloc((m + 1) * sizeof(Deadband))
    try:
        if keep == NULL or counts == NULL or held == NULL or (sdts == NULL and bands == NULL):
            raise MemoryError()
        for i in range(m):
            if sdt:
                sdts[i] = _sdt_of(states[i], "sdt_stream_many")
                held[2 * i], held[2 * i + 1] = sdts[i].last_t, sdts[i].last_y
            else:
                bands[i] = _deadband_of(states[i], "deadband_stream_many")
                held[2 * i], held[2 * i + 1] = bands[i].last_t, bands[i].last_y
        with nogil:
            for i in range(m):
                a, b = bv[i], bv[i + 1]
                if sdt:
                    count = _sdt(tv[a:b], yv[a:b], pv[i], mv[i], &sdts[i], False, keep + total)
                else:
                    count = _deadband(tv[a:b], yv[a:b], pv[i], mv[i], &bands[i], True, False, keep + total)
                if count == BAD_TIME:
                    bad = i
                    break
                counts[i] = count
                total += count
        if bad >= 0:
            try:
                _raise_time_error(tv[bv[bad]:bv[bad + 1]])
            except ValueError as exc:
                raise ValueError(f"segment {bad}: {exc}") from None
        segment = np.empty(total, dtype=np.int64)
        out_t = np.empty(total)
        out_y = np.empty(total)
        _gather(tv, yv, bv, keep, counts, held, m, segment, out_t, out_y)
        if sdt:
            after = [SdtState(sdts[i].last_t, sdts[i].last_y, sdts[i].last_archived, sdts[i].pivot_t,
                              sdts[i].pivot_y, sdts[i].upper, sdts[i].lower) for i in range(m)]
        else:
            after = [DeadbandState(bands[i].last_t, bands[i].last_y, bands[i].last_archived, bands[i].kept_t,
                                   bands[i].kept_y) for i in range(m)]
        return segment, out_t, out_y, after
    finally:
        free(keep)
        free(counts)
        free(held)
        free(sdts)
        free(bands)


cdef void _gather(const double[::1] tv, const double[::1] yv, const long long[::1] bv, const Py_ssize_t* keep,
                  const Py_ssize_t* counts, const double* held, Py_ssize_t m, long long[::1] segment,
                  double[::1] out_t, double[::1] out_y) noexcept nogil:
    """The kept points of every segment (local index -1: the segment's held point of the batch before)."""
    cdef Py_ssize_t i, j, k, at = 0, a
    for i in range(m):
        a = bv[i]
        for j in range(counts[i]):
            k = keep[at]
            segment[at] = i
            if k < 0:
                out_t[at] = held[2 * i]
                out_y[at] = held[2 * i + 1]
            else:
                out_t[at] = tv[a + k]
                out_y[at] = yv[a + k]
            at += 1


def sdt_stream_many(t, y, starts, deviation, max_interval, states):
    """``sdt_stream`` on many series in one call. See ``ext.compression_twins``."""
    return _stream_many(True, t, y, starts, deviation, max_interval, list(states), "deviation")


def deadband_stream_many(t, y, starts, deadband, max_interval, states):
    """``deadband_stream`` on many series in one call. See ``ext.compression_twins``."""
    return _stream_many(False, t, y, starts, deadband, max_interval, list(states), "deadband")
