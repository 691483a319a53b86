"""Reading history: raw samples, the value at a time, and values interpolated at an interval, as NumPy arrays.

Rules (the same for every query, and what trends draw):

- **Boundaries.** A raw query returns the samples with start <= t <= end, and with `before=True` also the
  last sample before start (the value the range starts with).
- **Acquisition stops.** Nothing is known while Linewise was not acquiring. Raw results carry a gap (a
  sample without a value, quality `NOT_ACQUIRING`) at every stop and just before every start, so a line is
  never drawn across the time in between, also after a crash (no stop recorded, the next start still breaks
  the line). Interpolation never crosses such a gap.
- **Interpolation.** Analog tags are linear between two good samples with values, discrete tags hold a value
  until the next sample (step). A value with bad or uncertain quality holds until the next sample (it is
  never interpolated towards), and its quality is reported with it. After a sample without a value (comm
  lost) nothing is known until the next one: NaN.
- **The value at a time** is the last sample at or before it, unless an acquisition stop lies in between.

Blocking: call on a reader thread (the trend's HistoryReader, an export worker), never the GUI or io loop.
Each call opens a short-lived read-only connection (SQLite: `mode=ro`, so a reader never creates or
locks a file; WAL lets it read while the historian commits). Samples of a SQLite file are read by
`ext.SqliteReader`: SQLite's C API straight into NumPy arrays, without a Python object per row (Python's
sqlite3 when the kernel is not compiled; the same answers). A SQLite file that cannot be read is a
`HistorianError` (`CorruptDatabase`: not a database); a file not there yet, or without tables yet, holds nothing.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine

import ext
from ext.sqlite_read_twins import readonly_uri
from hmi.storage.database import classify, database_url
from hmi.storage.schema import ACQUISITION_STARTED, ACQUISITION_STOPPED

NOT_ACQUIRING = 4  # quality of the gap samples at acquisition stops (beyond the driver qualities 0..3)
GOOD = 0
_US = 1e-6
_BUSY_TIMEOUT_S = 5.0  # how long a SQLite reader waits for a lock (WAL: only while a file is being recovered)

Columns = tuple[np.ndarray, np.ndarray, np.ndarray]  # ts_us int64, value float64 (NaN: none), quality int64
Series = Callable[[str, tuple], Columns]  # runs a query whose columns are ts_us, value, quality


@dataclass(frozen=True)
class RawSeries:
    """Samples of one tag, ascending t (epoch seconds); value NaN where a sample has none."""

    t: np.ndarray
    value: np.ndarray
    quality: np.ndarray  # int64: drivers.model.Quality values, or NOT_ACQUIRING

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls) -> RawSeries:
        return cls(np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))


@dataclass(frozen=True)
class Envelope:
    """Roll-up buckets as points to draw, and the time ranges still to be read as samples."""

    points: RawSeries
    raw_ranges: list[tuple[float, float]]
    rows: int  # samples the points stand for


@dataclass(frozen=True)
class Reading:
    t: float
    value: float  # NaN: no value
    quality: int


class HistoryStore:
    """The read side of a historian database (a SQLite path or a PostgreSQL URL). Thread-safe."""

    def __init__(self, target: Path | str) -> None:
        self.url = database_url(target)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # PostgreSQL: a pool, connected on first use (a server that is down now may be up by the first query)
        self._engine = None if self.is_sqlite else create_engine(self.url, pool_pre_ping=True)
        self._mark = "?" if self.is_sqlite else "%s"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # -- queries -------------------------------------------------------------------------------------

    def tag_kind(self, tag: str) -> str | None:
        rows = self._rows(f"SELECT kind FROM tags WHERE name = {self._mark}", (tag,))
        return rows[0][0] if rows else None

    def raw(self, tag: str, start: float, end: float, *, before: bool = False, end_open: bool = False) -> RawSeries:
        """Stored samples with start <= t <= end (t < end with `end_open`; and the last one before start with
        `before`), with a gap at every acquisition stop and start in the range."""
        check_range(start, end)
        m = self._mark
        lo = math.floor(start / _US)
        hi = round(end / _US) - 1 if end_open else math.ceil(end / _US)
        samples = f"SELECT ts_us, value, quality FROM samples WHERE tag_id = (SELECT id FROM tags WHERE name = {m}) "
        with self._reading() as read:  # one snapshot of a SQLite file
            parts = [read(f"{samples}AND ts_us < {m} ORDER BY ts_us DESC LIMIT 1", (tag, lo))] if before else []
            parts.append(read(f"{samples}AND ts_us >= {m} AND ts_us <= {m} ORDER BY ts_us", (tag, lo, hi)))
            ts, value, quality = (np.concatenate(column) for column in zip(*parts, strict=True))
            if len(ts) == 0:
                return RawSeries.empty()  # (gaps in nothing are nothing)
            events = read(self._events_sql, (min(int(ts[0]), lo), hi))
        return _with_gaps((ts, value, quality), events)

    def value_at(self, tag: str, t: float) -> Reading | None:
        """The last sample at or before `t`; None when nothing is stored before it or Linewise stopped
        acquiring between that sample and `t`."""
        part = self.raw(tag, t, t, before=True)
        if len(part) == 0:
            return None
        at = int(np.searchsorted(part.t, t, side="right")) - 1
        if at < 0 or part.quality[at] == NOT_ACQUIRING:
            return None
        return Reading(float(part.t[at]), float(part.value[at]), int(part.quality[at]))

    def interpolated(self, tag: str, start: float, end: float, interval: float,
                     kind: str | None = None) -> RawSeries:
        """Values at start, start + interval, ... <= end by the rules above (`kind` "analog" or "discrete":
        default the tag's own). Quality is that of the sample the value comes from; NaN where nothing is
        known."""
        if not (interval > 0 and math.isfinite(interval)):
            raise ValueError(f"interval must be a finite number of seconds > 0, not {interval!r}")
        check_range(start, end)
        count = math.floor((end - start) / interval + 1e-9) + 1
        if count > 10_000_000:
            raise ValueError(f"{count} values of {interval} s asked for: choose a longer interval")
        # on whole microseconds, computed as stored times are (µs * 1e-6): a grid time on a sample is on it
        grid = np.round((start + np.arange(count) * interval) / _US) * _US
        kind = kind or self.tag_kind(tag) or "analog"
        return interpolate(self.raw(tag, start, end, before=True), grid, linear=kind == "analog")

    def rollup_envelope(self, tag: str, table: str, width: float, start: float, end: float) -> Envelope:
        """What a trend draws of the closed roll-up buckets of `table` (`width` seconds) overlapping [start,
        end]: per bucket its first sample, its min and max (placed between first and last in the order that
        keeps the line short) and its last sample; with the acquisition gaps. Min and max are of good values
        only, so a bucket holding flagged samples is left to be read as samples (`Envelope.raw_ranges`), as
        is the time before the first bucket and after the last (history from before roll-ups, buckets not
        closed yet)."""
        if table not in ("rollup_1m", "rollup_1h"):
            raise ValueError(f"no roll-up table {table!r}")
        check_range(start, end)
        m = self._mark
        lo, hi = math.floor((start - width) / _US), math.ceil(end / _US)
        rows = self._rows(
            f"SELECT start_us, count, good_count, min, max, first_us, first_value, first_quality, last_us, "
            f"last_value, last_quality FROM {table} WHERE tag_id = (SELECT id FROM tags WHERE name = {m}) "
            f"AND start_us >= {m} AND start_us <= {m} ORDER BY start_us", (tag, lo, hi))
        if not rows:
            return Envelope(RawSeries.empty(), [(start, end)], 0)
        r = np.array(rows, dtype=np.float64)  # NULL -> NaN
        bucket = r[:, 0] * _US
        mixed = r[:, 1] > r[:, 2]  # flagged samples in the bucket
        raw_ranges = _runs(bucket[mixed], width)
        covered = (float(bucket[0]), float(bucket[-1]) + width)
        raw_ranges = [(start, covered[0]), *raw_ranges, (covered[1], end)]
        r = r[~mixed]
        first_t, last_t = r[:, 5] * _US, r[:, 8] * _US
        low_first = np.abs(r[:, 6] - r[:, 3]) <= np.abs(r[:, 6] - r[:, 4])  # first value nearer the min
        n = len(r)
        t = np.empty(4 * n)
        value = np.empty(4 * n)
        quality = np.full(4 * n, GOOD, dtype=np.int64)  # min and max are good values
        t[0::4], t[3::4] = first_t, last_t
        t[1::4], t[2::4] = first_t + (last_t - first_t) / 3, first_t + 2 * (last_t - first_t) / 3
        value[0::4], value[3::4] = r[:, 6], r[:, 9]
        value[1::4] = np.where(low_first, r[:, 3], r[:, 4])
        value[2::4] = np.where(low_first, r[:, 4], r[:, 3])
        quality[0::4], quality[3::4] = r[:, 7], r[:, 10]
        keep = np.ones(4 * n, dtype=bool)
        keep[1::4] = keep[2::4] = ~np.isnan(r[:, 3])  # a bucket without a good value has no min/max
        points = (np.round(t[keep] / _US).astype(np.int64), value[keep], quality[keep])
        with self._reading() as read:
            events = read(self._events_sql, (round(covered[0] / _US), round(covered[1] / _US)))
        return Envelope(_with_gaps(points, events), raw_ranges, int(r[:, 1].sum()))

    # -- plumbing ------------------------------------------------------------------------------------

    @property
    def _events_sql(self) -> str:
        """Acquisition starts and stops in a range, as a series: (ts_us, NULL, event)."""
        m = self._mark
        return f"SELECT ts_us, NULL, event FROM acquisition WHERE ts_us >= {m} AND ts_us <= {m} ORDER BY ts_us"

    @contextmanager
    def _reading(self) -> Iterator[Series]:
        """Series queries on one connection: one consistent snapshot of a SQLite file, read by `ext.SqliteReader`
        (SQLite errors as HistorianErrors); PostgreSQL through the engine."""
        if not self.is_sqlite:
            assert self._engine is not None
            with self._engine.connect() as conn:
                yield lambda sql, params: _columns(conn.exec_driver_sql(sql, params).fetchall())
            return
        path = self.url.database or ""
        if not Path(path).exists():
            yield lambda sql, params: _no_columns()  # nothing recorded yet: not an error for a reader
            return
        try:
            with ext.SqliteReader(path, timeout=_BUSY_TIMEOUT_S) as reader:
                yield partial(_read_series, reader)
        except sqlite3.Error as exc:
            raise classify(exc, path) from None

    def _rows(self, sql: str, params: tuple) -> list[tuple]:
        return self._many([(sql, params)])[0]

    def _many(self, queries: list[tuple[str, tuple]]) -> list[list[tuple]]:
        """Run the queries on one connection (one consistent snapshot of a SQLite file)."""
        if self.is_sqlite:
            path = self.url.database or ""
            if not Path(path).exists():
                return [[] for _ in queries]  # nothing recorded yet: not an error for a reader
            try:
                with closing(sqlite3.connect(readonly_uri(path), uri=True, timeout=_BUSY_TIMEOUT_S)) as conn:
                    conn.execute("BEGIN")
                    return [conn.execute(sql, params).fetchall() for sql, params in queries]
            except sqlite3.Error as exc:
                if _no_table(exc):  # created, not yet migrated: nothing stored
                    return [[] for _ in queries]
                raise classify(exc, path) from None
        assert self._engine is not None
        with self._engine.connect() as conn:
            return [list(conn.exec_driver_sql(sql, params).fetchall()) for sql, params in queries]


def check_range(start: float, end: float) -> None:
    """ValueError unless start <= end, both finite."""
    if not (math.isfinite(start) and math.isfinite(end)) or end < start:
        raise ValueError(f"history range must be finite with start <= end, got {start!r} .. {end!r}")


def _runs(starts: np.ndarray, width: float) -> list[tuple[float, float]]:
    """Adjacent buckets merged into time ranges."""
    ranges: list[tuple[float, float]] = []
    for b in starts.tolist():
        if ranges and abs(ranges[-1][1] - b) < width * 1e-9:
            ranges[-1] = (ranges[-1][0], b + width)
        else:
            ranges.append((b, b + width))
    return ranges


def _no_table(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)


def _no_columns() -> Columns:
    return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.int64)


def _read_series(reader: ext.SqliteReader, sql: str, params: tuple) -> Columns:
    try:
        return reader.read_series(sql, params)
    except sqlite3.OperationalError as exc:
        if _no_table(exc):  # created, not yet migrated: nothing stored
            return _no_columns()
        raise


def _columns(rows: list) -> Columns:
    """(ts_us, value, quality) rows as arrays; NULL values become NaN."""
    if not rows:
        return _no_columns()
    ts, value, quality = zip(*rows, strict=True)
    return np.array(ts, dtype=np.int64), np.array(value, dtype=np.float64), np.array(quality, dtype=np.int64)


def _with_gaps(samples: Columns, events: Columns) -> RawSeries:
    """Samples (ts_us, value, quality) as a RawSeries, with a gap sample at each stop and 1 µs before each start
    (`events`: acquisition (ts_us, -, event))."""
    ts, value, quality = samples
    if len(ts) == 0:
        return RawSeries.empty()  # gaps in nothing are nothing
    event_ts, _, event = events
    is_gap = (event == ACQUISITION_STOPPED) | (event == ACQUISITION_STARTED)
    gaps = np.where(event == ACQUISITION_STOPPED, event_ts, event_ts - 1)[is_gap]
    if len(gaps):
        order = np.argsort(np.concatenate([ts, gaps]), kind="stable")  # stable: a sample at a stop comes first
        ts = np.concatenate([ts, gaps])[order]
        value = np.concatenate([value, np.full(len(gaps), np.nan)])[order]
        quality = np.concatenate([quality, np.full(len(gaps), NOT_ACQUIRING, dtype=np.int64)])[order]
    return RawSeries(ts * _US, value, quality)


def interpolate(raw: RawSeries, grid: np.ndarray, linear: bool) -> RawSeries:
    """Values of `raw` at the times of `grid` (ascending) by the module's rules."""
    n = len(grid)
    value = np.full(n, np.nan)
    quality = np.full(n, NOT_ACQUIRING, dtype=np.int64)
    if len(raw) == 0:
        return RawSeries(grid, value, quality)
    at = np.searchsorted(raw.t, grid, side="right") - 1  # the sample each grid time falls after
    known = at >= 0
    i = at[known]
    value[known] = raw.value[i]
    quality[known] = raw.quality[i]
    if linear:
        j = i + 1
        inside = j < len(raw)
        ii, jj = i[inside], j[inside]
        both_good = ((raw.quality[ii] == GOOD) & (raw.quality[jj] == GOOD)
                     & ~np.isnan(raw.value[ii]) & ~np.isnan(raw.value[jj]) & (raw.t[jj] > raw.t[ii]))
        ii, jj = ii[both_good], jj[both_good]
        where = np.flatnonzero(known)[inside][both_good]
        frac = (grid[where] - raw.t[ii]) / (raw.t[jj] - raw.t[ii])
        value[where] = raw.value[ii] + frac * (raw.value[jj] - raw.value[ii])
    value[quality == NOT_ACQUIRING] = np.nan
    return RawSeries(grid, value, quality)
