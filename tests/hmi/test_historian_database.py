"""Opening the historian database: SQLite files old and new, PostgreSQL by URL, and the clear errors for a
file that is not a database, a newer schema, an unknown kind of URL or a server that is not there."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import inspect, text

from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG
from hmi.storage.database import CorruptDatabase, HistorianError, NewerSchema, open_database
from hmi.storage.historian import Historian, HistoryTag, read_history
from hmi.storage.schema import ACQUISITION_STARTED, ACQUISITION_STOPPED

# The layout Linewise 0.1 created before migrations (no alembic_version)
LEGACY = [
    "CREATE TABLE tags (id INTEGER NOT NULL, name VARCHAR NOT NULL, PRIMARY KEY (id), UNIQUE (name))",
    "CREATE TABLE samples (tag_id INTEGER NOT NULL, ts_us INTEGER NOT NULL, value FLOAT, quality INTEGER NOT NULL, "
    "PRIMARY KEY (tag_id, ts_us)) WITHOUT ROWID",
]


def test_a_new_file_is_created_at_the_newest_revision(tmp_path):
    database = open_database(tmp_path / "sub" / "h.sqlite")
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalar() == "0004"
            assert conn.execute(text("pragma journal_mode")).scalar() == "wal"
            assert {"tags", "samples", "acquisition"} <= set(inspect(conn).get_table_names())
    finally:
        database.dispose()


def test_a_file_from_before_migrations_is_stamped_and_upgraded_keeping_its_rows(tmp_path):
    path = tmp_path / "h.sqlite"
    conn = sqlite3.connect(path)
    for statement in LEGACY:
        conn.execute(statement)
    conn.execute("insert into tags values (1, 'level')")
    conn.execute("insert into samples values (1, 5000000, 1.5, 0)")
    conn.commit()
    conn.close()
    open_database(path).dispose()
    assert [(s.ts, s.value) for s in read_history(path, "level", 0, 10)] == [(5.0, 1.5)]
    conn = sqlite3.connect(path)
    assert conn.execute("select kind from tags").fetchone()[0] == "analog"
    assert conn.execute("select version_num from alembic_version").fetchone()[0] == "0004"


def test_a_newer_schema_is_refused_without_touching_the_file(tmp_path):
    path = tmp_path / "h.sqlite"
    open_database(path).dispose()
    conn = sqlite3.connect(path)
    conn.execute("update alembic_version set version_num = '0042'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NewerSchema, match=r"newer Linewise \(schema revision 0042; this version knows up to 0004\)"):
        open_database(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_named(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"\x00garbage" * 512)
    with pytest.raises(CorruptDatabase, match=r"h\.sqlite is not a readable historian database"):
        open_database(path)


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://x@y/z", "only SQLite files and PostgreSQL URLs"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/none", "Connection refused|connection failed"),
    ("postgres ql://?", "not valid"),
])
def test_bad_urls_and_absent_servers_are_clear_errors(url, message):
    with pytest.raises(HistorianError, match=message):
        open_database(url)


# -- the same historian on PostgreSQL -------------------------------------------------------------------


def test_the_historian_runs_unchanged_on_postgresql(postgres_url):
    tags = [HistoryTag("a", HistorySpec(mode="all"), ANALOG), HistoryTag("b", HistorySpec(), ANALOG)]

    async def scenario() -> Historian:
        historian = Historian(postgres_url, flush_interval_s=60)
        await historian.start(tags)
        historian.submit([TagUpdate("a", float(i), Quality.GOOD, 100.0 + i, 100.0 + i) for i in range(1000)])
        await historian._flush()
        historian.submit([TagUpdate("a", 5.0, Quality.UNCERTAIN, 100.0, 100.0)])  # older than what is stored: dropped
        await historian.close()
        return historian

    historian = asyncio.run(scenario())
    assert historian.last_error == ""
    assert [s.value for s in read_history(postgres_url, "a", 0, 2000)] == [float(i) for i in range(1000)]
    database = open_database(postgres_url)
    try:
        with database.engine.connect() as conn:
            events = conn.execute(text("select event from acquisition order by ts_us")).scalars().all()
            assert events == [ACQUISITION_STARTED, ACQUISITION_STOPPED]
            assert conn.execute(text("select version_num from alembic_version")).scalar() == "0004"
    finally:
        database.dispose()
