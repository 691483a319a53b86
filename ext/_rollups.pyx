# cython: language_level=3, annotation_typing=False
"""Compiled time-bucket roll-ups of a tag's stored history, as a stream (``rollup_stream``).

Semantics, argument checks, error messages, the ``Rollups`` rows and the ``RollupState`` are those of
``ext.rollup_twins`` (see there for the exact rules). The loop does the twin's floating-point operations in
the twin's order, so rows and states are bit-identical (tests/ext/test_rollups.py).

Per-call cost is what counts (the historian makes ~20,000 calls a second of a few samples each): arrays that
are already 1-D, contiguous, native float64/int64 are read through their data pointers without a check pass,
a call that closes no bucket returns the shared empty ``Rollups``, and states are filled in slot by slot
(``object.__setattr__``, as the dataclass's own ``__init__`` does, without the call per field).
"""

import numpy as np

cimport numpy as cnp
from cpython.object cimport PyObject_GenericSetAttr
from libc.math cimport INFINITY, NAN, floor, isfinite, isnan
from libc.stdlib cimport free, malloc

from ext.rollup_twins import (
    EMPTY_ROLLUPS,
    RollupState,
    Rollups,
    check_rollup,
    check_rollup_state,
    check_rollup_times,
)
from ext.compression_twins import check_state

cnp.import_array()

cdef enum:
    FAULT = -1  # the loop's result when a time is not finite, goes back or overflows: the twin's checks say which
    STACK_ROWS = 32  # calls of fewer samples than this keep their rows on the stack (no malloc)
    NOGIL_FROM = 4096  # a call releases the GIL only from this many samples on (see ext._compression)


cdef struct Bucket:  # one row; also the open bucket (its last_* are then the stream's last sample)
    double start, sum, mn, mx, first_t, first_y, last_t, last_y, integral, good_s, covered_s
    long long count, good_count, first_q, last_q


cdef struct Stream:  # a RollupState, unpacked; k is the open bucket's index (valid when b.count > 0)
    Bucket b
    double k


cdef inline void _reset(Bucket* b) noexcept nogil:
    """An open bucket's aggregates as the twin starts them (its last_* and first_* are set by the samples)."""
    b.count = 0
    b.good_count = 0
    b.sum = 0.0
    b.integral = 0.0
    b.good_s = 0.0
    b.covered_s = 0.0
    b.mn = INFINITY
    b.mx = -INFINITY


cdef inline Stream _fresh(double last_t) noexcept nogil:
    """RollupState(last_t): no bucket open."""
    cdef Stream s
    _reset(&s.b)
    s.b.last_t = last_t
    s.b.last_y = NAN
    s.b.last_q = 0
    s.b.first_t = NAN
    s.b.first_y = NAN
    s.b.first_q = 0
    s.b.start = NAN  # (not part of the state)
    s.k = 0.0
    return s


cdef inline double _value(double x, double a, double ya, double c, double yc, bint linear) noexcept nogil:
    """The twin's ``_value``: the segment's value at x in [a, c]."""
    if not linear or x <= a:
        return ya
    if x >= c:
        return yc
    return ya + (yc - ya) * ((x - a) / (c - a))


cdef inline void _extreme(Bucket* b, double v) noexcept nogil:
    if v < b.mn:
        b.mn = v
    if v > b.mx:
        b.mx = v


cdef void _advance(Stream* s, double c, double yc, bint good_c, double kc, bint analog, double bs, bint final,
                   Bucket* rows, Py_ssize_t* n_rows) noexcept nogil:
    """The twin's ``advance``: the last sample's segment up to ``c``, row of the bucket it leaves, piece in the
    bucket it enters."""
    cdef Bucket* b = &s.b
    cdef double a = b.last_t, ya = b.last_y
    cdef bint good = b.last_q == 0 and not isnan(ya)
    cdef bint linear = analog and good and good_c
    cdef double hi, lo, end, start, length
    if kc == s.k:
        hi = c
    else:
        end = (s.k + 1.0) * bs
        hi = a if end < a else (c if end > c else end)
        if good:
            _extreme(b, _value(hi, a, ya, c, yc, linear))
    if hi > a:
        length = hi - a
        b.covered_s += length
        if good:
            b.good_s += length
            if linear:
                b.integral += (ya + _value(hi, a, ya, c, yc, True)) * 0.5 * length
            else:
                b.integral += ya * length
    if kc == s.k and not final:
        return
    b.start = s.k * bs
    if not (b.mn <= b.mx):
        b.mn = NAN
        b.mx = NAN
    rows[n_rows[0]] = b[0]
    n_rows[0] += 1
    _reset(b)
    s.k = kc
    if final:
        return
    start = kc * bs
    lo = a if start < a else (c if start > c else start)
    if good and a < start and start < c:
        _extreme(b, _value(lo, a, ya, c, yc, linear))
    if c > lo:
        length = c - lo
        b.covered_s += length
        if good:
            b.good_s += length
            if linear:
                b.integral += (_value(lo, a, ya, c, yc, True) + yc) * 0.5 * length
            else:
                b.integral += ya * length


cdef Py_ssize_t _rollup(const double* t, const double* y, const long long* q, Py_ssize_t n, double bs,
                        bint analog, Stream* s, bint final, double final_at, Bucket* rows) noexcept nogil:
    """The twin's loop: fills ``rows`` (room for n + 1), updates ``s``; the number of rows, or FAULT."""
    cdef Py_ssize_t n_rows = 0
    cdef Py_ssize_t i
    cdef Bucket* b = &s.b
    cdef double ti, yi, ki
    cdef long long qi
    cdef bint good_i
    for i in range(n):
        ti = t[i]
        if not (ti >= b.last_t) or not isfinite(ti):  # checked here: a separate pass would cost more
            return FAULT
        ki = floor(ti / bs) + 0.0  # + 0.0: bucket -0.0 is bucket 0 (the twin's index is an int)
        if not isfinite(ki):
            return FAULT
        yi = y[i]
        qi = q[i]
        good_i = qi == 0 and not isnan(yi)
        if b.count:
            _advance(s, ti, yi, good_i, ki, analog, bs, False, rows, &n_rows)
        else:
            s.k = ki
        if not b.count:
            b.first_t = ti
            b.first_y = yi
            b.first_q = qi
        b.count += 1
        if good_i:
            b.good_count += 1
            b.sum += yi
            _extreme(b, yi)
        b.last_t = ti
        b.last_y = yi
        b.last_q = qi
    if final:
        if not (isfinite(final_at) and final_at >= b.last_t):
            return FAULT
        ki = floor(final_at / bs) + 0.0
        if not isfinite(ki):
            return FAULT
        if b.count:
            _advance(s, final_at, NAN, False, ki, analog, bs, True, rows, &n_rows)
        s[0] = _fresh(final_at)
    return n_rows


# -- Python objects in and out ------------------------------------------------------------------------

cdef inline bint _plain(object a, int typenum):
    """Whether ``a`` can be read as it is: a 1-D, C-contiguous, aligned, native-order array of ``typenum``."""
    if type(a) is not cnp.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray> a
    return (cnp.PyArray_NDIM(arr) == 1 and cnp.PyArray_TYPE(arr) == typenum and cnp.PyArray_IS_C_CONTIGUOUS(arr)
            and cnp.PyArray_ISBEHAVED_RO(arr))


cdef object _new(type kind, tuple names, tuple values):
    """``kind(*values)`` for a frozen slots dataclass without __post_init__, as its __init__ would fill it."""
    obj = kind.__new__(kind)
    cdef Py_ssize_t i
    for i in range(len(names)):
        PyObject_GenericSetAttr(obj, names[i], values[i])
    return obj


cdef tuple STATE_FIELDS = tuple(RollupState.__dataclass_fields__)
cdef tuple ROW_FIELDS = tuple(Rollups.__dataclass_fields__)


cdef object _state(const Stream* s, double bs):
    cdef const Bucket* b = &s.b
    if not b.count:
        return _new(RollupState, STATE_FIELDS, (b.last_t, NAN, 0, NAN, 0, 0, 0.0, INFINITY, -INFINITY, NAN, NAN, 0,
                                                0.0, 0.0, 0.0))
    return _new(RollupState, STATE_FIELDS, (b.last_t, b.last_y, b.last_q, bs, b.count, b.good_count, b.sum, b.mn,
                                            b.mx, b.first_t, b.first_y, b.first_q, b.integral, b.good_s,
                                            b.covered_s))


cdef object _column(const Bucket* rows, Py_ssize_t n, Py_ssize_t field):
    """One field of the rows as a new array (field: its place in ``Rollups``)."""
    cdef cnp.npy_intp dims[1]
    dims[0] = n
    cdef bint ints = field in (1, 2, 8, 11)
    out = cnp.PyArray_EMPTY(1, dims, cnp.NPY_INT64 if ints else cnp.NPY_FLOAT64, 0)
    cdef double* d = <double*> cnp.PyArray_DATA(<cnp.ndarray> out)
    cdef long long* k = <long long*> cnp.PyArray_DATA(<cnp.ndarray> out)
    cdef Py_ssize_t i
    for i in range(n):
        if field == 0:
            d[i] = rows[i].start
        elif field == 1:
            k[i] = rows[i].count
        elif field == 2:
            k[i] = rows[i].good_count
        elif field == 3:
            d[i] = rows[i].sum
        elif field == 4:
            d[i] = rows[i].mn
        elif field == 5:
            d[i] = rows[i].mx
        elif field == 6:
            d[i] = rows[i].first_t
        elif field == 7:
            d[i] = rows[i].first_y
        elif field == 8:
            k[i] = rows[i].first_q
        elif field == 9:
            d[i] = rows[i].last_t
        elif field == 10:
            d[i] = rows[i].last_y
        elif field == 11:
            k[i] = rows[i].last_q
        elif field == 12:
            d[i] = rows[i].integral
        elif field == 13:
            d[i] = rows[i].good_s
        else:
            d[i] = rows[i].covered_s
    return out


cdef object _rollups(const Bucket* rows, Py_ssize_t n):
    if n == 0:
        return EMPTY_ROLLUPS
    return _new(Rollups, ROW_FIELDS, tuple([_column(rows, n, f) for f in range(15)]))


def rollup_stream(t, y, q, bucket_s, analog, state=None, final_at=None):
    """Roll-ups of one tag's samples into buckets of ``bucket_s`` seconds: ``(rows, state)``. See
    ``ext.rollup_twins``."""
    cdef double bs
    if (_plain(t, cnp.NPY_FLOAT64) and _plain(y, cnp.NPY_FLOAT64) and _plain(q, cnp.NPY_INT64)
            and cnp.PyArray_DIMS(<cnp.ndarray> t)[0] == cnp.PyArray_DIMS(<cnp.ndarray> y)[0]
            == cnp.PyArray_DIMS(<cnp.ndarray> q)[0]):
        bs = bucket_s
        if not (bs > 0.0 and isfinite(bs)):
            check_rollup(t, y, q, bucket_s)  # raises
    else:
        t, y, q = check_rollup(t, y, q, bucket_s)
        t, y, q = np.require(t, None, "CA"), np.require(y, None, "CA"), np.require(q, None, "CA")
        bs = bucket_s
    cdef Stream s
    if state is None:
        s = _fresh(-INFINITY)
    else:
        if type(state) is not RollupState:
            check_state(state, RollupState, "rollup_stream")  # raises, unless a subclass
        s.b.count = state.count
        s.b.last_t = state.last_t
        if s.b.count:
            if state.bucket_s != bs:
                check_rollup_state(state, bs)  # raises
            s.b.last_y, s.b.last_q = state.last_y, state.last_q
            s.b.good_count, s.b.sum, s.b.mn, s.b.mx = state.good_count, state.sum, state.min, state.max
            s.b.first_t, s.b.first_y, s.b.first_q = state.first_t, state.first_y, state.first_q
            s.b.integral, s.b.good_s, s.b.covered_s = state.integral, state.good_s, state.covered_s
            s.k = floor(s.b.last_t / bs) + 0.0
        else:
            s = _fresh(s.b.last_t)
    cdef bint final = final_at is not None
    cdef double fa = NAN
    if final:
        fa = final_at
    cdef bint lin = analog
    cdef Py_ssize_t n = cnp.PyArray_DIMS(<cnp.ndarray> t)[0]
    if n == 0 and not final:
        return EMPTY_ROLLUPS, (state if state is not None else RollupState())
    cdef double last_t = s.b.last_t
    cdef const double* tp = <const double*> cnp.PyArray_DATA(<cnp.ndarray> t)
    cdef const double* yp = <const double*> cnp.PyArray_DATA(<cnp.ndarray> y)
    cdef const long long* qp = <const long long*> cnp.PyArray_DATA(<cnp.ndarray> q)
    cdef Bucket on_stack[STACK_ROWS]
    cdef Bucket* rows = on_stack
    cdef Py_ssize_t n_rows
    if n + 1 > STACK_ROWS:
        rows = <Bucket*> malloc((n + 1) * sizeof(Bucket))
        if rows == NULL:
            raise MemoryError()
    try:
        if n >= NOGIL_FROM:
            with nogil:
                n_rows = _rollup(tp, yp, qp, n, bs, lin, &s, final, fa, rows)
        else:
            n_rows = _rollup(tp, yp, qp, n, bs, lin, &s, final, fa, rows)
        if n_rows == FAULT:
            check_rollup_times(t, last_t, bs, float(final_at) if final else None)
            raise AssertionError("unreachable: check_rollup_times accepted what the loop refused")
        out = _rollups(rows, n_rows)
    finally:
        if rows != on_stack:
            free(rows)
    return out, _state(&s, bs)
