"""Retention: history older than each tier's age is deleted in the background, a little at a time; disk usage.

Rules:

- **Tiers.** Raw samples (`samples`), 1-minute roll-ups (`rollup_1m`) and 1-hour roll-ups (`rollup_1h`) each
  have an age (`RetentionSpec`: days, None = forever). A tag's own `history.retention` replaces the site's
  `historian.retention` as a whole; tags still in the database but no longer in the site get the site's.
- **Raw: the value at the cutoff is kept.** Samples with a time before `now - raw age` are deleted, except
  the one that holds at the cutoff (the newest at or before it): the oldest history left still starts with a
  value ("the level was 2.3 m since ..."), so a trend or an interpolation at the cutoff answers as before.
  That sample may be much older than the cutoff when the value did not change for long; it goes when a
  newer one takes its place.
- **Roll-ups** go per whole bucket: one that ends at or before the cutoff (start + width <= cutoff).
- **Acquisition events** are kept as long as any raw sample they could apply to: those older than the oldest
  raw sample left of every tag are deleted (a raw read fetches events from its first sample on). A tag
  that keeps raw history forever therefore keeps every event.

Without long locks: SQLite has one writer, and one DELETE of millions of rows would hold up the historian's
commits for seconds. Deletion goes in chunks of at most `chunk_rows` rows per transaction, each a range of
the primary key (tag_id, time): the time of the chunk's last row is found with ORDER BY ... LIMIT 1 OFFSET
n-1 in the same statement, since SQLite's DELETE has no LIMIT (the same SQL runs on PostgreSQL). A
`RetentionWorker.step` call does a bounded amount of work (rows and seconds) and says whether the pass is
finished, so the historian can call it between flushes on its own thread.

Freed space: SQLite does not shrink the file after a DELETE; the free pages are reused by later inserts
(`DiskUsage.reusable_bytes`), so a historian that has reached its retention stops growing. VACUUM (which
rewrites the whole file, needs as much free disk again and locks it meanwhile) is never run automatically;
`PRAGMA incremental_vacuum` only works on files created with auto_vacuum=INCREMENTAL, which historian files
are not. PostgreSQL reuses the space of deleted rows after its autovacuum.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hmi.site.schema import RetentionSpec
from hmi.storage.database import Database, classify
from hmi.storage.rollups import TIERS

RAW = "samples"
TABLES = (RAW, *TIERS)  # the tiers, finest first
ACQUISITION = "acquisition"
_DAY_S = 86400.0
_US = 1_000_000


@dataclass(frozen=True)
class RetentionPolicy:
    """How long one tag's history is kept: per tier the age in seconds beyond which rows go (None: forever)."""

    raw_s: float | None
    minute_s: float | None
    hour_s: float | None

    @classmethod
    def of(cls, spec: RetentionSpec) -> RetentionPolicy:
        def seconds(days: float | None) -> float | None:
            return None if days is None else days * _DAY_S

        return cls(seconds(spec.raw_days), seconds(spec.minute_days), seconds(spec.hour_days))

    def age_s(self, table: str) -> float | None:
        """The age for one tier table ("samples", "rollup_1m", "rollup_1h")."""
        return {RAW: self.raw_s, "rollup_1m": self.minute_s, "rollup_1h": self.hour_s}[table]

    @property
    def forever(self) -> bool:
        return self.raw_s is None and self.minute_s is None and self.hour_s is None


@dataclass(frozen=True)
class Policies:
    """Every tag's effective policy; `default` (the site's) for tags not named (no longer in the site)."""

    default: RetentionPolicy
    tags: Mapping[str, RetentionPolicy] = field(default_factory=dict)

    def of(self, tag: str) -> RetentionPolicy:
        return self.tags.get(tag, self.default)


def policies(site_default: RetentionSpec, per_tag: Mapping[str, RetentionSpec | None]) -> Policies:
    """Each tag's policy: its own spec when it has one (replacing the site's whole spec), else the site's."""
    default = RetentionPolicy.of(site_default)
    return Policies(default, {name: default if spec is None else RetentionPolicy.of(spec)
                              for name, spec in per_tag.items()})


@dataclass(frozen=True)
class RetentionStep:
    """What one `RetentionWorker.step` did."""

    deleted: Mapping[str, int]  # rows deleted per table ("samples", "rollup_1m", "rollup_1h", "acquisition")
    more: bool  # the pass is not finished: call again (with a pause of your choosing: a flush)


class RetentionWorker:
    """Deletes what is older than the policies allow, in bounded steps (one thread at a time; the historian's).

    A pass goes over every tag in the database and each tier, then the acquisition events; its cutoffs are
    fixed when it starts (`now` of the step that starts it). Each `step` carries the pass on by at most
    `max_rows` deleted rows or about `max_seconds` (at least one chunk or look-up), in transactions of at most
    `chunk_rows` rows, so it can be interrupted anywhere: the next step carries on. A database error is raised
    as a `HistorianError`; the pass is then abandoned and the next step starts a new one (what was deleted
    stays deleted, nothing is lost by starting over). `due` says when to run: while a pass is under way, and
    again `every_s` after one finished.
    """

    def __init__(self, database: Database, policies: Policies, *, chunk_rows: int = 10_000,
                 every_s: float = 3600.0) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, not {chunk_rows}")
        self.database = database
        self.policies = policies
        self.chunk_rows = chunk_rows
        self.every_s = every_s
        self.deleted: dict[str, int] = dict.fromkeys((*TABLES, ACQUISITION), 0)  # since the worker was made
        self.passes = 0  # finished passes
        self._pass: Iterator[tuple[str, int]] | None = None
        self._room = chunk_rows  # rows the next chunk may delete (read by the pass)
        self._finished_at: float | None = None

    @property
    def running(self) -> bool:
        """A pass is under way."""
        return self._pass is not None

    def due(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self._pass is not None or self._finished_at is None or now - self._finished_at >= self.every_s

    def step(self, now: float | None = None, *, max_rows: int = 50_000, max_seconds: float = 0.2) -> RetentionStep:
        """Carry the pass on (starting one at `now` when none is under way) by a bounded amount of work."""
        if max_rows < 1:
            raise ValueError(f"max_rows must be >= 1, not {max_rows}")
        now = time.time() if now is None else now
        if self._pass is None:
            self._pass = self._run_pass(now)
        deleted = dict.fromkeys(self.deleted, 0)
        total = 0
        deadline = time.monotonic() + max_seconds
        try:
            while True:
                self._room = min(self.chunk_rows, max_rows - total)
                try:
                    table, count = next(self._pass)
                except StopIteration:
                    self._pass = None
                    self._finished_at = now
                    self.passes += 1
                    break
                deleted[table] += count
                self.deleted[table] += count
                total += count
                if total >= max_rows or time.monotonic() >= deadline:
                    break
        except SQLAlchemyError as exc:
            self._pass = None
            raise classify(exc, self.database.where) from None
        except BaseException:
            self._pass = None
            raise
        return RetentionStep(deleted, self._pass is not None)

    def run(self, now: float | None = None) -> dict[str, int]:
        """A whole pass at once (still in chunks: other writers get the lock in between); rows deleted per
        table. Blocking: for tests and maintenance, not the historian's thread."""
        now = time.time() if now is None else now
        deleted = dict.fromkeys(self.deleted, 0)
        while True:
            result = self.step(now, max_rows=1 << 62, max_seconds=math.inf)
            for table, count in result.deleted.items():
                deleted[table] += count
            if not result.more:
                return deleted

    # -- the pass (a generator: suspended between chunks, never inside a transaction) -------------------

    def _run_pass(self, now: float) -> Iterator[tuple[str, int]]:
        with self.database.engine.connect() as conn:
            known = list(conn.execute(text("SELECT id, name FROM tags ORDER BY id")))
        yield RAW, 0
        for tag_id, name in known:
            policy = self.policies.of(name)
            for table in TABLES:
                age = policy.age_s(table)
                if age is None:
                    continue
                cutoff_us = math.floor((now - age) * _US)
                if table == RAW:
                    bound = self._scalar("SELECT max(ts_us) FROM samples WHERE tag_id = :tag AND ts_us <= :cutoff",
                                         tag=tag_id, cutoff=cutoff_us)  # the sample that holds at the cutoff
                    yield table, 0
                else:
                    width_us = round(TIERS[table] * _US)
                    bound = cutoff_us // width_us * width_us  # buckets that start before it end by the cutoff
                if bound is not None:
                    yield from self._delete(table, bound, tag_id)
        # events older than the oldest raw sample left of any tag (none stored: keep them all)
        oldest = self._scalar("SELECT min((SELECT min(ts_us) FROM samples WHERE samples.tag_id = tags.id)) "
                              "FROM tags")
        yield ACQUISITION, 0
        if oldest is not None:
            yield from self._delete(ACQUISITION, oldest)

    def _delete(self, table: str, bound: int, tag_id: int | None = None) -> Iterator[tuple[str, int]]:
        """Delete the rows of `table` (of one tag) with a key time < bound, oldest first, chunk by chunk."""
        key = "ts_us" if table in (RAW, ACQUISITION) else "start_us"
        of_tag = "" if tag_id is None else "tag_id = :tag AND "
        # One upper limit on the key (keys are whole microseconds: < bound is <= bound - 1): with two, SQLite
        # would range over one and test the other, reading every row below the bound at every chunk.
        sql = text(f"DELETE FROM {table} WHERE {of_tag}{key} <= coalesce("
                   f"(SELECT {key} FROM {table} WHERE {of_tag}{key} < :bound ORDER BY {key} LIMIT 1 OFFSET :skip), "
                   ":last)")
        params = {"bound": bound, "last": bound - 1} | ({} if tag_id is None else {"tag": tag_id})
        while True:
            room = self._room
            with self.database.engine.begin() as conn:
                count = conn.execute(sql, {**params, "skip": room - 1}).rowcount
            yield table, count
            if count < room:
                return

    def _scalar(self, sql: str, **params: object) -> int | None:
        with self.database.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()


@dataclass(frozen=True)
class TableUsage:
    rows: int | None  # PostgreSQL: the planner's estimate (pg_class.reltuples; None before the first ANALYZE)
    bytes: int  # on disk, indexes included (PostgreSQL: pg_total_relation_size)


@dataclass(frozen=True)
class DiskUsage:
    """What the history takes on disk.

    SQLite: `bytes` is the file plus its write-ahead log (`wal_bytes`) as the disk holds them; `page_count` x
    `page_size` is the database as of the last commit (the WAL holds pages not yet copied into the file, and
    keeps its size after a checkpoint). `reusable_bytes` (`freelist_count` x `page_size`) is the part of the
    file that deleted rows freed: later inserts reuse it, so the file does not grow until it is used up; it is
    given back to the disk only by a VACUUM, which Linewise never runs on its own. Space freed inside pages
    that still hold rows is reused too but not counted. `tables` is empty: rows cannot be told without
    reading the whole file.

    PostgreSQL: `bytes` is `pg_database_size` of the database (everything, the server's own catalogs
    included); `tables` has each historian table's size and estimated rows. Space freed by deletions is
    reused after autovacuum; it is not told apart (`reusable_bytes` None).
    """

    bytes: int
    reusable_bytes: int | None = None
    wal_bytes: int | None = None
    page_size: int | None = None
    page_count: int | None = None
    freelist_count: int | None = None
    tables: Mapping[str, TableUsage] = field(default_factory=dict)


def disk_usage(database: Database) -> DiskUsage:
    """Bytes the history uses (blocking, but cheap: no table is read)."""
    try:
        with database.engine.connect() as conn:
            if database.dialect == "sqlite":
                page_size, page_count, freelist = (conn.exec_driver_sql(f"PRAGMA {name}").scalar() or 0
                                                   for name in ("page_size", "page_count", "freelist_count"))
                path = database.engine.url.database or ""
                size, wal = (_file_size(path), _file_size(path + "-wal"))
                return DiskUsage(size + wal, freelist * page_size, wal, page_size, page_count, freelist)
            total = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() or 0
            tables = {name: TableUsage(None if rows < 0 else round(rows), size) for name, rows, size in conn.execute(
                text("SELECT c.relname, c.reltuples, pg_total_relation_size(c.oid) FROM pg_class c "
                     "WHERE c.oid IN (to_regclass('samples'), to_regclass('rollup_1m'), to_regclass('rollup_1h'), "
                     "to_regclass('acquisition'), to_regclass('tags'))"))}
            return DiskUsage(total, tables=tables)
    except SQLAlchemyError as exc:
        raise classify(exc, database.where) from None


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
