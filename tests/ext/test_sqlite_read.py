"""Reading a series out of SQLite (read_series, SqliteReader): the compiled reader (SQLite's C API) gives exactly
what its twin (Python's sqlite3) gives: the same arrays bit for bit, the same exceptions with the same messages
and SQLite error codes, on random series, adversarial queries and files, and while another connection writes."""

from __future__ import annotations

import itertools
import math
import sqlite3
import struct
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext import sqlite_read_twins as twins

SETTINGS = settings(max_examples=150, deadline=None, database=None)
kernels = pytest.importorskip(
    "ext._sqlite_read", reason="ext._sqlite_read is not compiled (python setup.py build_ext --inplace)"
)
IMPLEMENTATIONS = [pytest.param(twins, id="twin"), pytest.param(kernels, id="compiled")]
BOTH = (twins, kernels)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

SCHEMA = (
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE samples (tag_id INTEGER NOT NULL, ts_us BIGINT NOT NULL, value FLOAT, quality SMALLINT NOT NULL, "
    "PRIMARY KEY (tag_id, ts_us)) WITHOUT ROWID",
    "CREATE TABLE loose (ts, value, quality)",  # no affinity: values keep the type they were given
)
SERIES = "SELECT ts_us, value, quality FROM samples WHERE tag_id = ? AND ts_us >= ? AND ts_us <= ? ORDER BY ts_us"
BY_NAME = ("SELECT ts_us, value, quality FROM samples WHERE tag_id = (SELECT id FROM tags WHERE name = ?) "
           "ORDER BY ts_us")


def make_store(path: Path, samples: dict[int, list[tuple]] = (), loose: list[tuple] = (), wal: bool = True) -> Path:
    with sqlite3.connect(path) as conn:
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            conn.execute(statement)
        for tag_id, rows in dict(samples).items():
            conn.execute("INSERT INTO tags (id, name) VALUES (?, ?)", (tag_id, f"tag {tag_id}"))
            conn.executemany(f"INSERT INTO samples VALUES ({tag_id}, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO loose VALUES (?, ?, ?)", loose)
    conn.close()
    return path


def outcome(fn, *args, **kwargs) -> tuple:
    """What a call comes to, comparable across the implementations: arrays as bytes, exceptions in full."""
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:
        return ("raised", type(exc), str(exc), getattr(exc, "sqlite_errorcode", None),
                getattr(exc, "sqlite_errorname", None))
    ts, value, quality = result
    assert (ts.dtype, value.dtype, quality.dtype) == (np.int64, np.float64, np.int64)
    assert len(ts) == len(value) == len(quality)
    return ("returned", ts.tobytes(), value.tobytes(), quality.tobytes())


def same(fn_name: str, *args, **kwargs) -> tuple:
    """The outcome of ext.<impl>.<fn_name>(...), asserted to be the same for both implementations."""
    twin, compiled = (outcome(getattr(impl, fn_name), *args, **kwargs) for impl in BOTH)
    assert compiled == twin
    return twin


def raised(result: tuple) -> tuple:
    assert result[0] == "raised", result
    return result[1:]


# -- random series ----------------------------------------------------------------------------------------------

TS = st.one_of(st.integers(INT64_MIN, INT64_MAX), st.integers(-10**7, 10**7),
               st.sampled_from([INT64_MIN, INT64_MAX, 0, -1, 1_700_000_000_000_000, 2**53 + 1]))
VALUES = st.one_of(st.none(), st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, math.inf, -math.inf, 5e-324]))
QUALITY = st.one_of(st.integers(-(2**15), 2**15 - 1), st.sampled_from([0, 0, 0, 1, 192, 4]))


@st.composite
def stores(draw) -> dict[int, list[tuple]]:
    samples = {}
    for tag_id in draw(st.lists(st.integers(1, 5), unique=True, max_size=3)):
        times = draw(st.lists(TS, unique=True, max_size=60))
        samples[tag_id] = [(ts, draw(VALUES), draw(QUALITY)) for ts in times]
    return samples


@SETTINGS
@given(samples=stores(), tag_id=st.integers(0, 5), bounds=st.lists(TS, min_size=2, max_size=2))
def test_random_series_are_read_identically_and_as_stored(samples, tag_id, bounds):
    lo, hi = sorted(bounds)
    with tempfile.TemporaryDirectory() as folder:
        path = make_store(Path(folder) / "h.sqlite", samples)
        result = same("read_series", path, SERIES, (tag_id, lo, hi))
        expected = sorted(row for row in samples.get(tag_id, []) if lo <= row[0] <= hi)
        assert result == ("returned", np.array([r[0] for r in expected], dtype=np.int64).tobytes(),
                          (np.array([math.nan if r[1] is None else r[1] for r in expected], dtype=np.float64)
                           + 0.0).tobytes(),  # SQLite stores -0.0 as 0.0
                          np.array([r[2] for r in expected], dtype=np.int64).tobytes())
        if tag_id in samples:  # a text parameter, through the tag's name
            assert same("read_series", str(path), BY_NAME, [f"tag {tag_id}"])[0] == "returned"
        with twins.SqliteReader(path) as twin, kernels.SqliteReader(path) as compiled:
            for sql, params in ((SERIES, (tag_id, lo, hi)), (BY_NAME, (f"tag {tag_id}",))):
                assert outcome(compiled.read_series, sql, params) == outcome(twin.read_series, sql, params)


def test_a_null_value_is_nan_and_an_integer_value_a_float(tmp_path):
    path = make_store(tmp_path / "h.sqlite", {1: [(1, None, 0), (2, 2.5, 1), (3, -0.0, 2)]},
                      loose=[(1, 7, 0), (2, 2**62 + 1, 0), (3, 1.5, 3)])
    for impl in BOTH:
        ts, value, quality = impl.read_series(path, "SELECT ts_us, value, quality FROM samples ORDER BY ts_us")
        assert ts.tolist() == [1, 2, 3]
        assert quality.tolist() == [0, 1, 2]
        assert np.isnan(value[0])
        assert value[1] == 2.5
        assert value[2] == 0.0
        assert struct.pack("<d", value[0]) == struct.pack("<d", math.nan)  # the one quiet NaN of Python and NumPy
        ts, value, quality = impl.read_series(path, "SELECT ts, value, quality FROM loose ORDER BY ts")
        assert value.tolist() == [7.0, float(2**62 + 1), 1.5]
    same("read_series", path, "SELECT ts_us, quality, quality FROM samples")  # an INTEGER expression as the value


@pytest.mark.parametrize("rows", [0, 1, 4095, 4096, 4097, 20_000])
def test_results_of_any_length(tmp_path, rows):  # the compiled buffers start at 4096 rows and double
    path = make_store(tmp_path / "h.sqlite", {1: [(i * 1_000_000, i * 0.5 if i % 7 else None, i % 3)
                                                 for i in range(rows)]})
    result = same("read_series", path, SERIES, (1, INT64_MIN, INT64_MAX))
    assert len(result[1]) == 8 * rows


def test_empty_results(tmp_path):
    path = make_store(tmp_path / "h.sqlite", {1: [(5, 1.0, 0)]})
    for sql, params in ((SERIES, (1, 6, 4)), (SERIES, (2, INT64_MIN, INT64_MAX)), (BY_NAME, ("no such tag",)),
                        (SERIES, (1, None, None)), ("SELECT ts, value, quality FROM loose", ())):
        assert same("read_series", path, sql, params) == ("returned", b"", b"", b"")


@pytest.mark.parametrize("params", [
    (1, True, 10), (1, 0.5, 9.5), (1, np.int64(2), np.int32(5)), (1, np.float64(1.5), 4),  # NumPy numbers too
    [1, 2, 4], (1, "2", "5"), (1, b"\x00", 9), (1, bytearray(b"a"), 9), (1, memoryview(b"a"), 9),
    (1, 2, None), (1, 2**63, 9), (1, -(2**63) - 1, 9), (1, [2], 9), (1, {2}, 9), (1, 2, object()), ("\ud800", 1, 2),
    (1, 2), (1, 2, 3, 4), {"a": 1}, 7, None,
])
def test_parameters_are_bound_or_refused_alike(tmp_path, params):
    path = make_store(tmp_path / "h.sqlite", {1: [(i, float(i), 0) for i in range(10)]})
    result = same("read_series", path, SERIES, params)
    if isinstance(params, tuple) and len(params) == 3 and type(params[1]) is np.int64:
        assert np.frombuffer(result[1], np.int64).tolist() == [2, 3, 4, 5]  # not a BLOB of its bytes


@pytest.mark.parametrize(("sql", "params"), [
    ("SELECT ts_us, value, quality FROM nowhere", ()),
    ("SELEKT 1, 2, 3", ()),
    ("SELECT ts_us, value FROM samples", ()),
    ("SELECT ts_us, value, quality, 1 FROM samples", ()),
    ("SELECT ts_us, value FROM samples WHERE ts_us > 100", ()),  # no rows: the count is still checked
    ("SELECT 1, 2, 3; SELECT 4, 5, 6", ()),
    ("SELECT 1, 2, 3;;", ()),
    ("SELECT 1, 2, 3; -", ()),
    ("SELECT 1, 2, 3; -- a comment", ()),
    ("SELECT 1, 2, 3 /* a */ ; /* b */\n\t\r\f -- c", ()),
    ("SELECT 1, 2, 3; /* unterminated", ()),
    ("SELECT 1, 2, 3;\x0b", ()),
    ("SELECT 1, 2, 3\x00", ()),
    ("", ()), ("-- nothing", ()), (";", ()), ("", (1,)),
    ("SELECT ?1, ?1, ?1", (4,)), ("SELECT :a, 2, ?", (1, 3)),
    ("INSERT INTO samples VALUES (1, 2, 3.0, 0)", ()),
    ("PRAGMA user_version = 3", ()),
    ("CREATE TABLE x (a)", ()),
    ("SELECT 1, 2, abs(-9223372036854775808)", ()),
    ("SELECT 'x', 2, 3", ()), ("SELECT 1.5, 2, 3", ()), ("SELECT NULL, 2, 3", ()), ("SELECT x'00', 2, 3", ()),
    ("SELECT 1, 'x', 3", ()), ("SELECT 1, x'01', 3", ()), ("SELECT 1, '2.5', 3", ()),
    ("SELECT 1, 2, 3.0", ()), ("SELECT 1, 2, NULL", ()), ("SELECT 1, 2, '3'", ()),
    ("SELECT ts, value, quality FROM loose ORDER BY rowid", ()),
    ("SELECT 1, 2, 3 FROM samples WHERE zeroblob(2000000000)", ()),
    (b"SELECT 1, 2, 3", ()), (None, ()),
    ("SELECT ?, 2, 3", ("x" * 100_000,)),
])
def test_queries_succeed_or_fail_alike(tmp_path, sql, params):
    path = make_store(tmp_path / "h.sqlite", {1: [(i, float(i), 0) for i in range(10)]},
                      loose=[(1, 1.0, 0), (2, "two", 0), (3.5, 1.0, "q")])
    same("read_series", path, sql, params)
    with twins.SqliteReader(path) as twin, kernels.SqliteReader(path) as compiled:
        assert outcome(compiled.read_series, sql, params) == outcome(twin.read_series, sql, params)


@SETTINGS
@given(rows=st.lists(st.tuples(*[st.one_of(st.integers(-5, 5), st.floats(-5, 5), st.none(), st.text(max_size=2),
                                           st.binary(max_size=2))] * 3), max_size=8))
def test_the_first_value_of_a_wrong_type_is_reported_alike(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = make_store(Path(folder) / "h.sqlite", loose=rows)
        result = same("read_series", path, "SELECT ts, value, quality FROM loose ORDER BY rowid")
        if result[0] == "raised":
            assert result[1] is ValueError
        # an error of SQLite's in a later row comes before a type error in an earlier one (the twin fetches all)
        same("read_series", path, "SELECT ts, value, CASE WHEN rowid < 4 THEN quality ELSE "
                                  "abs(-9223372036854775808) END FROM loose ORDER BY rowid")


def test_a_text_value_that_is_not_utf8_is_a_type_error_not_a_decoding_error(tmp_path):
    path = make_store(tmp_path / "h.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO loose VALUES (1, CAST(x'ff00fe' AS TEXT), 0)")
    conn.close()
    assert raised(same("read_series", path, "SELECT ts, value, quality FROM loose"))[:2] == (
        ValueError, "row 0 of the query: value is TEXT, not a number or NULL")


# -- files --------------------------------------------------------------------------------------------------------


def test_a_missing_file_is_cantopen_and_is_not_created(tmp_path):
    path = tmp_path / "missing.sqlite"
    assert raised(same("read_series", path, SERIES, (1, 2, 3))) == (
        sqlite3.OperationalError, "unable to open database file", 14, "SQLITE_CANTOPEN")
    assert raised(outcome(kernels.SqliteReader, path)) == raised(outcome(twins.SqliteReader, path))
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
    assert raised(same("read_series", tmp_path, SERIES, (1, 2, 3)))[0] is sqlite3.OperationalError  # a folder


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a SQLite file, it only has its name. " * 100)
    assert raised(same("read_series", path, SERIES, (1, 2, 3))) == (
        sqlite3.DatabaseError, "file is not a database", 26, "SQLITE_NOTADB")
    assert same("read_series", path, "SELECT 1, 2, 3")[0] == "returned"  # nothing read from the file
    for impl in BOTH:  # opening is lazy: the first query finds out
        with impl.SqliteReader(path) as reader, pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
            reader.read_series(SERIES, (1, 2, 3))
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    assert raised(same("read_series", empty, SERIES, (1, 2, 3)))[:2] == (
        sqlite3.OperationalError, "no such table: samples")


def test_a_truncated_database_is_corrupt(tmp_path):
    path = make_store(tmp_path / "h.sqlite", {1: [(i, float(i), 0) for i in range(20_000)]}, wal=False)
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size // 2)
    result = raised(same("read_series", path, SERIES, (1, INT64_MIN, INT64_MAX)))
    assert result[0] is sqlite3.DatabaseError
    assert result[2] & 0xFF == 11


def test_a_path_with_uri_characters_is_that_path(tmp_path):
    folder = tmp_path / "a?mode=rwc#b %41 c"
    folder.mkdir()
    path = make_store(folder / "h?.sqlite", {1: [(1, 1.0, 0)]})
    assert same("read_series", path, SERIES, (1, 0, 9))[0] == "returned"
    assert same("read_series", folder / "other.sqlite", SERIES, (1, 0, 9))[0] == "raised"  # and never created
    assert {p.name for p in tmp_path.rglob("*")} <= {folder.name, "h?.sqlite", "h?.sqlite-shm", "h?.sqlite-wal"}
    # (Python's sqlite3 given f"file:{path}?mode=ro" would have opened, and created, the file "a" read-write)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_locked_file_is_busy_after_the_timeout_and_other_threads_run_meanwhile(tmp_path, impl):
    path = make_store(tmp_path / "h.sqlite", {1: [(1, 1.0, 0)]}, wal=False)  # rollback journal: a writer excludes
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    returned: list[float] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            impl.read_series(path, SERIES, (1, 0, 9), timeout=1.5)
        except BaseException as exc:
            errors.append(exc)
        returned.append(time.monotonic())

    try:
        began = time.monotonic()
        thread = threading.Thread(target=read)
        thread.start()
        time.sleep(0.1)
        woke = time.monotonic()  # while the reader waits for the lock: it does not hold the GIL
        thread.join(10)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert returned[0] - began >= 1.4
    assert woke < returned[0] - 1.0
    assert [(type(e), str(e), e.sqlite_errorcode, e.sqlite_errorname) for e in errors] == [
        (sqlite3.OperationalError, "database is locked", 5, "SQLITE_BUSY")]


# -- a writer at the same time (WAL) ---------------------------------------------------------------------------------

BATCH = 50


def test_readers_see_whole_commits_of_a_writer_in_wal_mode(tmp_path):
    path = make_store(tmp_path / "h.sqlite", {1: []})
    stop = threading.Event()
    committed = [0]

    def write() -> None:
        with sqlite3.connect(path, isolation_level=None) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            for batch in itertools.count():
                if stop.is_set() or batch == 400:
                    break
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT INTO samples VALUES (1, ?, ?, 0)",
                                 [(i, i * 0.25) for i in range(batch * BATCH, (batch + 1) * BATCH)])
                conn.execute("COMMIT")
                committed[0] = batch + 1
                time.sleep(0.001)
        conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    seen = {impl: [] for impl in BOTH}
    try:
        deadline = time.monotonic() + 20
        while writer.is_alive() and time.monotonic() < deadline:
            for impl in BOTH:
                ts, value, _quality = impl.read_series(path, SERIES, (1, INT64_MIN, INT64_MAX))
                assert len(ts) % BATCH == 0  # whole commits only
                assert ts.tolist() == list(range(len(ts)))
                assert value.tolist() == [i * 0.25 for i in range(len(ts))]
                seen[impl].append(len(ts))
                with impl.SqliteReader(path) as reader:  # one snapshot for every query of a reader
                    first = reader.read_series(SERIES, (1, INT64_MIN, INT64_MAX))
                    time.sleep(0.002)
                    again = reader.read_series(SERIES, (1, INT64_MIN, INT64_MAX))
                    assert again[0].tobytes() == first[0].tobytes()
                    assert len(first[0]) % BATCH == 0
    finally:
        stop.set()
        writer.join()
    for impl in BOTH:
        assert seen[impl] == sorted(seen[impl])
        assert len(set(seen[impl])) > 1
    final = same("read_series", path, SERIES, (1, INT64_MIN, INT64_MAX))
    assert len(final[1]) == 8 * BATCH * committed[0]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_reader_keeps_its_snapshot_and_the_next_one_sees_the_commit(tmp_path, impl):
    path = make_store(tmp_path / "h.sqlite", {1: [(1, 1.0, 0)]})
    with impl.SqliteReader(path) as reader:
        assert reader.read_series(SERIES, (1, 0, 99))[0].tolist() == [1]
        with sqlite3.connect(path) as writer:
            writer.execute("INSERT INTO samples VALUES (1, 2, 2.0, 0)")
        writer.close()
        assert reader.read_series(SERIES, (1, 0, 99))[0].tolist() == [1]
    assert impl.read_series(path, SERIES, (1, 0, 99))[0].tolist() == [1, 2]


# -- the reader object ---------------------------------------------------------------------------------------------


def test_a_reader_belongs_to_its_thread_and_refuses_work_once_closed(tmp_path):
    path = make_store(tmp_path / "h.sqlite", {1: [(1, 1.0, 0)]})
    readers = [twins.SqliteReader(path), kernels.SqliteReader(path, timeout=1.0)]
    found: list[tuple] = []

    def elsewhere() -> None:
        for reader in readers:
            for call in (lambda r: r.read_series(SERIES, (1, 0, 9)), lambda r: r.close()):
                exc = raised(outcome(lambda r=reader, c=call: c(r)))
                found.append((exc[0], exc[1].replace(str(threading.get_ident()), "HERE")))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    mine = str(threading.get_ident())
    assert found == [(sqlite3.ProgrammingError, "SQLite objects created in a thread can only be used in that same "
                      f"thread. The object was created in thread id {mine} and this is thread id HERE.")] * 4
    for reader in readers:
        assert not reader.closed
        reader.close()
        reader.close()  # again: nothing
        assert reader.closed
    assert raised(outcome(readers[1].read_series, SERIES, (1, 0, 9))) == raised(
        outcome(readers[0].read_series, SERIES, (1, 0, 9))) == (
        sqlite3.ProgrammingError, "Cannot operate on a closed database.", None, None)


def test_the_error_helpers_name_codes_as_python_does():
    assert twins.ERROR_NAMES[14] == "SQLITE_CANTOPEN"
    assert twins.ERROR_NAMES[266] == "SQLITE_IOERR_READ"
    assert twins.ERROR_NAMES[5] == "SQLITE_BUSY"
    assert twins.ERROR_NAMES[0] == "SQLITE_OK"
    assert type(twins.sqlite_error(7, "x")) is MemoryError
    assert type(twins.sqlite_error(11, "x")) is sqlite3.DatabaseError
    assert twins.sqlite_error(99999, "x").sqlite_errorname == "unknown"
