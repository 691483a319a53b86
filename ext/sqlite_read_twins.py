"""Reading a series (ts_us, value, quality) out of a SQLite file into NumPy arrays: Python's sqlite3 module, the
twin of ``ext._sqlite_read``.

``read_series(path, sql, params)`` opens the file read-only (a fresh connection, closed before it returns), runs
one query and returns three arrays; ``SqliteReader(path)`` keeps one read-only connection with one read
transaction open, so that several queries see the same snapshot of the file (WAL lets a writer commit
meanwhile: its commits are seen by the next reader). Both are blocking: call them on a reader thread.

**Opening.** ``file:<path>?mode=ro`` as a URI (the path percent-encoded, so a ``?``, ``#`` or ``%`` in a folder
name is part of the path), with a busy timeout of ``timeout`` seconds: a reader never creates a file, never
writes one, and waits up to ``timeout`` for a lock. A file in WAL mode is read while another connection writes
it; opening it read-only needs its ``-shm`` file to exist or to be creatable (SQLite's rule for read-only WAL
readers: the historian's folder is writable, and the writer keeps the ``-shm`` file).

**The query** is one SQL statement (trailing whitespace and comments allowed, as Python's sqlite3 allows) whose
result has exactly three columns, in this order:

- ts_us: an INTEGER, as an int64 (anything else is a ``ValueError``);
- value: a REAL or an INTEGER, as a float64; NULL is NaN (TEXT or BLOB is a ``ValueError``);
- quality: an INTEGER, as an int64 (anything else is a ``ValueError``).

Rows come back in the query's order. ``params`` is a tuple (or list) of None, int (bool included), float,
str, bytes (bytearray, memoryview) or anything with ``__index__`` (a NumPy integer: bound as an INTEGER, which
Python's sqlite3 would bind as a BLOB of its bytes and so never match a ts_us), bound positionally.

**Errors** are those of Python's sqlite3, raised the same way by both implementations: a failure reported by
SQLite is a ``sqlite3.Error`` subclass (OperationalError, DatabaseError ...) chosen by its primary result code,
with SQLite's message and ``sqlite_errorcode`` (the extended code), ``sqlite_errorname``; an unsupported
parameter or a second statement is a ``sqlite3.ProgrammingError``; an int beyond int64 an ``OverflowError``.
An error from SQLite anywhere in the result comes before a value of the wrong type; of those, the first in
row order (then column order) is reported. A missing file is ``OperationalError`` "unable to open database
file"; a file that is not a database is ``DatabaseError`` "file is not a database" at the first query.
"""

from __future__ import annotations

import operator
import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from types import TracebackType

import numpy as np

COLUMNS = ("ts_us", "value", "quality")
# SQLite's fundamental datatypes, by its type codes (sqlite3_column_type: 1..5), for messages
TYPE_NAMES = {1: "INTEGER", 2: "REAL", 3: "TEXT", 4: "BLOB", 5: "NULL"}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT_MAX = 2**31 - 1
OVERFLOW_MESSAGE = "Python int too large to convert to SQLite INTEGER"  # Python's sqlite3's
TAIL_MESSAGE = "You can only execute one statement at a time."  # ditto
NUL_MESSAGE = "the query contains a null character"  # ditto
CLOSED_MESSAGE = "Cannot operate on a closed database."  # ditto

Series = tuple[np.ndarray, np.ndarray, np.ndarray]

# -- shared with ext._sqlite_read: the checks and the errors, so both raise exactly the same ------------------


def readonly_uri(path: str | os.PathLike[str]) -> str:
    """The URI that opens `path` read-only, whatever characters its name holds."""
    return Path(path).absolute().as_uri() + "?mode=ro"


def check_sql(sql: object) -> str:
    if not isinstance(sql, str):
        raise TypeError(f"sql must be a str, not {type(sql).__name__}")
    if "\x00" in sql:
        raise sqlite3.ProgrammingError(NUL_MESSAGE)
    return str.__str__(sql)


def bind_values(params: object) -> tuple:
    """`params` as a tuple of None, int (within int64), float, str and bytes, ready to bind."""
    if not isinstance(params, tuple | list):
        raise TypeError(f"params must be a tuple or a list, not {type(params).__name__}")
    values = []
    for i, x in enumerate(params, start=1):
        if x is None or type(x) in (int, float, str, bytes):
            value = x
        elif isinstance(x, int):
            value = int(x)  # bool, IntEnum: their number, as sqlite3 binds them
        elif isinstance(x, float):
            value = float(x)
        elif isinstance(x, str):
            value = str.__str__(x)
        elif isinstance(x, bytearray | memoryview):
            value = bytes(x)
        elif hasattr(type(x), "__index__"):
            value = operator.index(x)
        else:
            raise sqlite3.ProgrammingError(f"Error binding parameter {i}: type '{type(x).__name__}' is not supported")
        if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
            raise OverflowError(OVERFLOW_MESSAGE)
        if type(value) is str and len(value.encode()) > INT_MAX:  # a lone surrogate: UnicodeEncodeError, as sqlite3
            raise OverflowError("string longer than INT_MAX bytes")  # sqlite3's (SQLite takes an int length)
        if type(value) is bytes and len(value) > INT_MAX:
            raise OverflowError("BLOB longer than INT_MAX bytes")
        values.append(value)
    return tuple(values)


def binding_count_error(needed: int, supplied: int) -> sqlite3.ProgrammingError:
    return sqlite3.ProgrammingError(f"Incorrect number of bindings supplied. The current statement uses {needed}, "
                                    f"and there are {supplied} supplied.")


def column_count_error(count: int) -> ValueError:
    return ValueError(f"the query returns {count} columns: a series needs 3 (ts_us, value, quality)")


def column_type_error(row: int, column: int, type_code: int) -> ValueError:
    wanted = "a number or NULL" if column == 1 else "an INTEGER"
    return ValueError(f"row {row} of the query: {COLUMNS[column]} is {TYPE_NAMES.get(type_code, type_code)}, "
                      f"not {wanted}")


def thread_error(created_in: int, used_in: int) -> sqlite3.ProgrammingError:
    return sqlite3.ProgrammingError(
        "SQLite objects created in a thread can only be used in that same thread. The object was created in "
        f"thread id {created_in} and this is thread id {used_in}.")


_PRIMARY = ("OK", "ERROR", "INTERNAL", "PERM", "ABORT", "BUSY", "LOCKED", "NOMEM", "READONLY", "INTERRUPT", "IOERR",
            "CORRUPT", "NOTFOUND", "FULL", "CANTOPEN", "PROTOCOL", "EMPTY", "SCHEMA", "TOOBIG", "CONSTRAINT",
            "MISMATCH", "MISUSE", "NOLFS", "AUTH", "FORMAT", "RANGE", "NOTADB", "NOTICE", "WARNING", "ROW", "DONE")


def _error_names() -> dict[int, str]:
    """Python's own names of SQLite's result codes (its module constants; others share their values)."""
    names: dict[int, str] = {}
    for primary in _PRIMARY:
        base = getattr(sqlite3, f"SQLITE_{primary}", None)
        for name in dir(sqlite3):
            if base is not None and (name == f"SQLITE_{primary}" or name.startswith(f"SQLITE_{primary}_")):
                code = getattr(sqlite3, name)
                if isinstance(code, int) and code & 0xFF == base:
                    names.setdefault(code, name)
    return names


ERROR_NAMES = _error_names()
_OPERATIONAL = {1, 3, 4, 5, 6, 8, 9, 10, 13, 14, 15, 16, 17}  # ERROR PERM ABORT BUSY LOCKED READONLY INTERRUPT ...


def sqlite_error(extended_code: int, message: str) -> Exception:
    """The exception Python's sqlite3 raises for a SQLite failure (its class chosen by the primary code)."""
    primary = extended_code & 0xFF
    if primary == 7:  # SQLITE_NOMEM
        return MemoryError()
    if primary in (2, 12):  # INTERNAL, NOTFOUND
        cls: type[sqlite3.Error] = sqlite3.InternalError
    elif primary in _OPERATIONAL:
        cls = sqlite3.OperationalError
    elif primary == 18:  # TOOBIG
        cls = sqlite3.DataError
    elif primary in (19, 20):  # CONSTRAINT, MISMATCH
        cls = sqlite3.IntegrityError
    elif primary in (21, 25):  # MISUSE, RANGE
        cls = sqlite3.InterfaceError
    else:  # CORRUPT, NOTADB, ...
        cls = sqlite3.DatabaseError
    exc = cls(message)
    exc.sqlite_errorcode = extended_code  # type: ignore[attr-defined]
    exc.sqlite_errorname = ERROR_NAMES.get(extended_code, "unknown")  # type: ignore[attr-defined]
    return exc


def empty_series() -> Series:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64), np.empty(0, dtype=np.int64)


# -- the twin -------------------------------------------------------------------------------------------------


class _Text(bytes):
    """A TEXT value, undecoded (only its type matters: it is an error)."""


def _connect(path: str | os.PathLike[str], timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(readonly_uri(path), uri=True, timeout=timeout)
    conn.text_factory = _Text  # never decoded: a TEXT value is reported as such, not as a decoding error
    return conn


def _first_bad(rows: list[tuple]) -> ValueError:
    for row, (ts, value, quality) in enumerate(rows):
        for column, x in enumerate((ts, value, quality)):
            if x is None:
                code = 5
            elif type(x) is int:
                code = 1
            elif type(x) is float:
                code = 2
            else:
                code = 3 if isinstance(x, _Text) else 4
            if code != 1 and not (column == 1 and code in (2, 5)):
                return column_type_error(row, column, code)
    raise AssertionError("no bad row")  # pragma: no cover


def _fetch(conn: sqlite3.Connection, sql: str, values: tuple) -> Series:
    cursor = conn.execute(sql, values)
    count = len(cursor.description) if cursor.description is not None else 0
    if count != 3:
        raise column_count_error(count)
    rows = cursor.fetchall()
    if not rows:
        return empty_series()
    ts, value, quality = zip(*rows, strict=True)
    if not ({*map(type, ts), *map(type, quality)} <= {int} and {*map(type, value)} <= {float, int, type(None)}):
        raise _first_bad(rows)
    return (np.array(ts, dtype=np.int64), np.array(value, dtype=np.float64),  # None -> NaN
            np.array(quality, dtype=np.int64))


def read_series(path: str | os.PathLike[str], sql: str, params: tuple | list = (), timeout: float = 5.0) -> Series:
    """(ts_us int64, value float64, quality int64) of one query on a fresh read-only connection (blocking)."""
    sql = check_sql(sql)
    values = bind_values(params)
    with closing(_connect(path, timeout)) as conn:
        return _fetch(conn, sql, values)


class SqliteReader:
    """One read-only connection and one read transaction: every query sees the same snapshot of the file.

    Used by the thread that created it (as Python's sqlite3 connections are); a context manager that closes it.
    """

    def __init__(self, path: str | os.PathLike[str], timeout: float = 5.0) -> None:
        self._conn: sqlite3.Connection | None = _connect(path, timeout)
        self._thread = threading.get_ident()
        try:
            self._conn.execute("BEGIN")  # deferred: the snapshot is taken by the first query
        except BaseException:
            self._conn.close()
            raise

    def read_series(self, sql: str, params: tuple | list = ()) -> Series:
        """(ts_us int64, value float64, quality int64) of one query (blocking)."""
        conn = self._check()
        return _fetch(conn, check_sql(sql), bind_values(params))

    def close(self) -> None:
        """Ends the read transaction and closes the connection; again: nothing."""
        if self._conn is not None:
            self._check().close()  # (a rollback: nothing was written)
            self._conn = None

    def _check(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError(CLOSED_MESSAGE)
        if threading.get_ident() != self._thread:
            raise thread_error(self._thread, threading.get_ident())
        return self._conn

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> SqliteReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
