"""The historian writer: every tag's samples, compressed per its storage mode, batched into the database.

Threads: `submit` runs on the io loop and only keeps the registry's batch (no work per sample there). A
writer task on the io loop hands what has arrived to the historian's own thread every `flush_interval_s`
(or as soon as `batch_rows` samples wait, which bounds memory in a burst); that thread turns the batches
into arrays sorted by tag and time (`sample_table`), compresses every tag that only continues its stream
in one kernel call per mode (`compression.feed_many`) and the rest tag by tag (`compression.TagStream`),
and commits one transaction
(commits of ~10,000 rows measured ~600k rows/s here, of 100 rows only ~80k). Roll-ups are fed a slice of
the tags per flush, each tag about every ROLLUP_EVERY flushes (a bucket is written within that of closing;
readers take the samples of buckets not written yet). Neither the io loop nor the GUI ever waits for the
disk.

When the database cannot take the rows (disk full, read-only, locked by another program, a server that is
down), they stay queued and are retried at every flush; acquisition goes on. The queue is bounded
(`backlog_rows`): beyond it the oldest rows are dropped, counted in `rows_dropped` and logged, so memory
stays bounded and the newest data is kept. A file that is not a database is moved aside (nothing in it is
touched) and a new one started. A database written by a newer Linewise is left alone and the historian
stays off, saying why.

Acquisition start and stop are recorded (`schema.acquisition`); on close every compressor's held last
point is stored first, then the stop, then everything is committed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from drivers.model import Quality, TagUpdate
from drivers.values import DataType
from drivers.waiting import wait_event
from hmi.site.schema import HistorySpec, RetentionSpec, TagSpec
from hmi.storage.compression import ANALOG, DISCRETE, Rows, TagStream, as_rows, continuing, feed_many
from hmi.storage.database import CorruptDatabase, Database, HistorianError, classify, database_url, open_database
from hmi.storage.health import HistorianHealth
from hmi.storage.retention import DiskUsage, RetentionWorker, disk_usage, policies
from hmi.storage.rollups import TIERS, TagRollups, merge_sql
from hmi.storage.sample_table import SampleTable, sample_table
from hmi.storage.schema import (
    ACQUISITION_STARTED,
    ACQUISITION_STOPPED,
    ROLLUP_TABLES,
    acquisition,
    samples,
    tags,
)

log = logging.getLogger(__name__)

BACKFILL_ROWS = 50_000  # rows per transaction of a backfill
RETRY_OPEN_S = 10.0  # how often a historian whose database could not be opened tries again
DROP_LOG_S = 10.0  # samples dropped before the writer took them are logged at most this often
ROLLUP_EVERY = 30  # flushes between two roll-up feeds of a tag (spread: 1/30 of the tags per flush)
Row = tuple[int, int, float | None, int]  # tag_id, ts_us, value, quality


def tag_kind(data_type: DataType) -> str:
    """Floats are measurements, interpolated linearly; everything else holds its value until the next."""
    return ANALOG if data_type in (DataType.FLOAT32, DataType.FLOAT64) else DISCRETE


@dataclass(frozen=True)
class HistoryTag:
    name: str
    spec: HistorySpec
    kind: str
    text: bool = False  # values are text: stored as NULL (quality and time are kept)

    @classmethod
    def of(cls, tag: TagSpec) -> HistoryTag:
        return cls(tag.name, tag.history, tag_kind(tag.data_type), tag.data_type is DataType.STRING)


@dataclass(frozen=True)
class Sample:
    ts: float
    value: float | None
    quality: Quality


class Historian:
    def __init__(self, target: Path | str, *, flush_interval_s: float = 1.0, batch_rows: int = 500_000,
                 backlog_rows: int = 2_000_000, busy_timeout_s: float = 5.0,
                 retention: RetentionSpec | None = None) -> None:
        self.target = target
        self.flush_interval_s = flush_interval_s
        self.batch_rows = batch_rows
        self.backlog_rows = backlog_rows
        self.busy_timeout_s = busy_timeout_s
        self.rows_written = 0
        self.rows_dropped = 0  # stored rows lost to a full backlog
        self.samples_received = 0
        self.last_error = ""
        # The site's retention (the Runtime passes historian.retention: 90 days raw by default); a tag's own
        # replaces it (history.retention). Without one, history is kept until a tag says otherwise.
        self.retention = retention or RetentionSpec(raw_days=None, minute_days=None, hour_days=None)
        self._retention: RetentionWorker | None = None  # writer thread
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="historian")
        self._db: Database | None = None
        self._opened_at = 0.0
        self._tags: dict[str, HistoryTag] = {}
        self._ids: dict[str, int] = {}  # tag name -> id, once the database is open (io loop reads it)
        self._pending: list[Sequence[TagUpdate]] = []  # io loop: the registry's batches since the last flush
        self._pending_count = 0
        self._names: list[str] = []  # the historised tags in a fixed order (positions in sample tables)
        self._position: dict[str, int] = {}
        self._text = np.zeros(0, dtype=bool)  # per position: values are text
        self._streams: dict[str, TagStream] = {}  # writer thread only
        self._rollups: dict[str, TagRollups] = {}  # writer thread only
        self._rollup_wait: dict[str, Rows] = {}  # writer thread: stored rows not fed to the roll-ups yet
        self._flushes = 0  # writer thread
        self._drop_logged = -DROP_LOG_S
        # writer thread only: rows waiting for a commit, per tag name (ids are known once the database opens)
        # and table (None: samples, else a roll-up table)
        self._backlog: deque[tuple[str, str | None, list[tuple]]] = deque()
        self._backlog_count = 0
        self._events: list[tuple[int, int]] = []  # acquisition events waiting for a commit
        self._started_at = 0.0  # epoch s of start(): a gap in what is known ends here
        self._confirmed: set[str] = set()  # writer thread: tags whose first samples since start were seen
        self._stopped_before: float | None = None  # the last acquisition stop (or start) recorded before ours
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.health = HistorianHealth(self)  # status snapshots for the application (io loop)

    @property
    def path(self) -> Path:
        """The SQLite file (for messages and the trend's reader); a URL target has no path."""
        return Path(database_url(self.target).database or "")

    @property
    def backlog(self) -> int:
        """Stored rows waiting for the database."""
        return self._backlog_count

    # -- lifecycle (io loop) ---------------------------------------------------------------------------

    async def start(self, tag_specs: Iterable[TagSpec | HistoryTag]) -> None:
        """Open (or create, or migrate) the database and start writing. Never raises for the database:
        a historian that cannot open it records why in `last_error`, keeps samples and retries."""
        self._tags = {t.name: t if isinstance(t, HistoryTag) else HistoryTag.of(t) for t in tag_specs}
        self._names = list(self._tags)
        self._position = {name: i for i, name in enumerate(self._names)}
        self._text = np.array([t.text for t in self._tags.values()], dtype=bool)
        self._streams = {name: TagStream(t.spec, t.kind) for name, t in self._tags.items()}
        self._rollups = {name: TagRollups(t.kind) for name, t in self._tags.items()}
        self._started_at = round(time.time(), 6)
        self._confirmed = set()
        self._events.append((round(self._started_at * 1e6), ACQUISITION_STARTED))
        await self._in_writer(self._open)
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="historian-writer")

    async def close(self) -> None:
        """Stop the writer: store every held point and the stop, and commit everything still pending."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
            self._events.append((round(time.time() * 1e6), ACQUISITION_STOPPED))
            await self._flush(final=True)
        if self._db is not None:
            await self._in_writer(self._db.dispose)
            self._db = None
        self._executor.shutdown(wait=True)

    def submit(self, updates: Sequence[TagUpdate]) -> None:
        """Queue a batch (tag listener, io loop). The batch is kept as it is (the registry makes a new list per
        batch and never changes it); the writer thread sorts out the historised tags' samples."""
        if not updates:
            return
        self._pending.append(updates)
        self._pending_count += len(updates)
        if self._pending_count >= self.batch_rows and self._wake is not None:
            self._wake.set()
        if self._pending_count > self.backlog_rows:  # the writer has taken nothing for long: a hung disk or server
            self._drop_pending()

    def _drop_pending(self) -> None:
        """Bound what waits for the writer as the backlog is bounded: the oldest batches go, counted."""
        dropped = 0
        while self._pending_count > self.backlog_rows and len(self._pending) > 1:
            batch = self._pending.pop(0)
            self._pending_count -= len(batch)
            dropped += len(batch)
        self.rows_dropped += dropped
        if time.monotonic() - self._drop_logged >= DROP_LOG_S:  # not once per batch
            self._drop_logged = time.monotonic()
            log.error("historian: more than %d samples wait for the writer (%s); the oldest are dropped (%d so far)",
                      self.backlog_rows, self.last_error or "the database does not answer", self.rows_dropped)

    async def backfill(self, tag: str, t: np.ndarray, value: np.ndarray, quality: np.ndarray) -> int:
        """Store a block of history (a PLC's buffered log, an import) in bulk: compressed by the tag's storage
        mode on its own (the live stream is not disturbed), written in large transactions, and the roll-ups of
        the buckets it touches recomputed from what is then stored. Returns the rows stored. Raises
        HistorianError when the database cannot take them (nothing is kept for retry: the caller has them)."""
        if tag not in self._tags:
            raise ValueError(f"{tag!r} is not a historised tag of this site")
        return await self._in_writer(self._backfill, tag, np.asarray(t, np.float64), np.asarray(value, np.float64),
                                     np.asarray(quality, np.int64))

    # -- writer task (io loop) -------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await wait_event(self._wake, self.flush_interval_s)
            self._wake.clear()
            await self._flush()

    async def _flush(self, final: bool = False) -> None:
        batch, self._pending, self._pending_count = self._pending, [], 0
        # shielded: the batch has been taken, so its write must run even when the writer task is cancelled
        # (close() does that); cancelling a job the executor has not started yet would drop the batch
        await asyncio.shield(asyncio.get_running_loop().run_in_executor(
            self._executor, self._write, batch, time.time(), final))

    async def _in_writer(self, func, *args):  # type: ignore[no-untyped-def]
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    # -- writer thread ---------------------------------------------------------------------------------

    def _open(self) -> None:
        self._opened_at = time.monotonic()
        try:
            database = open_database(self.target, busy_timeout_s=self.busy_timeout_s)
        except CorruptDatabase as exc:
            database = self._start_afresh(exc)
            if database is None:
                return
        except HistorianError as exc:
            self._failed(str(exc))
            return
        try:
            self._ids = self._register(database)
        except SQLAlchemyError as exc:
            database.dispose()
            self._failed(str(classify(exc, database.where)))
            return
        self._db = database
        self._retention = RetentionWorker(database, policies(self.retention, {
            name: tag.spec.retention for name, tag in self._tags.items()}))
        self.last_error = ""
        log.info("historian: writing to %s", database.where)

    def _start_afresh(self, exc: CorruptDatabase) -> Database | None:
        """Move a file that is not a database aside (with its WAL) and start a new one."""
        path = self.path
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            for suffix in ("", "-wal", "-shm"):
                part = path.with_name(path.name + suffix)
                if part.exists():
                    part.rename(aside.with_name(aside.name + suffix))
            database = open_database(self.target, busy_timeout_s=self.busy_timeout_s)
        except (OSError, HistorianError) as again:
            self._failed(f"{exc} Moving it aside failed: {again}")
            return None
        log.error("historian: %s It was moved to %s (kept for recovery); a new history file was started.",
                  exc, aside)
        return database

    def _failed(self, message: str) -> None:
        if message != self.last_error:
            log.error("historian: %s; samples are kept in memory and the database retried every %.0f s",
                      message, RETRY_OPEN_S)
        self.last_error = message

    def _register(self, database: Database) -> dict[str, int]:
        """Tag ids by name: new tags added, renamed ones (`renamed_from`) carried on, kinds kept current."""
        with database.engine.begin() as conn:
            # the end of what the previous run recorded: a stop, or (after a crash) its start
            last_event = conn.execute(select(func.max(acquisition.c.ts_us))).scalar()
            self._stopped_before = None if last_event is None else last_event / 1e6
            known = {name: tag_id for tag_id, name in conn.execute(select(tags.c.id, tags.c.name))}
            for tag in self._tags.values():
                if tag.name in known:
                    continue
                old = next((n for n in tag.spec.renamed_from if n in known), None)
                if old is not None:
                    conn.execute(update(tags).where(tags.c.name == old).values(name=tag.name))
                    known[tag.name] = known.pop(old)
                    log.info("historian: %s was renamed to %s; its history carries on", old, tag.name)
                else:
                    inserted = conn.execute(tags.insert().values(name=tag.name, kind=tag.kind))
                    known[tag.name] = inserted.inserted_primary_key[0]
            for tag in self._tags.values():
                conn.execute(update(tags).where(tags.c.id == known[tag.name], tags.c.kind != tag.kind)
                             .values(kind=tag.kind))
        orphans = sorted(set(known) - set(self._tags))
        if orphans:
            shown = ", ".join(orphans[:20]) + (" …" if len(orphans) > 20 else "")
            log.info("historian: history kept for tags no longer in the site: %s (a renamed tag carries its "
                     "history on with history.renamed_from)", shown)
        return {name: known[name] for name in self._tags}

    def _write(self, batch: list[Sequence[TagUpdate]], now: float, final: bool) -> None:
        self._compress(batch, now, final)
        if self._db is None and time.monotonic() - self._opened_at >= (0 if final else RETRY_OPEN_S):
            self._open()
        if self._db is None or (not self._backlog and not self._events):
            return
        ids = self._ids
        by_table: dict[str | None, list[tuple]] = {}
        for name, table, part in self._backlog:
            tag_id = ids[name]
            by_table.setdefault(table, []).extend((tag_id, *row) for row in part)
        rows = by_table.pop(None, [])
        try:
            with self._db.engine.begin() as conn:
                if rows:
                    conn.exec_driver_sql(self._db.upsert_samples, rows)
                for table, rollup_rows in by_table.items():
                    conn.exec_driver_sql(merge_sql(self._db.dialect, table), rollup_rows)
                if self._events:
                    conn.execute(acquisition.insert(), [{"ts_us": ts, "event": e} for ts, e in self._events])
        except SQLAlchemyError as exc:
            error = classify(exc, self._db.where)
            if str(error) != self.last_error:
                log.error("historian: commit of %d rows failed (%s); keeping them to retry", len(rows), error)
            self.last_error = str(error)
            return
        self._backlog.clear()
        self._backlog_count = 0
        self._events.clear()
        self.rows_written += len(rows)
        self.last_error = ""
        if not final:
            self._expire()

    def _expire(self) -> None:
        """A bounded step of retention (at most ~0.2 s, in short transactions) when one is due."""
        worker = self._retention
        if worker is None or not worker.due():
            return
        try:
            step = worker.step()
        except HistorianError as exc:
            log.error("historian: retention failed (%s); it is tried again later", exc)
            return
        if any(step.deleted.values()):
            log.debug("historian: retention deleted %s", dict(step.deleted))

    async def disk_usage(self) -> DiskUsage | None:
        """What the history takes on disk (None while the database is not open)."""
        return await self._in_writer(lambda: None if self._db is None else disk_usage(self._db))

    def _compress(self, batch: list[Sequence[TagUpdate]], now: float, final: bool) -> None:
        """Samples to rows through each tag's stream, onto the backlog (bounded: the oldest rows dropped)."""
        table = sample_table(batch, self._position, self._text)
        self.samples_received += len(table)
        rows_of = self._feed(table) if len(table) else {}
        for name, stream in self._streams.items():
            if stream.mode == "periodic":
                rows_of.setdefault(name, []).extend(stream.tick(now))
            if final:
                rows_of.setdefault(name, []).extend(stream.finish())
        added = 0
        for name, rows in rows_of.items():
            if rows:
                self._backlog.append((name, None, rows))
                added += len(rows)
                self._rollup_wait.setdefault(name, []).extend(rows)
        added += self._feed_rollups(now, final)
        self._flushes += 1
        self._backlog_count += added
        overflow = self._backlog_count - self.backlog_rows
        if overflow > 0:
            self._drop_oldest(overflow)

    def _feed(self, table: SampleTable) -> dict[str, Rows]:
        """Each tag's rows from its samples: continuing streams all at once, the rest one by one."""
        stops = table.stops()
        value, quality = table.value, table.quality
        has_value = ~np.isnan(value)
        # a segment is uniform when neither the quality nor the presence of a value changes inside it
        change = np.zeros(len(table), dtype=np.int64)
        change[1:] = (quality[1:] != quality[:-1]) | (has_value[1:] != has_value[:-1])
        change[table.starts] = 0
        uniform = (np.add.reduceat(change, table.starts) == 0) & has_value[table.starts]
        first_t, first_q = table.t[table.starts].tolist(), quality[table.starts].tolist()
        fast: list[int] = []
        rows_of: dict[str, Rows] = {}
        for k, (position, even) in enumerate(zip(table.tags.tolist(), uniform.tolist(), strict=True)):
            name = self._names[position]
            stream = self._streams[name]
            if even and name in self._confirmed and continuing(stream, first_t[k], first_q[k]):
                fast.append(k)
                continue
            a, b = int(table.starts[k]), int(stops[k])
            t, y, q = table.t[a:b], value[a:b], quality[a:b]
            if name not in self._confirmed:
                self._confirmed.add(name)
                confirmed = self._confirmed_at_start(np.column_stack((t, y, q.astype(np.float64))))
                t, y, q = confirmed[:, 0], confirmed[:, 1], confirmed[:, 2].astype(np.int64)
            rows_of[name] = stream.feed(t, y, q)
        if fast:
            segments = np.asarray(fast)
            starts = table.starts[segments]
            lengths = stops[segments] - starts
            if len(fast) == len(table.starts):
                t, y, q, local = table.t, value, quality, table.starts
            else:
                take = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(
                    int(lengths.sum()))
                t, y, q = table.t[take], value[take], quality[take]
                local = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            names = [self._names[p] for p in table.tags[segments].tolist()]
            for name, rows in zip(names, feed_many([self._streams[n] for n in names], t, y, q, local), strict=True):
                rows_of[name] = rows
        return rows_of

    def _feed_rollups(self, now: float, final: bool) -> int:
        """Feed the roll-ups of this flush's slice of the tags (all of them on a final flush); their closed
        buckets go onto the backlog. Returns the rows added."""
        added = 0
        for name in self._names if final else self._names[(-self._flushes) % ROLLUP_EVERY::ROLLUP_EVERY]:
            rows = self._rollup_wait.pop(name, [])
            if rows or final:
                for table, closed in self._rolled_up(name, rows, now if final else None).items():
                    self._backlog.append((name, table, closed))
                    added += len(closed)
        return added

    def _backfill(self, tag: str, t: np.ndarray, value: np.ndarray, quality: np.ndarray) -> int:
        if self._db is None:
            raise HistorianError(self.last_error or "the historian database is not open")
        if len(t) == 0:
            return 0
        order = np.argsort(t, kind="stable")
        t, value, quality = t[order], value[order], quality[order]
        spec = self._tags[tag]
        stream = TagStream(spec.spec, spec.kind)
        tag_id = self._ids[tag]
        if stream.mode == "all":  # every sample: the rows straight from the arrays (the bulk import case)
            kept = (t, value, quality)
            rows = as_rows(t, value, quality, tag_id)
        else:
            compressed = stream.feed(t, value, quality) + stream.finish()
            table = np.array([(ts, np.nan if v is None else v, q) for ts, v, q in compressed],
                             dtype=np.float64).reshape(-1, 3)
            kept = (table[:, 0] * 1e-6, table[:, 1], table[:, 2].astype(np.int64))
            rows = [(tag_id, *row) for row in compressed]
        hour = TIERS["rollup_1h"]
        lo, hi = math.floor(t[0] / hour) * hour, (math.floor(t[-1] / hour) + 1) * hour
        try:
            # roll-ups straight from the kept samples when the hours they touch held nothing yet (an import),
            # else recomputed from what is stored once the rows are in
            fresh = not self._stored_between(tag_id, lo, hi)
            for at in range(0, len(rows), BACKFILL_ROWS):
                with self._db.engine.begin() as conn:
                    conn.exec_driver_sql(self._db.upsert_samples, rows[at:at + BACKFILL_ROWS])
            self._replace_rollups(tag, tag_id, lo, hi, kept if fresh else None)
        except SQLAlchemyError as exc:
            raise classify(exc, self._db.where) from None
        self.rows_written += len(rows)
        return len(rows)

    def _stored_between(self, tag_id: int, lo: float, hi: float) -> bool:
        assert self._db is not None
        with self._db.engine.connect() as conn:
            return conn.execute(select(samples.c.ts_us).where(
                samples.c.tag_id == tag_id, samples.c.ts_us >= round(lo * 1e6), samples.c.ts_us < round(hi * 1e6)
            ).limit(1)).first() is not None

    def _replace_rollups(self, tag: str, tag_id: int, lo: float, hi: float,
                         kept: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        """The roll-up buckets of one tag in [lo, hi) (whole hours) recomputed from the kept samples (t in s, value
        NaN for none, quality), or from the stored rows when None, and replaced."""
        assert self._db is not None
        with self._db.engine.begin() as conn:
            if kept is None:
                rows = [tuple(r) for r in conn.execute(
                    select(samples.c.ts_us, samples.c.value, samples.c.quality)
                    .where(samples.c.tag_id == tag_id, samples.c.ts_us >= round(lo * 1e6),
                           samples.c.ts_us < round(hi * 1e6)).order_by(samples.c.ts_us))]
                table = np.array(rows, dtype=np.float64).reshape(-1, 3) if rows else np.empty((0, 3))  # NULL: NaN
                kept = (table[:, 0] * 1e-6, table[:, 1], table[:, 2].astype(np.int64))
            closed = TagRollups(self._tags[tag].kind).feed_arrays(*kept, final_at=hi)
            for name, rollup in ROLLUP_TABLES.items():
                conn.execute(rollup.delete().where(rollup.c.tag_id == tag_id, rollup.c.start_us >= round(lo * 1e6),
                                                   rollup.c.start_us < round(hi * 1e6)))
                if closed.get(name):
                    conn.exec_driver_sql(merge_sql(self._db.dialect, name),
                                         [(tag_id, *row) for row in closed[name]])

    def _rolled_up(self, name: str, rows: Rows, final_at: float | None) -> dict[str, list[tuple]]:
        try:
            return self._rollups[name].feed(rows, final_at)
        except ValueError as exc:  # stored rows out of order would be a bug: lose the roll-up, not the rows
            log.error("historian: roll-ups of %s restarted (%s)", name, exc)
            self._rollups[name] = TagRollups(self._tags[name].kind)
            return {}

    def _confirmed_at_start(self, table: np.ndarray) -> np.ndarray:
        """A tag's first samples after a start. A server reports a value that has not changed with the time it
        last changed; when that is before the previous stop, the value held through the time Linewise was not
        acquiring and is stored again at the start time (otherwise the history, which has a gap at the stop,
        would show nothing from the start until the value next changes)."""
        if self._stopped_before is None or table[0, 0] >= self._stopped_before:
            return table  # a first start, or a value that changed while we were away: nothing to bridge
        k = int(np.searchsorted(table[:, 0], self._started_at, side="left"))
        if k < len(table) and table[k, 0] == self._started_at:
            return table
        confirmed = table[k - 1].copy()
        confirmed[0] = self._started_at
        return np.insert(table, k, confirmed, axis=0)

    def _drop_oldest(self, count: int) -> None:
        dropped = 0
        while dropped < count and self._backlog:
            _name, _table, oldest = self._backlog[0]
            if len(oldest) <= count - dropped:
                self._backlog.popleft()
                dropped += len(oldest)
            else:
                del oldest[: count - dropped]
                dropped = count
        self._backlog_count -= dropped
        self.rows_dropped += dropped
        log.error("historian: backlog full (%d rows): dropped the %d oldest", self.backlog_rows, dropped)


def read_history(target: Path | str, tag: str, start: float, end: float) -> list[Sample]:
    """Stored samples of one tag between two epoch times (blocking; call off the GUI thread)."""
    database = open_database(target, migrate=False)
    try:
        with database.engine.connect() as conn:
            tag_id = conn.execute(select(tags.c.id).where(tags.c.name == tag)).scalar()
            if tag_id is None:
                return []
            rows = conn.execute(
                select(samples.c.ts_us, samples.c.value, samples.c.quality)
                .where(samples.c.tag_id == tag_id,
                       samples.c.ts_us >= int(start * 1_000_000), samples.c.ts_us <= int(end * 1_000_000))
                .order_by(samples.c.ts_us)
            )
            return [Sample(ts / 1_000_000, value, Quality(q)) for ts, value, q in rows]
    finally:
        database.dispose()
