"""Aggregates per interval of one tag's history: count, mean, time-weighted mean, min, max, first, last, good
fraction, as NumPy arrays on a grid of intervals.

Intervals are [k * interval, (k + 1) * interval) in UTC epoch seconds (minutes and hours start on the
minute and the hour; days are UTC days). The signal is the stored history with the query rules
(`queries`): linear between good samples for analog tags, held for discrete ones and after a bad or
uncertain sample, nothing known after a sample without a value or while Linewise was not acquiring; a value
holds up to the end of the range (or now) after the last sample. The fields are those of the roll-ups
(`ext.rollup_twins`): min and max are of what a trend draws, including the values where the line enters and
leaves the interval; the time-weighted mean is over the good time; the good fraction is good time over the
time anything was known. An interval that no sample falls in but a line crosses gets its values from that
line (count 0); one nothing is known in is NaN (count 0).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

import ext
from hmi.storage.queries import GOOD, NOT_ACQUIRING, HistoryStore, RawSeries

MAX_INTERVALS = 1_000_000


@dataclass(frozen=True)
class Aggregates:
    start: np.ndarray  # interval starts, epoch s
    count: np.ndarray  # samples stored in the interval (int64)
    good_count: np.ndarray
    mean: np.ndarray  # of the good samples' values
    time_weighted: np.ndarray  # of the good line over the good time
    min: np.ndarray
    max: np.ndarray
    first: np.ndarray  # the first and last sample's value in the interval (NaN: none, or no value)
    last: np.ndarray
    good_fraction: np.ndarray  # good time / known time
    interval: float

    def __len__(self) -> int:
        return len(self.start)


def grid(start: float, end: float, interval: float) -> np.ndarray:
    """k of the intervals that overlap [start, end)."""
    if not (interval > 0 and math.isfinite(interval)):
        raise ValueError(f"interval must be a finite number of seconds > 0, not {interval!r}")
    first, last = math.floor(start / interval), math.ceil(end / interval)
    if last - first > MAX_INTERVALS:
        raise ValueError(f"{last - first} intervals of {interval} s asked for: choose a longer interval")
    return np.arange(first, max(first + 1, last), dtype=np.int64)


class _Table:
    """Per-interval sums, filled from roll-up rows and from the pieces of lines through empty intervals."""

    def __init__(self, ks: np.ndarray, interval: float) -> None:
        n = len(ks)
        self.k0, self.interval = int(ks[0]), interval
        self.count = np.zeros(n, np.int64)
        self.good_count = np.zeros(n, np.int64)
        self.sum = np.zeros(n)
        self.integral = np.zeros(n)
        self.good_s = np.zeros(n)
        self.covered_s = np.zeros(n)
        self.min = np.full(n, np.inf)
        self.max = np.full(n, -np.inf)
        self.first_t = np.full(n, np.inf)
        self.first = np.full(n, np.nan)
        self.last_t = np.full(n, -np.inf)
        self.last = np.full(n, np.nan)

    def add_rows(self, rows) -> None:  # type: ignore[no-untyped-def]
        idx = np.round(rows.start / self.interval).astype(np.int64) - self.k0
        inside = (idx >= 0) & (idx < len(self.count))
        for i, at in zip(np.flatnonzero(inside).tolist(), idx[inside].tolist(), strict=True):
            self.count[at] += rows.count[i]
            self.good_count[at] += rows.good_count[i]
            self.sum[at] += rows.sum[i]
            self.integral[at] += rows.integral[i]
            self.good_s[at] += rows.good_s[i]
            self.covered_s[at] += rows.covered_s[i]
            if rows.min[i] == rows.min[i]:
                self.min[at] = min(self.min[at], rows.min[i])
                self.max[at] = max(self.max[at], rows.max[i])
            if rows.first_t[i] < self.first_t[at]:
                self.first_t[at], self.first[at] = rows.first_t[i], rows.first_y[i]
            if rows.last_t[i] >= self.last_t[at]:
                self.last_t[at], self.last[at] = rows.last_t[i], rows.last_y[i]

    def add_line(self, t0: float, y0: float, t1: float, y1: float, good: bool, lo: float, hi: float) -> None:
        """The part [lo, hi) of the line from (t0, y0) to (t1, y1) (y1 == y0 for a step), in intervals that
        have no row of their own (the line crosses them whole, or up to lo/hi)."""
        if hi <= lo:
            return
        w = self.interval
        ks = np.arange(math.floor(lo / w), math.ceil(hi / w), dtype=np.int64)
        at = ks - self.k0
        keep = (at >= 0) & (at < len(self.count))
        ks, at = ks[keep], at[keep]
        if len(at) == 0:
            return
        a = np.maximum(ks * w, lo)
        b = np.minimum((ks + 1) * w, hi)
        self.covered_s[at] += b - a
        if not good:
            return
        slope = 0.0 if t1 <= t0 else (y1 - y0) / (t1 - t0)
        ya, yb = y0 + slope * (a - t0), y0 + slope * (b - t0)
        self.integral[at] += (ya + yb) * 0.5 * (b - a)
        self.good_s[at] += b - a
        self.min[at] = np.minimum(self.min[at], np.minimum(ya, yb))
        self.max[at] = np.maximum(self.max[at], np.maximum(ya, yb))

    def result(self, ks: np.ndarray) -> Aggregates:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.good_count > 0, self.sum / self.good_count, np.nan)
            twa = np.where(self.good_s > 0, self.integral / self.good_s, np.nan)
            fraction = np.where(self.covered_s > 0, self.good_s / self.covered_s, np.nan)
        nothing = ~np.isfinite(self.min)
        return Aggregates(ks * self.interval, self.count, self.good_count, mean, twa,
                          np.where(nothing, np.nan, self.min), np.where(nothing, np.nan, self.max),
                          self.first, self.last, fraction, self.interval)


def aggregate(raw: RawSeries, start: float, end: float, interval: float, analog: bool,
              now: float | None = None) -> Aggregates:
    """Aggregates of `raw` (a `HistoryStore.raw(..., before=True)` answer, with its acquisition gaps) over the
    intervals overlapping [start, end)."""
    ks = grid(start, end, interval)
    table = _Table(ks, interval)
    horizon = min(end, time.time() if now is None else now)
    stops = np.flatnonzero(raw.quality == NOT_ACQUIRING)
    bounds = [-1, *stops.tolist(), len(raw)]
    for b0, b1 in itertools.pairwise(bounds):
        t, y, q = raw.t[b0 + 1:b1], raw.value[b0 + 1:b1], raw.quality[b0 + 1:b1]
        if len(t) == 0:
            continue
        final_at = max(float(raw.t[b1]) if b1 < len(raw) else horizon, float(t[-1]))
        rows, _ = ext.rollup_stream(t, y, q, interval, analog, final_at=final_at)
        table.add_rows(rows)
        _fill_between(table, t, y, q, analog, final_at, interval)
    return table.result(ks)


def _fill_between(table: _Table, t: np.ndarray, y: np.ndarray, q: np.ndarray, analog: bool, final_at: float,
                  interval: float) -> None:
    """Lines through intervals without a sample: between consecutive samples in different intervals, the part
    from the end of the first one's interval to the start of the next one's; and after the last sample, from
    the end of its interval to `final_at` (held)."""
    k = np.floor(t / interval)
    jumps = np.flatnonzero(k[1:] > k[:-1] + 1)  # samples i, i+1 with whole intervals in between
    for i in jumps.tolist():
        good = bool(q[i] == GOOD and y[i] == y[i])
        linear = analog and good and q[i + 1] == GOOD and y[i + 1] == y[i + 1]
        y1 = float(y[i + 1]) if linear else float(y[i])
        table.add_line(float(t[i]), float(y[i]), float(t[i + 1]), y1, good, (k[i] + 1) * interval, k[i + 1] * interval)
    if len(t):
        good = bool(q[-1] == GOOD and y[-1] == y[-1])
        table.add_line(float(t[-1]), float(y[-1]), final_at, float(y[-1]), good, (k[-1] + 1) * interval, final_at)


def aggregated(store: HistoryStore, tag: str, start: float, end: float, interval: float,
               kind: str | None = None) -> Aggregates:
    """Aggregates of a stored tag (blocking, on a reader thread), computed from its samples."""
    grid(start, end, interval)  # refuse a bad interval before reading anything
    raw = store.raw(tag, start, end, before=True)
    kind = kind or store.tag_kind(tag) or "analog"
    return aggregate(raw, start, end, interval, analog=kind == "analog")
