# cython: language_level=3, annotation_typing=False
"""Compiled reading of a series (ts_us, value, quality) out of a SQLite file: the SQLite C API into NumPy arrays.

Semantics, arguments, checks, errors and messages are those of ``ext.sqlite_read_twins`` (see there): the twin
runs Python's sqlite3 module, which builds a tuple of three Python objects per row (~2 ms for an hour of one
tag at 1 s); here the rows are stepped with the GIL released and their columns written straight into C
buffers that double when full, then copied once into the three arrays. No Python object is made per row.

The connection is opened like the twin's (the same ``file:...?mode=ro`` URI, the same busy timeout) with
SQLITE_OPEN_NOMUTEX: it is only ever used by the thread that opened it (checked, as Python's sqlite3 checks),
so SQLite's per-call connection mutex would only cost time. Linked against the system libsqlite3, the
library Python's own _sqlite3 uses (setup.py: ``libraries=["sqlite3"]``).
"""

import numpy as np

cimport numpy as cnp
from libc.math cimport NAN
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

from ext.sqlite_read_twins import (
    CLOSED_MESSAGE,
    TAIL_MESSAGE,
    binding_count_error,
    bind_values,
    check_sql,
    column_count_error,
    column_type_error,
    empty_series,
    readonly_uri,
    sqlite_error,
    thread_error,
)
import sqlite3 as _sqlite3

cnp.import_array()


cdef extern from "sqlite3.h" nogil:
    ctypedef struct sqlite3
    ctypedef struct sqlite3_stmt
    ctypedef long long sqlite3_int64
    ctypedef void (*sqlite3_destructor_type)(void*)
    sqlite3_destructor_type SQLITE_STATIC
    enum:
        SQLITE_OK
        SQLITE_NOMEM
        SQLITE_ROW
        SQLITE_DONE
        SQLITE_INTEGER
        SQLITE_FLOAT
        SQLITE_NULL
        SQLITE_OPEN_READONLY
        SQLITE_OPEN_URI
        SQLITE_OPEN_NOMUTEX
    int sqlite3_open_v2(const char* filename, sqlite3** db, int flags, const char* vfs)
    int sqlite3_close_v2(sqlite3* db)
    int sqlite3_busy_timeout(sqlite3* db, int ms)
    int sqlite3_exec(sqlite3* db, const char* sql, void* callback, void* arg, char** errmsg)
    int sqlite3_prepare_v2(sqlite3* db, const char* sql, int nbyte, sqlite3_stmt** stmt, const char** tail)
    int sqlite3_bind_parameter_count(sqlite3_stmt* stmt)
    int sqlite3_bind_null(sqlite3_stmt* stmt, int i)
    int sqlite3_bind_int64(sqlite3_stmt* stmt, int i, sqlite3_int64 value)
    int sqlite3_bind_double(sqlite3_stmt* stmt, int i, double value)
    int sqlite3_bind_text(sqlite3_stmt* stmt, int i, const char* text, int n, sqlite3_destructor_type destructor)
    int sqlite3_bind_blob(sqlite3_stmt* stmt, int i, const void* blob, int n, sqlite3_destructor_type destructor)
    int sqlite3_column_count(sqlite3_stmt* stmt)
    int sqlite3_step(sqlite3_stmt* stmt)
    int sqlite3_column_type(sqlite3_stmt* stmt, int col)
    sqlite3_int64 sqlite3_column_int64(sqlite3_stmt* stmt, int col)
    double sqlite3_column_double(sqlite3_stmt* stmt, int col)
    int sqlite3_finalize(sqlite3_stmt* stmt)
    int sqlite3_extended_errcode(sqlite3* db)
    const char* sqlite3_errmsg(sqlite3* db)
    char* sqlite3_mprintf(const char* fmt, ...)
    void sqlite3_free(void* p)


cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object text, Py_ssize_t* size) except NULL
    char* PyBytes_AS_STRING(object data)
    Py_ssize_t PyBytes_GET_SIZE(object data)
    unsigned long PyThread_get_thread_ident()


cdef enum:
    INITIAL_ROWS = 4096  # an hour at 1 s fits without growing
    # what a query came to (Outcome.status)
    DONE = 0
    FAILED = 1  # SQLite reported an error: Outcome.code, Outcome.message
    SECOND_STATEMENT = 2
    BINDING_COUNT = 3
    COLUMN_COUNT = 4
    BAD_TYPE = 5
    NO_MEMORY = 6
    # parameter kinds
    P_NULL = 0
    P_INT = 1
    P_DOUBLE = 2
    P_TEXT = 3
    P_BLOB = 4


cdef struct Param:
    int kind
    sqlite3_int64 i
    double d
    const char* p
    Py_ssize_t n


cdef struct Outcome:
    int status
    int code
    char* message  # sqlite3_mprintf'd copy of SQLite's message (FAILED)
    int needed  # parameters the statement has (BINDING_COUNT), columns it returns (COLUMN_COUNT)
    Py_ssize_t bad_row
    int bad_column, bad_type
    Py_ssize_t n, cap
    sqlite3_int64* ts
    double* value
    sqlite3_int64* quality


cdef inline void _failed(sqlite3* db, Outcome* out) noexcept nogil:
    out.status = FAILED
    out.code = sqlite3_extended_errcode(db)
    out.message = sqlite3_mprintf("%s", sqlite3_errmsg(db))


cdef const char* _lstrip_sql(const char* sql) noexcept nogil:
    """What is left of `sql` after whitespace and comments; NULL when nothing (Python's sqlite3's rule, 3.11)."""
    cdef const char* pos = sql
    cdef char c
    while pos[0] != 0:
        c = pos[0]
        if c == b' ' or c == b'\t' or c == b'\f' or c == b'\n' or c == b'\r':
            pass
        elif c == b'-':
            if pos[1] != b'-':
                return pos
            pos += 2
            while pos[0] != 0 and pos[0] != b'\n':
                pos += 1
            if pos[0] == 0:
                return NULL
        elif c == b'/':
            if pos[1] != b'*':
                return pos
            pos += 2
            while pos[0] != 0 and (pos[0] != b'*' or pos[1] != b'/'):
                pos += 1
            if pos[0] == 0:
                return NULL
            pos += 1
        else:
            return pos
        pos += 1
    return NULL


cdef bint _grow(Outcome* out) noexcept nogil:
    cdef Py_ssize_t cap = out.cap * 2 if out.cap else INITIAL_ROWS
    cdef void* ts = realloc(out.ts, cap * sizeof(sqlite3_int64))
    if ts == NULL:
        return False
    out.ts = <sqlite3_int64*>ts
    cdef void* value = realloc(out.value, cap * sizeof(double))
    if value == NULL:
        return False
    out.value = <double*>value
    cdef void* quality = realloc(out.quality, cap * sizeof(sqlite3_int64))
    if quality == NULL:
        return False
    out.quality = <sqlite3_int64*>quality
    out.cap = cap
    return True


cdef void _run(sqlite3* db, const char* sql, Py_ssize_t sql_n, const Param* params, int n_params,
               Outcome* out) noexcept nogil:
    """Prepare, bind, step every row into out's buffers, finalize (without the GIL)."""
    cdef sqlite3_stmt* stmt = NULL
    cdef const char* tail = NULL
    cdef int rc, k, columns, t0, t1, t2
    cdef bint bad = False
    rc = sqlite3_prepare_v2(db, sql, <int>(sql_n + 1), &stmt, &tail)
    if rc != SQLITE_OK:
        _failed(db, out)
        return
    if _lstrip_sql(tail) != NULL:
        out.status = SECOND_STATEMENT
        sqlite3_finalize(stmt)
        return
    out.needed = sqlite3_bind_parameter_count(stmt)
    if out.needed != n_params:
        out.status = BINDING_COUNT
        sqlite3_finalize(stmt)
        return
    for k in range(n_params):
        if params[k].kind == P_INT:
            rc = sqlite3_bind_int64(stmt, k + 1, params[k].i)
        elif params[k].kind == P_DOUBLE:
            rc = sqlite3_bind_double(stmt, k + 1, params[k].d)
        elif params[k].kind == P_TEXT:
            rc = sqlite3_bind_text(stmt, k + 1, params[k].p, <int>params[k].n, SQLITE_STATIC)
        elif params[k].kind == P_BLOB:
            rc = sqlite3_bind_blob(stmt, k + 1, params[k].p, <int>params[k].n, SQLITE_STATIC)
        else:
            rc = sqlite3_bind_null(stmt, k + 1)
        if rc != SQLITE_OK:
            _failed(db, out)
            sqlite3_finalize(stmt)
            return
    if stmt == NULL:  # only whitespace and comments: no statement, no columns (sqlite3_step would be a misuse)
        out.status = COLUMN_COUNT
        out.needed = 0
        return
    columns = sqlite3_column_count(stmt)
    while True:
        rc = sqlite3_step(stmt)
        if rc == SQLITE_DONE or (rc == SQLITE_ROW and columns != 3):
            if columns != 3:
                out.status = COLUMN_COUNT
                out.needed = columns
            elif bad:
                out.status = BAD_TYPE
            break
        if rc != SQLITE_ROW:
            _failed(db, out)
            break
        if bad:  # a value of the wrong type was seen: step on only for an error of SQLite's, which comes first
            continue
        t0 = sqlite3_column_type(stmt, 0)
        t1 = sqlite3_column_type(stmt, 1)
        t2 = sqlite3_column_type(stmt, 2)
        if t0 != SQLITE_INTEGER or (t1 != SQLITE_FLOAT and t1 != SQLITE_INTEGER and t1 != SQLITE_NULL) \
                or t2 != SQLITE_INTEGER:
            bad = True
            out.bad_row = out.n  # (every row before it was stored)
            if t0 != SQLITE_INTEGER:
                out.bad_column, out.bad_type = 0, t0
            elif t1 != SQLITE_FLOAT and t1 != SQLITE_INTEGER and t1 != SQLITE_NULL:
                out.bad_column, out.bad_type = 1, t1
            else:
                out.bad_column, out.bad_type = 2, t2
            continue
        if out.n == out.cap and not _grow(out):
            out.status = NO_MEMORY
            break
        out.ts[out.n] = sqlite3_column_int64(stmt, 0)
        out.value[out.n] = NAN if t1 == SQLITE_NULL else sqlite3_column_double(stmt, 1)
        out.quality[out.n] = sqlite3_column_int64(stmt, 2)
        out.n += 1
    sqlite3_finalize(stmt)


cdef object _error(Outcome* out):
    """The exception for a query that did not come to DONE (with the GIL)."""
    if out.status == FAILED:
        message = "out of memory" if out.message == NULL else out.message.decode("utf-8", "replace")
        return sqlite_error(out.code, message)
    if out.status == SECOND_STATEMENT:
        return _sqlite3.ProgrammingError(TAIL_MESSAGE)
    if out.status == BINDING_COUNT:
        return None  # raised by the caller, which knows how many were supplied
    if out.status == COLUMN_COUNT:
        return column_count_error(out.needed)
    if out.status == BAD_TYPE:
        return column_type_error(out.bad_row, out.bad_column, out.bad_type)
    return MemoryError()


cdef tuple _query(sqlite3* db, object sql, tuple values):
    """One query on an open connection: the three arrays (with the GIL; releases it while SQLite works)."""
    cdef Py_ssize_t sql_n = 0, n, k
    cdef const char* sql_c = PyUnicode_AsUTF8AndSize(sql, &sql_n)
    cdef int n_params = <int>len(values)
    cdef Param* params = <Param*>malloc(max(n_params, 1) * sizeof(Param))
    cdef Outcome out
    cdef cnp.ndarray ts, value, quality
    if params == NULL:
        raise MemoryError()
    out.status = DONE
    out.message = NULL
    out.n = out.cap = 0
    out.ts = out.quality = NULL
    out.value = NULL
    try:
        for k in range(n_params):  # exact types (bind_values); the tuple keeps the texts alive
            x = values[k]
            params[k].kind = P_NULL
            if x is None:
                pass
            elif type(x) is int:
                params[k].kind = P_INT
                params[k].i = x
            elif type(x) is float:
                params[k].kind = P_DOUBLE
                params[k].d = x
            elif type(x) is str:
                params[k].kind = P_TEXT
                params[k].p = PyUnicode_AsUTF8AndSize(x, &params[k].n)
            else:
                params[k].kind = P_BLOB
                params[k].p = PyBytes_AS_STRING(x)
                params[k].n = PyBytes_GET_SIZE(x)
        with nogil:
            _run(db, sql_c, sql_n, params, n_params, &out)
        if out.status != DONE:
            if out.status == BINDING_COUNT:
                raise binding_count_error(out.needed, n_params)
            raise _error(&out)
        n = out.n
        if n == 0:
            return empty_series()
        ts = np.empty(n, dtype=np.int64)
        value = np.empty(n, dtype=np.float64)
        quality = np.empty(n, dtype=np.int64)
        memcpy(cnp.PyArray_DATA(ts), out.ts, n * sizeof(sqlite3_int64))
        memcpy(cnp.PyArray_DATA(value), out.value, n * sizeof(double))
        memcpy(cnp.PyArray_DATA(quality), out.quality, n * sizeof(sqlite3_int64))
        return ts, value, quality
    finally:
        free(params)
        free(out.ts)
        free(out.value)
        free(out.quality)
        if out.message != NULL:
            sqlite3_free(out.message)


cdef sqlite3* _open(object path, double timeout) except NULL:
    """A read-only connection, as the twin opens one (with the GIL; releases it while SQLite opens the file)."""
    cdef bytes uri = readonly_uri(path).encode("utf-8")
    cdef const char* uri_c = uri
    cdef sqlite3* db = NULL
    cdef int rc
    cdef Outcome out
    out.message = NULL
    with nogil:
        rc = sqlite3_open_v2(uri_c, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL)
        if rc == SQLITE_OK:
            sqlite3_busy_timeout(db, <int>(timeout * 1000))
        elif db != NULL:
            _failed(db, &out)
            sqlite3_close_v2(db)
    if rc == SQLITE_OK:
        return db
    if db == NULL or rc == SQLITE_NOMEM:
        raise MemoryError()
    try:
        raise _error(&out)
    finally:
        sqlite3_free(out.message)


def read_series(path, sql, params=(), double timeout=5.0):
    """(ts_us int64, value float64, quality int64) of one query on a fresh read-only connection (blocking).

    See ``ext.sqlite_read_twins.read_series``."""
    cdef sqlite3* db
    sql = check_sql(sql)
    values = bind_values(params)
    db = _open(path, timeout)
    try:
        return _query(db, sql, values)
    finally:
        with nogil:
            sqlite3_close_v2(db)


cdef class SqliteReader:
    """One read-only connection and one read transaction: every query sees the same snapshot of the file.

    See ``ext.sqlite_read_twins.SqliteReader``."""

    cdef sqlite3* db
    cdef unsigned long thread

    def __cinit__(self, path, double timeout=5.0):
        cdef sqlite3* db = _open(path, timeout)
        cdef int rc
        cdef Outcome out
        out.message = NULL
        with nogil:
            rc = sqlite3_exec(db, b"BEGIN", NULL, NULL, NULL)  # deferred: the snapshot is taken by the first query
            if rc != SQLITE_OK:
                _failed(db, &out)
                sqlite3_close_v2(db)
        if rc != SQLITE_OK:
            try:
                raise _error(&out)
            finally:
                sqlite3_free(out.message)
        self.db = db
        self.thread = PyThread_get_thread_ident()

    def __dealloc__(self):
        if self.db != NULL:
            sqlite3_close_v2(self.db)
            self.db = NULL

    cdef int _check(self) except -1:
        if self.db == NULL:
            raise _sqlite3.ProgrammingError(CLOSED_MESSAGE)
        cdef unsigned long here = PyThread_get_thread_ident()
        if here != self.thread:
            raise thread_error(self.thread, here)
        return 0

    def read_series(self, sql, params=()):
        """(ts_us int64, value float64, quality int64) of one query (blocking)."""
        self._check()
        return _query(self.db, check_sql(sql), bind_values(params))

    def close(self):
        """Ends the read transaction and closes the connection; again: nothing."""
        if self.db == NULL:
            return
        self._check()
        cdef sqlite3* db = self.db
        self.db = NULL
        with nogil:
            sqlite3_close_v2(db)  # (a rollback: nothing was written)

    @property
    def closed(self):
        return self.db == NULL

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
