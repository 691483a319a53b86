"""Opening the historian database: SQLite by path, or any SQLAlchemy URL (PostgreSQL), migrated to head.

The same code writes and reads both; only the few statements on the hot path are written per dialect
(`Database.upsert_samples`). Problems are raised as `HistorianError`s whose message names the file or
server and says what to do; `CorruptDatabase` and `NewerSchema` are told apart because the caller
handles them differently (a corrupt file is moved aside and a new one started; a newer one is left
alone).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, SQLAlchemyError

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the tables Linewise created before migrations: stamped, then upgraded

# SQLite result codes (extended codes carry the primary one in the low byte)
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26

_UPSERT = {
    "sqlite": "INSERT OR REPLACE INTO samples (tag_id, ts_us, value, quality) VALUES (?, ?, ?, ?)",
    "postgresql": (
        "INSERT INTO samples (tag_id, ts_us, value, quality) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (tag_id, ts_us) DO UPDATE SET value = EXCLUDED.value, quality = EXCLUDED.quality"
    ),
}


class HistorianError(Exception):
    """The historian database cannot be used; the message says which and why."""


class CorruptDatabase(HistorianError):
    pass


class NewerSchema(HistorianError):
    pass


@dataclass(frozen=True)
class Database:
    engine: Engine
    where: str  # the file path or the URL without password, for messages

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def upsert_samples(self) -> str:
        """executemany SQL for (tag_id, ts_us, value, quality) rows; a repeated key replaces the row."""
        return _UPSERT[self.dialect]

    def dispose(self) -> None:
        self.engine.dispose()


def database_url(target: str | Path) -> URL:
    """A path (or 'sqlite:///...') is a SQLite file; anything with '://' is a SQLAlchemy URL."""
    text = str(target)
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        return make_url(text)
    except ArgumentError as exc:
        raise HistorianError(f"historian database URL {text!r} is not valid: {exc}") from None


def open_database(target: str | Path, *, busy_timeout_s: float = 5.0, migrate: bool = True) -> Database:
    """Connect, check and migrate to the newest schema (blocking: call on the historian's thread)."""
    url = database_url(target)
    if url.get_backend_name() not in _UPSERT:
        raise HistorianError(
            f"historian database {url.render_as_string(hide_password=True)}: only SQLite files and PostgreSQL "
            "URLs (postgresql+psycopg://user@host/db) are supported"
        )
    where = (url.database or "") if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)
    try:
        engine = _engine(url, busy_timeout_s)
    except ModuleNotFoundError as exc:
        raise HistorianError(
            f"historian database {where}: the driver {exc.name!r} is not installed (pip install 'linewise[postgresql]')"
        ) from None
    database = Database(engine, where)
    try:
        if migrate:
            _migrate(database)
        else:
            _check_readable(engine, where)
    except BaseException:
        engine.dispose()
        raise
    return database


def _check_readable(engine: Engine, where: str) -> None:
    """A reader's check: the history tables are there (a file the historian is still creating has none yet)."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1 FROM samples LIMIT 1")
    except DatabaseError as exc:
        error = classify(exc, where)
        if isinstance(error, CorruptDatabase):
            raise error from None
        raise HistorianError(f"{where} holds no history yet (or not this version's): {getattr(exc, 'orig', exc)}"
                             ) from None


def _engine(url: URL, busy_timeout_s: float) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    assert url.database
    try:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where the folder should be, no permission: the historian retries later
        raise HistorianError(f"historian database {url.database}: its folder cannot be created "
                             f"({exc.strerror}: {exc.filename})") from None
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        # WAL: readers (trends, exports) never wait for the writer, and a crash loses at most the
        # transactions not yet committed. NORMAL syncs at checkpoints: a power cut may lose the last
        # commits but never corrupts the file, which is what a workstation historian needs.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


# Alembic keeps its running context in module globals: two threads migrating at once (the historian and the
# journal opening a new file together) would see each other's. One migration at a time per process.
_MIGRATING = threading.Lock()


def _migrate(database: Database) -> None:
    with _MIGRATING:
        _migrate_locked(database)


def _migrate_locked(database: Database) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with database.engine.begin() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current is None and inspect(conn).has_table("samples"):
                current = BASELINE  # written before migrations existed
                _run(config, conn, "stamp", BASELINE)
            known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
            if current is not None and current not in known:
                raise NewerSchema(
                    f"{database.where} was written by a newer Linewise (schema revision {current}; this version "
                    f"knows up to {head}). Nothing was changed: open it with that version, or choose another data "
                    "directory for this one."
                )
            if current != head:
                _run(config, conn, "upgrade", "head")
    except HistorianError:
        raise
    except DatabaseError as exc:
        raise classify(exc, database.where) from None
    except SQLAlchemyError as exc:
        raise HistorianError(f"historian database {database.where}: {exc}") from None


def _run(config: Config, conn: Connection, what: str, revision: str) -> None:
    config.attributes["connection"] = conn
    getattr(command, what)(config, revision)


def classify(exc: SQLAlchemyError | sqlite3.Error, where: str) -> HistorianError:
    """A database error (SQLAlchemy's, or sqlite3's from a reader) as a HistorianError that says what happened and
    what to do."""
    original = getattr(exc, "orig", exc)
    code = getattr(original, "sqlite_errorcode", None) if isinstance(original, sqlite3.DatabaseError) else None
    if code is not None and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return CorruptDatabase(f"{where} is not a readable historian database ({original}).")
    return HistorianError(f"historian database {where}: {original}")
