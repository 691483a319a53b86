"""Reading the event journal, and verifying its chains and anchor (`linewise audit verify`).

Both are blocking and read-only: callers run them off the GUI thread and the io loop. A SQLite journal that
does not exist (yet) is not created: it reads as empty, and verifies as intact unless the anchor names rows.

`verify_journal` walks each station's rows in seq order in chunks (a journal can hold millions) and reports:
a row whose hash does not match its fields (a field was changed), a gap in seq (rows deleted), a prev_hash
that is not the previous row's hash (a row replaced or inserted), a row at the anchor's seq with another
hash (the chain rewritten), no row at the anchor's seq (rows deleted from the end), rows after it (appended
by someone else, or written just before a crash), and the SECURITY entries the writer recorded when it found
one of these on its own. A missing anchor is a warning: without one, rows deleted from the end cannot be told.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, inspect, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from hmi.storage.database import classify, database_url, open_database
from hmi.storage.journal_chain import (
    GENESIS,
    AnchorError,
    Category,
    JournalEntry,
    StoredEntry,
    default_anchor,
    read_anchor,
    row_hash,
)
from hmi.storage.schema import journal

CHUNK_ROWS = 20_000
ANCHOR_RETRIES = 3  # a running writer commits, then rewrites the anchor: give it a moment to catch up
# SECURITY entries the writer records when it finds the journal tampered with (hmi.storage.journal)
TAMPER_EVENTS = ("journal_truncated", "journal_rewritten", "journal_foreign_rows")

_c = journal.c
COLUMNS = (_c.station, _c.seq, _c.ts_us, _c.category, _c.event, _c.source, _c.user_name, _c.old_value, _c.new_value,
           _c.reason, _c.message, _c.result, _c.prev_hash, _c.hash)


@dataclass
class JournalReport:
    entries_checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    heads: dict[str, int] = field(default_factory=dict)  # the last seq of each station

    @property
    def ok(self) -> bool:
        return not self.problems


def read_journal(target: Path | str, *, start: float | None = None, end: float | None = None,
                 category: str | None = None, source: str | None = None, text: str | None = None,
                 user: str | None = None, limit: int = 10_000) -> list[StoredEntry]:
    """Entries newest first: between two epoch times (inclusive), of one category, source or user, and
    containing `text` (case-insensitive) in any text field."""
    query = select(*COLUMNS).order_by(_c.ts_us.desc(), _c.seq.desc(), _c.station).limit(limit)
    if start is not None:
        query = query.where(_c.ts_us >= round(start * 1_000_000))
    if end is not None:
        query = query.where(_c.ts_us <= round(end * 1_000_000))
    for column, value in ((_c.category, category), (_c.source, source), (_c.user_name, user)):
        if value is not None:
            query = query.where(column == str(value))
    if text:
        query = query.where(or_(*(column.icontains(text, autoescape=True) for column in (
            _c.event, _c.source, _c.user_name, _c.old_value, _c.new_value, _c.reason, _c.message))))
    with _reading(target) as conn:
        if conn is None:
            return []
        return [_stored(row) for row in conn.execute(query)]


def verify_journal(target: Path | str, anchor_file: Path | None = None) -> JournalReport:
    """Check every station's chain and the anchor (default: next to a SQLite file). Raises HistorianError
    when the database cannot be read."""
    anchor_file = anchor_file if anchor_file is not None else default_anchor(target)
    report = JournalReport()
    anchor = _anchor(anchor_file, report)
    with _reading(target) as conn:
        stations = [] if conn is None else list(conn.execute(select(_c.station).distinct()).scalars())
        for station in sorted(set(stations) | set(anchor or {})):
            if conn is not None:
                _check_chain(conn, station, report)
            if anchor is not None:
                _check_anchor(conn, station, anchor_file, anchor, report)  # type: ignore[arg-type]
    return report


@contextmanager
def _reading(target: Path | str) -> Iterator[Connection | None]:
    """A connection, or None for a SQLite file that does not exist or has no journal yet."""
    url = database_url(target)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        yield None  # not created by reading it
        return
    database = open_database(target, migrate=False)
    try:
        with database.engine.connect() as conn:
            yield conn if inspect(conn).has_table("journal") else None
    except SQLAlchemyError as exc:
        raise classify(exc, database.where) from None
    finally:
        database.dispose()


def _stored(row) -> StoredEntry:  # type: ignore[no-untyped-def]
    try:
        category = Category(row.category)
    except ValueError:  # not written by Linewise: shown as it is (verify reports the row)
        category = row.category
    return StoredEntry(row.station, row.seq, JournalEntry(
        row.ts_us / 1_000_000, category, row.event, row.source, row.user_name, row.old_value, row.new_value,
        row.reason, row.message, row.result), row.hash)


def _rows(conn: Connection, station: str) -> Iterator:  # type: ignore[type-arg]
    after = 0
    while True:
        chunk = conn.execute(select(*COLUMNS).where(_c.station == station, _c.seq > after)
                             .order_by(_c.seq).limit(CHUNK_ROWS)).all()
        yield from chunk
        if len(chunk) < CHUNK_ROWS:
            return
        after = chunk[-1].seq


def _check_chain(conn: Connection, station: str, report: JournalReport) -> None:
    seq, prev = 0, GENESIS
    problems = report.problems
    for row in _rows(conn, station):
        report.entries_checked += 1
        if row.seq != seq + 1:
            missing = f"seq {seq + 1}" if row.seq == seq + 2 else f"seq {seq + 1}..{row.seq - 1}"
            problems.append(f"station {station}: {missing} missing before seq {row.seq} (deleted)")
        elif row.prev_hash != prev:
            problems.append(f"station {station} seq {row.seq}: prev_hash is not the hash of seq {seq} "
                            f"(seq {seq} was replaced, or seq {row.seq} inserted)")
        if row_hash(row.prev_hash, station, row.seq, row.ts_us, row.category, row.event, row.source, row.user_name,
                    row.old_value, row.new_value, row.reason, row.message, row.result) != row.hash:
            problems.append(f"station {station} seq {row.seq}: its fields do not match its hash (changed)")
        elif row.category == Category.SECURITY and row.event in TAMPER_EVENTS:
            problems.append(f"station {station} seq {row.seq}: the writer found at "
                            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(row.ts_us / 1e6))}Z: {row.message}")
        seq, prev = row.seq, row.hash
    if seq:
        report.heads[station] = seq


def _anchor(path: Path | None, report: JournalReport) -> dict[str, tuple[int, str]] | None:
    if path is None:
        report.warnings.append("no anchor file given: rows deleted from the end of the journal cannot be detected")
        return None
    try:
        anchor = read_anchor(path)
    except AnchorError as exc:
        report.problems.append(str(exc))
        return None
    if anchor is None:
        report.warnings.append(f"the journal anchor {path} is missing: rows deleted from the end of the journal "
                               "cannot be detected (it is written again at the next commit)")
    return anchor


def _check_anchor(conn: Connection | None, station: str, path: Path, anchor: dict[str, tuple[int, str]],
                  report: JournalReport) -> None:
    for attempt in range(ANCHOR_RETRIES):
        if station not in anchor:
            report.warnings.append(f"station {station} is not in the journal anchor {path}: rows deleted from the "
                                   "end of its journal cannot be detected")
            return
        want_seq, want_hash = anchor[station]
        head = _scalar(conn, select(func.max(_c.seq)).where(_c.station == station)) or 0
        if head < want_seq:
            report.problems.append(f"station {station}: the journal ends at seq {head} but the anchor records seq "
                                   f"{want_seq}: seq {head + 1}..{want_seq} were deleted from the end (or the "
                                   "database was replaced by an older copy)")
            return
        if _scalar(conn, select(_c.hash).where(_c.station == station, _c.seq == want_seq)) != want_hash:
            report.problems.append(f"station {station} seq {want_seq}: not the row the anchor records (the chain "
                                   "was rewritten from there back)")
            return
        if head == want_seq:
            return
        if attempt + 1 < ANCHOR_RETRIES:
            time.sleep(0.5)
            try:
                anchor = read_anchor(path) or {}
            except AnchorError:
                pass
            continue
        report.problems.append(f"station {station}: seq {want_seq + 1}..{head} come after the anchor's seq "
                               f"{want_seq}: appended by someone else (or written just before a crash)")


def _scalar(conn: Connection | None, query):  # type: ignore[no-untyped-def]
    return None if conn is None else conn.execute(query).scalar()
