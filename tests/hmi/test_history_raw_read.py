"""HistoryStore.raw on a SQLite file reads samples with ext.SqliteReader: with the compiled reader and with its
twin it gives exactly what the reading through Python's sqlite3 rows gave before it (kept below as the
reference), on random stores with acquisition stops; and an unreadable file is a HistorianError."""

from __future__ import annotations

import importlib
import importlib.util
import math
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ext
from ext import sqlite_read_twins
from hmi.storage import queries
from hmi.storage.database import CorruptDatabase, HistorianError, open_database
from hmi.storage.history_query import HistoryReader
from hmi.storage.queries import HistoryStore
from hmi.storage.schema import ACQUISITION_STARTED, ACQUISITION_STOPPED

SETTINGS = settings(max_examples=120, deadline=None, database=None)
READERS = [pytest.param(sqlite_read_twins.SqliteReader, id="twin")]
if importlib.util.find_spec("ext._sqlite_read") is not None:
    READERS.append(pytest.param(importlib.import_module("ext._sqlite_read").SqliteReader, id="compiled"))
BASE_US = 1_700_000_000_000_000
US = 1e-6


def reference_raw(path: Path, tag: str, start: float, end: float, before: bool = False,
                  end_open: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HistoryStore.raw as it was before ext.SqliteReader: sqlite3 rows, gaps merged into the row list."""
    lo = math.floor(start / US)
    hi = round(end / US) - 1 if end_open else math.ceil(end / US)
    sql = ("SELECT ts_us, value, quality FROM samples WHERE tag_id = (SELECT id FROM tags WHERE name = ?) "
           "AND ts_us >= ? AND ts_us <= ? ORDER BY ts_us")
    queries_ = [(sql, (tag, lo, hi))]
    if before:
        queries_.insert(0, ("SELECT ts_us, value, quality FROM samples WHERE tag_id = (SELECT id FROM tags "
                            "WHERE name = ?) AND ts_us < ? ORDER BY ts_us DESC LIMIT 1", (tag, lo)))
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.execute("BEGIN")
        found = [conn.execute(q, p).fetchall() for q, p in queries_]
        rows = found[0] + found[1] if before else found[0]
        first = rows[0][0] if rows else lo
        events = conn.execute("SELECT ts_us, event FROM acquisition WHERE ts_us >= ? AND ts_us <= ? ORDER BY ts_us",
                              (min(first, lo), hi)).fetchall()
    if not rows:
        return np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
    gaps = [(ts if event == ACQUISITION_STOPPED else ts - 1, None, queries.NOT_ACQUIRING)
            for ts, event in events if event in (ACQUISITION_STOPPED, ACQUISITION_STARTED)]
    if gaps:
        rows = sorted([*rows, *gaps], key=lambda row: row[0])
    table = np.array(rows, dtype=np.float64)
    return table[:, 0] * US, table[:, 1], table[:, 2].astype(np.int64)


@pytest.fixture(scope="module")
def template() -> Path:
    """An empty historian file with the real schema (migrated once; each example copies it)."""
    folder = Path(tempfile.mkdtemp())
    path = folder / "template.sqlite"
    open_database(path).dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("INSERT INTO tags (id, name, kind) VALUES (1, 'a', 'analog'), (2, 'b', 'discrete')")
        conn.commit()
    yield path
    shutil.rmtree(folder)


OFFSETS = st.integers(-3_000_000, 3_000_000)  # µs around BASE_US
VALUES = st.one_of(st.none(), st.floats(-1e6, 1e6), st.sampled_from([0.0, math.inf, -math.inf]))


@st.composite
def histories(draw) -> tuple[list[tuple], list[tuple]]:
    rows = [(tag_id, BASE_US + offset, draw(VALUES), draw(st.sampled_from([0, 0, 0, 1, 2, 3])))
            for tag_id in (1, 2) for offset in draw(st.lists(OFFSETS, unique=True, max_size=25))]
    events = [(BASE_US + offset, draw(st.sampled_from([ACQUISITION_STOPPED, ACQUISITION_STARTED, 7])))
              for offset in draw(st.lists(st.one_of(OFFSETS, st.sampled_from([r[1] - BASE_US for r in rows] or [0])),
                                          unique=True, max_size=6))]
    return rows, events


@pytest.mark.parametrize("reader", READERS)
@SETTINGS
@given(history=histories(), tag=st.sampled_from(["a", "b", "c"]),
       bounds=st.lists(st.floats(-4.0, 4.0), min_size=2, max_size=2), before=st.booleans(), end_open=st.booleans())
def test_raw_is_what_it_was_before(template, reader, history, tag, bounds, before, end_open):
    rows, events = history
    start, end = (BASE_US * US + b for b in sorted(bounds))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.sqlite"
        shutil.copy(template, path)
        with closing(sqlite3.connect(path)) as conn:
            conn.executemany("INSERT INTO samples (tag_id, ts_us, value, quality) VALUES (?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO acquisition (ts_us, event) VALUES (?, ?)", events)
            conn.commit()
        store = HistoryStore(path)
        with mock.patch.object(ext, "SqliteReader", reader):
            got = store.raw(tag, start, end, before=before, end_open=end_open)
            at = store.value_at(tag, end)
        expected = reference_raw(path, tag, start, end, before, end_open)
        for ours, theirs in zip((got.t, got.value, got.quality), expected, strict=True):
            assert ours.dtype == theirs.dtype
            assert ours.tobytes() == theirs.tobytes()
        t, value, quality = reference_raw(path, tag, end, end, before=True)
        i = int(np.searchsorted(t, end, side="right")) - 1
        if i < 0 or quality[i] == queries.NOT_ACQUIRING:
            assert at is None
        else:
            assert (at.t, at.quality) == (t[i], quality[i])
            assert (at.value == value[i] or math.isnan(value[i]))


@pytest.mark.parametrize("reader", READERS)
def test_an_unreadable_file_is_a_historian_error_and_a_missing_or_new_one_holds_nothing(tmp_path, reader):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all " * 200)
    store = HistoryStore(garbage)
    with mock.patch.object(ext, "SqliteReader", reader):
        for call in (lambda: store.raw("a", 0.0, 1.0), lambda: store.value_at("a", 1.0),
                     lambda: store.interpolated("a", 0.0, 1.0, 0.5, kind="analog"), lambda: store.tag_kind("a")):
            with pytest.raises(CorruptDatabase, match=r"garbage\.sqlite is not a readable historian database"):
                call()
        assert len(HistoryStore(tmp_path / "missing.sqlite").raw("a", 0.0, 1.0)) == 0
        assert not (tmp_path / "missing.sqlite").exists()
        (tmp_path / "new.sqlite").touch()  # created, not migrated yet
        assert len(HistoryStore(tmp_path / "new.sqlite").raw("a", 0.0, 1.0, before=True)) == 0


@pytest.mark.parametrize("reader", READERS)
def test_a_locked_file_is_a_historian_error_after_the_busy_timeout(tmp_path, template, reader, monkeypatch):
    path = tmp_path / "h.sqlite"
    shutil.copy(template, path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # a rollback journal: the writer's lock keeps readers out
    monkeypatch.setattr(queries, "_BUSY_TIMEOUT_S", 0.2)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with mock.patch.object(ext, "SqliteReader", reader), pytest.raises(HistorianError) as caught:
            HistoryStore(path).raw("a", 0.0, 1.0)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert type(caught.value) is HistorianError
    assert "database is locked" in str(caught.value)


def test_a_folder_name_with_uri_characters_is_read_and_nothing_else_is_created(tmp_path, template):
    folder = tmp_path / "site?mode=rwc#1"
    folder.mkdir()
    path = folder / "history.sqlite"
    shutil.copy(template, path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO samples VALUES (1, ?, 2.5, 0)", (BASE_US,))
        conn.commit()
    reader = HistoryReader(path)
    try:
        got = reader.query("a", BASE_US * US - 1, BASE_US * US + 1, None)
        assert got.good.tolist() == [2.5]
        assert HistoryStore(path).tag_kind("b") == "discrete"
    finally:
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no file "site" opened read-write
