"""PenSeries: everything one trend pen stores, and how it is reduced for drawing (Qt-free, GUI thread).

A pen's samples come from two places:

- the **live series** (an `ext.MinMaxPyramid`: good and flagged values with cached min/max levels, quality
  codes alongside, oldest samples evicted at capacity): what the bridge delivered since the trend opened
  (coalesced to at most the bridge's rate), including the last second or so the historian has not
  committed yet;
- a **history cache**: the last answer of the historian (already decimated on the query side) for the
  part of the view before the live series' oldest sample.

`visible(t0, t1, n_bins)` merges both seamlessly (history before the live series' oldest sample, the live
series after) and reduces the result to about four points per pixel column with M4, good and flagged (not
GOOD but with a value) samples kept apart on one time axis. The live part is answered from the pyramid's
levels, so a redraw costs O(pixel columns) however many samples are in view. Bins are aligned to a fixed
time grid, so a scrolling live view does not re-bin old data differently every frame (dense data would
shimmer). `history_request` says which range the cache is missing at the resolution asked for; the widget
fetches it off the GUI thread and hands it back with `set_history`. Nothing here loops over samples in
Python.

This class is the only place that stores or reduces a pen's data.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

import ext
from drivers.model import Quality, TagUpdate
from hmi.storage.history_query import HistorySlice, decimate_flagged

# Quality codes in the quality column of a pen (float, as the live series stores float64).
Q_GOOD = float(Quality.GOOD)
Q_FLAGGED = -1.0  # from history: a value that is not GOOD (the history slice does not say uncertain or bad)
Q_NO_VALUE = -2.0  # from history: a sample without a value (comm lost, bad without value)

QUALITY_NAMES = {float(q): q.name for q in Quality} | {Q_FLAGGED: "NOT_GOOD", Q_NO_VALUE: "NO_VALUE"}

HISTORY_COMMIT_LAG_S = 3.0  # the historian commits about every second: newer history may still be missing
PRIOR_LOOKBACK_MAX_S = 40 * 86400.0  # how far back a value that holds at the start of a view is looked for
_EMPTY = np.empty(0, dtype=np.float64)
GRID_PHASE = 0.41421356  # of a column: no round time falls on a column edge (see _decimate_on_grid)


class Reading(NamedTuple):
    """A pen's value at some time: the last sample at or before it."""

    t: float  # when the sample was taken
    value: float  # NaN: the sample has no value (a gap)
    quality: float  # a Quality as float, or Q_FLAGGED / Q_NO_VALUE for history samples
    exact: bool  # False when read from decimated history (a pixel column's worth of samples may be hidden)

    @property
    def quality_name(self) -> str:
        return QUALITY_NAMES.get(self.quality, "UNKNOWN")


class HistoryRequest(NamedTuple):
    start: float
    end: float
    n_bins: int


def sample_of(update: TagUpdate) -> tuple[float, float]:
    """(value, quality code) of an update: a number, or NaN when it has no numeric value."""
    value = update.value
    if isinstance(value, bool):
        y = 1.0 if value else 0.0
    elif isinstance(value, int | float):
        y = float(value)
    else:
        y = math.nan
    return y, float(update.quality)


def history_samples(part: HistorySlice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, value, quality code) of an undecimated history slice."""
    has_good = ~np.isnan(part.good)
    value = np.where(has_good, part.good, part.flagged)
    quality = np.where(has_good, Q_GOOD, np.where(np.isnan(part.flagged), Q_NO_VALUE, Q_FLAGGED))
    return part.t, value, quality


def hold_last_value(
    t: np.ndarray, y: np.ndarray, latest: tuple[float, float] | None, now: float, start: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Extend the line to `now` at the last good value.

    Servers report by exception: a steady setpoint sends one sample and then nothing, and
    it must still be drawn as a line up to the present. A bad last sample (NaN) is not held.
    """
    if latest is None or math.isnan(latest[1]) or latest[0] >= now:
        return t, y
    if len(t) == 0 and start is not None:  # unchanged since before the window opened
        return np.array([start, now]), np.array([latest[1], latest[1]])
    return np.append(t, now), np.append(y, latest[1])


class PenSeries:
    """One pen's samples: a live series (min/max pyramid) plus a cache of decimated history. GUI thread only."""

    def __init__(self, capacity: int = 100_000, created_at: float | None = None) -> None:
        self.capacity = capacity
        # Every sample delivered from now on reaches the live series: until one is evicted, it is live from here.
        self._created_at = time.time() if created_at is None else created_at
        self._live = ext.MinMaxPyramid(capacity, columns=2, payload=1)  # good, flagged; quality code
        # times of the flagged live samples (rare): the flagged column is decimated only where it has some
        self._flagged_times = _EMPTY
        self._history: HistorySlice | None = None
        self._history_bins = 0
        self._history_until = -math.inf  # the cache holds every committed sample before this time
        # The last sample before the cached slice (the history reader returns only what is inside a range, and
        # a value that changes rarely may have been set long before): (slice start, reading or None, lookback).
        self._prior: tuple[float, Reading | None, float] | None = None
        self.version = 0  # changes whenever what `visible` returns may change
        self._visible_key: tuple | None = None
        # visible() decimates half a view more on each side and serves pans within that from it
        self._cover_key: tuple | None = None
        self._cover: tuple[np.ndarray, np.ndarray, np.ndarray] = (_EMPTY, _EMPTY, _EMPTY)
        self._visible: tuple[np.ndarray, np.ndarray, np.ndarray] = (_EMPTY, _EMPTY, _EMPTY)

    # -- live samples ------------------------------------------------------------------------------

    def append(self, t: float, value: float, quality: float) -> bool:
        """Add one live sample; False (and nothing stored) if it is older than the newest one (a replayed
        sample or a PLC clock that stepped back: history has it, the live series must stay sorted)."""
        latest = self._live.latest()
        if not math.isfinite(t) or (latest is not None and t < latest[0]):
            return False
        self._store(np.array([t]), np.array([value], dtype=np.float64), np.array([quality], dtype=np.float64))
        return True

    def extend(self, t: np.ndarray, value: np.ndarray, quality: np.ndarray) -> int:
        """Add a batch of live samples (t ascending); samples older than the newest stored one are dropped.
        Returns how many were stored."""
        t = np.asarray(t, dtype=np.float64)
        value = np.asarray(value, dtype=np.float64)
        quality = np.broadcast_to(np.asarray(quality, dtype=np.float64), t.shape)
        latest = self._live.latest()
        keep = np.isfinite(t)
        if latest is not None:
            keep &= t >= latest[0]
        if not keep.all():
            t, value, quality = t[keep], value[keep], quality[keep]
        if len(t):
            self._store(t, value, np.ascontiguousarray(quality))
        return len(t)

    def _store(self, t: np.ndarray, value: np.ndarray, quality: np.ndarray) -> None:
        is_good = quality == Q_GOOD
        self._live.append(t, np.where(is_good, value, np.nan), np.where(is_good, np.nan, value), quality)
        flagged = t[~is_good & ~np.isnan(value)]
        if len(flagged) or (len(self._flagged_times) and self._flagged_times[0] < self._live.t[0]):
            kept = self._flagged_times[np.searchsorted(self._flagged_times, self._live.t[0]) :]
            self._flagged_times = np.concatenate((kept, flagged))
        self.version += 1

    def append_update(self, update: TagUpdate) -> bool:
        value, quality = sample_of(update)
        return self.append(update.source_ts, value, quality)

    def __len__(self) -> int:
        return len(self._live)

    @property
    def live_start(self) -> float:
        """From this time on the live series holds every sample it received; history before."""
        return float(self._live.t[0]) if len(self._live) else self._created_at

    def latest(self) -> Reading | None:
        """The newest live sample."""
        n = len(self._live)
        return self._reading(n - 1) if n else None

    def live_samples(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every live sample with t0 <= t <= t1: (t, value, quality code)."""
        t, good, flagged, quality = self._live.window(t0, t1)
        return t, np.where(np.isnan(good), flagged, good), quality

    def _reading(self, i: int) -> Reading:
        good = float(self._live.column(0)[i])
        value = float(self._live.column(1)[i]) if math.isnan(good) else good
        return Reading(float(self._live.t[i]), value, float(self._live.column(2)[i]), True)

    def clear(self) -> None:
        self._live.clear()
        self._flagged_times = _EMPTY
        self._created_at = time.time()
        self._history = None
        self._history_until = -math.inf
        self.version += 1

    # -- history -------------------------------------------------------------------------------------

    def history_request(self, t0: float, t1: float, n_bins: int, now: float | None = None) -> HistoryRequest | None:
        """The history to fetch so that [t0, t1] can be drawn `n_bins` wide, or None when the cache (or the
        ring) already has it. Asks for half a view more on each side, so small pans need no new query."""
        now = time.time() if now is None else now
        if n_bins < 1 or not t1 > t0:
            return None
        cached = self._history
        if cached is not None and self._satisfies(
            cached.start,
            min(cached.end, self._history_until),
            self._history_bins,
            cached.decimated,
            t0,
            t1,
            n_bins,
            now,
        ):
            return None
        if self._needed_end(t1, now) <= t0:
            return None  # everything in view is live
        span = t1 - t0
        start = t0 - span / 2
        stop = min(t1 + span / 2, now)  # past the ring's start too: the boundary moves on as the ring wraps
        return HistoryRequest(start, stop, max(1, math.ceil(n_bins * (stop - start) / span)))

    def answers(
        self,
        request: HistoryRequest,
        part: HistorySlice,
        fetched_at: float,
        t0: float,
        t1: float,
        n_bins: int,
        now: float | None = None,
    ) -> bool:
        """Whether a fetched slice is still good for drawing [t0, t1] `n_bins` wide (the view may have
        moved since it was asked for; an answer that no longer fits is stale)."""
        now = time.time() if now is None else now
        until = min(request.end, fetched_at - HISTORY_COMMIT_LAG_S)
        return self._satisfies(request.start, until, request.n_bins, part.decimated, t0, t1, n_bins, now)

    def _needed_end(self, t1: float, now: float) -> float:
        return min(t1, self.live_start, now - HISTORY_COMMIT_LAG_S)

    def _satisfies(
        self, start: float, until: float, bins: int, decimated: bool, t0: float, t1: float, n_bins: int, now: float
    ) -> bool:
        end = self._needed_end(t1, now)
        if end <= t0:
            return True  # nothing of the view is before the ring
        resolution = (t1 - t0) / n_bins
        covers = start <= t0 + resolution and until >= end - resolution
        fine_enough = not decimated or (until - start) / max(1, bins) <= 1.5 * resolution
        return covers and fine_enough

    def set_history(self, part: HistorySlice, n_bins: int, fetched_at: float | None = None) -> None:
        """Replace the history cache with a fetched slice (asked for with `n_bins` columns at `fetched_at`)."""
        fetched_at = time.time() if fetched_at is None else fetched_at
        self._history = part
        self._history_bins = max(1, n_bins)
        self._history_until = min(part.end, fetched_at - HISTORY_COMMIT_LAG_S)
        self.version += 1

    @property
    def history(self) -> HistorySlice | None:
        return self._history

    def prior_request(self, t0: float, t1: float, n_bins: int) -> HistoryRequest | None:
        """When the cached history starts inside the view (a value that changes rarely: a setpoint, a state),
        the query for the last sample before the cached slice: `n_bins=1` keeps the answer to a few points.
        The lookback widens 8x per answer without a sample, up to PRIOR_LOOKBACK_MAX_S."""
        cached = self._history
        if cached is None or not t1 > t0:
            return None
        g0 = column_grid(t0, t1, n_bins)[0]
        if g0 >= self.live_start or (len(cached.t) and cached.t[0] <= g0):
            return None
        before = cached.start
        lookback = max(t1 - t0, 3600.0)
        if self._prior is not None and self._prior[0] == before:
            if self._prior[1] is not None or self._prior[2] >= PRIOR_LOOKBACK_MAX_S:
                return None
            lookback = min(self._prior[2] * 8, PRIOR_LOOKBACK_MAX_S)
        return HistoryRequest(before - lookback, before, 1)

    def set_prior(self, request: HistoryRequest, part: HistorySlice) -> bool:
        """Keep the answer to a `prior_request`; False (ignored) when the cache moved on meanwhile."""
        if self._history is None or self._history.start != request.end:
            return False
        reading = None
        if len(part.t):
            good, flagged = float(part.good[-1]), float(part.flagged[-1])
            value, quality = (good, Q_GOOD) if not math.isnan(good) else (flagged, Q_FLAGGED)
            reading = Reading(float(part.t[-1]), value, quality if not math.isnan(value) else Q_NO_VALUE, True)
        self._prior = (request.end, reading, request.end - request.start)
        self.version += 1
        return True

    def _prior_reading(self) -> Reading | None:
        cached = self._history
        if cached is None or self._prior is None or self._prior[0] != cached.start:
            return None
        return self._prior[1]

    # -- reading -------------------------------------------------------------------------------------

    def visible(self, t0: float, t1: float, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What to draw for [t0, t1] at `n_bins` pixel columns: (t, good, flagged), ascending t.

        `good` is the value where the sample is GOOD, else NaN; `flagged` the value where it is not GOOD
        but has one, else NaN; NaN in both is a gap. The view is widened to whole columns of a fixed time
        grid (see `column_grid`), and the last sample before it and the first after it are included, so
        lines cross the edges. At most about 10 points per column. Half a view more on each side is
        decimated and kept, so a pan or a scroll within it at the same column width costs only a slice; the
        same tuple is returned again while neither the grid nor the data changed (a live view between
        samples), and callers may skip re-uploading it. Do not modify the arrays.
        """
        g0, bins, width = column_grid(t0, t1, n_bins)
        key = (g0, bins, width, self.version)
        if key == self._visible_key:
            return self._visible
        cover = self._cover_key
        g1 = g0 + bins * width
        if not (cover is not None and cover[2:] == (width, self.version) and cover[0] <= g0 and g1 <= cover[1]):
            self._cover = self._decimated(g0 - (bins // 2) * width, bins + 2 * (bins // 2), width)
            self._cover_key = (g0 - (bins // 2) * width, g1 + (bins // 2) * width, width, self.version)
        # Only the view's part (and the sample on either side) goes to the curve: drawing costs per point.
        t, good, flagged = self._cover
        i = max(0, int(np.searchsorted(t, g0, side="left")) - 1)
        j = min(len(t), int(np.searchsorted(t, g1, side="right")) + 1)
        self._visible_key, self._visible = key, (t[i:j], good[i:j], flagged[i:j])
        return self._visible

    def _decimated(self, g0: float, bins: int, width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """History and live samples over the columns [g0, g0 + bins * width), M4 per column."""
        g1 = g0 + bins * width
        parts = self._merged(g0, g1)  # history: already decimated on the query side, a few points per column
        if len(parts) == 1:
            t, good, flagged = parts[0]
        elif parts:
            t, good, flagged = (np.concatenate(column) for column in zip(*parts, strict=True))
        else:
            t = good = flagged = _EMPTY
        t, good, flagged = _decimate_on_grid(t, good, flagged, g0, bins, width)
        live = self._live_part(g0, g1, bins)
        if live is not None:
            t, good, flagged = (np.concatenate(pair) for pair in zip((t, good, flagged), live, strict=True))
        return t, good, flagged

    def value_at(self, t: float) -> Reading | None:
        """The last sample at or before `t` (None when nothing is known before it)."""
        boundary = self.live_start
        if t >= boundary:
            return self._live_at_or_before(t)
        cached = self._history
        if cached is None:
            return None
        i = int(np.searchsorted(cached.t, t, side="right")) - 1
        if i < 0:
            prior = self._prior_reading()
            return prior if prior is not None and prior.t <= t else None
        good, flagged = float(cached.good[i]), float(cached.flagged[i])
        if not math.isnan(good):
            return Reading(float(cached.t[i]), good, Q_GOOD, not cached.decimated)
        if not math.isnan(flagged):
            return Reading(float(cached.t[i]), flagged, Q_FLAGGED, not cached.decimated)
        return Reading(float(cached.t[i]), math.nan, Q_NO_VALUE, not cached.decimated)

    # -- internals -----------------------------------------------------------------------------------

    def _merged(self, t0: float, t1: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        boundary = self.live_start
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        cached = self._history
        if t0 < boundary and cached is not None and len(cached.t):
            lo = max(0, int(np.searchsorted(cached.t, t0, side="right")) - 1)  # one before t0: enter from the edge
            if t1 < boundary:  # and one after t1, to leave by the right edge
                hi = min(
                    int(np.searchsorted(cached.t, t1, side="right")) + 1,
                    int(np.searchsorted(cached.t, boundary, side="left")),
                )
            else:
                hi = int(np.searchsorted(cached.t, boundary, side="left"))
            if hi > lo:
                parts.append((cached.t[lo:hi], cached.good[lo:hi], cached.flagged[lo:hi]))
        if t1 < boundary and (not parts or parts[-1][0][-1] <= t1):  # leave by the right edge: the ring's first
            after = self._live_after(t1)
            if after is not None:
                is_good = after.quality == Q_GOOD
                parts.append(
                    (
                        np.array([after.t]),
                        np.array([after.value if is_good else math.nan]),
                        np.array([math.nan if is_good else after.value]),
                    )
                )
        if t0 < boundary and cached is not None and (len(cached.t) == 0 or cached.t[0] > t0):
            prior = self._prior_reading()  # the value the view starts with was set before the cached slice
            if prior is not None:
                is_good = prior.quality == Q_GOOD
                parts.insert(
                    0,
                    (
                        np.array([prior.t]),
                        np.array([prior.value if is_good else math.nan]),
                        np.array([math.nan if is_good else prior.value]),
                    ),
                )
        return parts

    def _live_part(self, g0: float, g1: float, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The live samples of the columns [g0, g1), min/max per column from the pyramid, plus the sample before
        g0 and the one after g1 so that lines cross the edges."""
        boundary = self.live_start
        n = len(self._live)
        if g1 < boundary or n == 0:
            return None
        lo = max(g0, boundary)
        i0, i1 = self._live.bounds(lo, g1)
        if i1 - i0 > 2 * bins:
            # Min/max per column, not M4: at one column per pixel the first and last add nothing visible, and
            # drawing costs per point (50 dense pens: ~15 % of a frame).
            idx = self._live.decimate_indices(lo, g1, bins, column=0, grid=(g0, g1))
            times = self._flagged_times
            if np.searchsorted(times, g1, side="right") > np.searchsorted(times, lo):  # rarely: mostly all GOOD
                flagged_idx = self._live.decimate_indices(lo, g1, bins, column=1, grid=(g0, g1))
                flagged_idx = flagged_idx[~np.isnan(self._live.column(1)[flagged_idx])]
                keep = np.zeros(i1 - i0, dtype=bool)
                keep[idx - i0] = True
                keep[flagged_idx - i0] = True
                idx = np.flatnonzero(keep) + i0
        else:
            idx = np.arange(i0, i1)
        before = i0 - 1 if g0 >= boundary and i0 > 0 and (i0 == i1 or self._live.t[i0] > g0) else None
        after = i1 if i1 < n else None
        if before is not None or after is not None:
            idx = np.concatenate(([before] if before is not None else [], idx, [after] if after is not None else []))
            idx = idx.astype(np.intp)
        if len(idx) == 0:
            return None
        t, good, flagged, _quality = self._live.take(idx)
        return t, good, flagged

    def _live_at_or_before(self, t: float) -> Reading | None:
        if len(self._live) == 0 or t < self.live_start:
            return None
        i = int(np.searchsorted(self._live.t, t, side="right")) - 1
        return self._reading(i) if i >= 0 else None

    def _live_after(self, t: float) -> Reading | None:
        """The first live sample after `t` (None when there is none)."""
        i = int(np.searchsorted(self._live.t, t, side="right"))
        return self._reading(i) if i < len(self._live) else None


def column_grid(t0: float, t1: float, n_bins: int) -> tuple[float, int, float]:
    """The pixel columns covering [t0, t1]: (start, count, width), on a grid fixed in absolute time.

    Columns are `(t1 - t0) / n_bins` wide and start at multiples of that width (offset by GRID_PHASE), so a
    view that scrolls keeps its columns: what falls in a column does not change from frame to frame (dense
    data would shimmer otherwise). The span is rounded to the microsecond first: now - (now - span) is not
    exactly span, and the grid must not jitter with it. The offset keeps samples taken on round times (polled
    at whole seconds) off the column edges, where rounding could put them in one column or the next.
    """
    if not t1 > t0 or n_bins < 1:
        return t0, 1, max(t1 - t0, 1e-6)
    width = round(t1 - t0, 6) / n_bins or (t1 - t0) / n_bins
    g0 = (math.floor(t0 / width - GRID_PHASE) + GRID_PHASE) * width
    return g0, max(1, math.ceil((t1 - g0) / width)), width


def _decimate_on_grid(
    t: np.ndarray, good: np.ndarray, flagged: np.ndarray, g0: float, bins: int, width: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M4 of good and flagged over the columns [g0 + k * width, g0 + (k + 1) * width), k < bins.

    The kernel bins between the first and the last sample it is given, so a NaN sentinel is put at each
    grid edge and dropped afterwards; samples outside the columns (the one before, the one after) are kept
    as they are.
    """
    if len(t) <= 4 * bins:
        return t, good, flagged
    g1 = g0 + bins * width
    lo = int(np.searchsorted(t, g0, side="left"))
    hi = int(np.searchsorted(t, g1, side="right"))
    if hi - lo <= 4 * bins:
        return t, good, flagged
    nan = np.array([np.nan])
    inner_t = np.concatenate(([g0], t[lo:hi], [g1]))
    inner_good = np.concatenate((nan, good[lo:hi], nan))
    inner_flagged = np.concatenate((nan, flagged[lo:hi], nan))
    dt, dg, df = decimate_flagged(inner_t, inner_good, inner_flagged, bins)
    if lo == 0 and hi == len(t):
        return dt[1:-1], dg[1:-1], df[1:-1]
    return (
        np.concatenate((t[:lo], dt[1:-1], t[hi:])),
        np.concatenate((good[:lo], dg[1:-1], good[hi:])),
        np.concatenate((flagged[:lo], df[1:-1], flagged[hi:])),
    )
