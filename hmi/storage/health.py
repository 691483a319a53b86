"""The historian's health as a technician reads it: where it writes, whether it is recording and why not,
what waits in memory and what was lost, what the history takes on disk and what the disk has left.

Threads: `HistorianHealth.snapshot` runs on the io loop and never waits for the disk. What it takes to
measure (`Historian.disk_usage` on the historian's writer thread, the free space of the file's filesystem on
a worker thread) is refreshed in the background at most every `usage_every_s`; a snapshot waits for a
measurement under way only briefly and otherwise reports the last one with its age. A writer thread that is
held up (a locked file, a server that does not answer) therefore delays the sizes, never the snapshot.

The state (`state`; `problem` says why and `effect` what it means for the history, each a sentence or two):

- ``recording``: the database takes the rows.
- ``not recording``: the last open or commit failed (`Historian.last_error`): rows are kept in memory and
  retried, acquisition goes on.
- ``waiting``: rows have been waiting for the database longer than `waiting_flushes` flush intervals without
  an error yet (a slow disk, a commit held up by a lock).
- ``rows lost``: recording, but the backlog overflowed at some time since the start and its oldest rows were
  dropped (`rows_dropped`); it stays so until the next start, so that a loss overnight is seen in the morning.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hmi.storage.database import HistorianError, database_url
from hmi.storage.retention import DiskUsage

if TYPE_CHECKING:
    from hmi.storage.historian import Historian

RECORDING, NOT_RECORDING, WAITING, ROWS_LOST = "recording", "not recording", "waiting", "rows lost"


class HistorianHealth:
    """One historian's health snapshots (io loop), with the last disk measurement cached."""

    def __init__(self, historian: Historian, *, usage_every_s: float = 5.0, waiting_flushes: float = 3.0,
                 wait_for_usage_s: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.historian = historian
        self.usage_every_s = usage_every_s
        self.waiting_flushes = waiting_flushes
        self.wait_for_usage_s = wait_for_usage_s
        self._clock = clock
        self._usage: DiskUsage | None = None
        self._free_bytes: int | None = None
        self._usage_error = ""
        self._measured_at: float | None = None  # clock time of the last finished measurement
        self._measuring: asyncio.Task[None] | None = None
        self._waiting_since: float | None = None  # first snapshot that saw rows waiting, since none were

    async def snapshot(self) -> dict[str, Any]:
        """Everything the status bar and the Connections window show (plain values; io loop)."""
        historian = self.historian
        now = self._clock()
        if self._measuring is None and (self._measured_at is None or now - self._measured_at >= self.usage_every_s):
            measuring = self._measuring = asyncio.create_task(self._measure(), name="historian-disk-usage")
            await asyncio.wait({measuring}, timeout=self.wait_for_usage_s)  # usually done by then
            now = self._clock()
        waiting = historian.backlog
        if waiting == 0:
            self._waiting_since = None
        elif self._waiting_since is None:
            self._waiting_since = now
        waiting_s = 0.0 if self._waiting_since is None else now - self._waiting_since
        where, dialect = describe_target(historian.target)
        state, problem, effect = self._assess(waiting, waiting_s)
        usage = self._usage
        retention = historian.retention
        return {
            "where": where,
            "dialect": dialect,
            "state": state,
            "ok": state == RECORDING,
            "problem": problem,
            "effect": effect,
            "last_error": historian.last_error,
            "rows_written": historian.rows_written,
            "rows_waiting": waiting,
            "waiting_s": waiting_s,
            "rows_dropped": historian.rows_dropped,
            "samples_received": historian.samples_received,
            "backlog_rows": historian.backlog_rows,
            "flush_interval_s": historian.flush_interval_s,
            "disk": None if usage is None else {
                "bytes": usage.bytes, "reusable_bytes": usage.reusable_bytes, "wal_bytes": usage.wal_bytes,
                "tables": {name: {"rows": t.rows, "bytes": t.bytes} for name, t in usage.tables.items()}},
            "free_bytes": self._free_bytes,
            "usage_age_s": None if self._measured_at is None else now - self._measured_at,
            "usage_error": self._usage_error,
            "retention": {"raw_days": retention.raw_days, "minute_days": retention.minute_days,
                          "hour_days": retention.hour_days},
        }

    def _assess(self, waiting: int, waiting_s: float) -> tuple[str, str, str]:
        """The state, why (a sentence), and what it means for the history (a sentence)."""
        historian = self.historian
        lost = historian.rows_dropped
        lost_text = (f" {lost:,} rows were dropped since the start because more than {historian.backlog_rows:,} "
                     "were waiting." if lost else "")
        if historian.last_error:
            return NOT_RECORDING, _sentence(historian.last_error), (
                f"Acquisition goes on: {waiting:,} rows are kept in memory and the database is retried; beyond "
                f"{historian.backlog_rows:,} the oldest are dropped.{lost_text}")
        if waiting and waiting_s >= self.waiting_flushes * historian.flush_interval_s:
            return WAITING, (f"{waiting:,} rows have been waiting for the database for {waiting_s:.0f} s (a slow "
                             "disk, or a lock held by another program)."), (
                f"They are kept in memory; beyond {historian.backlog_rows:,} the oldest are dropped.{lost_text}")
        if lost:
            return ROWS_LOST, lost_text.strip(), "History has a gap where they were; recording goes on."
        return RECORDING, "", ""

    async def _measure(self) -> None:
        try:
            try:
                self._usage = await self.historian.disk_usage()
                self._usage_error = ""
            except (HistorianError, RuntimeError) as exc:  # RuntimeError: the historian was closed meanwhile
                self._usage = None
                self._usage_error = str(exc)
            folder = _sqlite_folder(self.historian.target)
            self._free_bytes = None if folder is None else await asyncio.to_thread(free_bytes, folder)
        finally:
            self._measured_at = self._clock()
            self._measuring = None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def describe_target(target: Path | str) -> tuple[str, str]:
    """Where the history goes (the file path, or the URL without its password) and the dialect."""
    try:
        url = database_url(target)
    except HistorianError:
        return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", str(target)), "unknown"
    dialect = url.get_backend_name()
    return (url.database or "") if dialect == "sqlite" else url.render_as_string(hide_password=True), dialect


def free_bytes(path: Path) -> int | None:
    """Free space (for this user) on the filesystem that holds `path`, or its nearest existing folder (blocking)."""
    for folder in (path, *path.parents):
        try:
            return shutil.disk_usage(folder).free
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return None


def _sqlite_folder(target: Path | str) -> Path | None:
    try:
        url = database_url(target)
    except HistorianError:
        return None
    return Path(url.database).parent if url.get_backend_name() == "sqlite" and url.database else None
