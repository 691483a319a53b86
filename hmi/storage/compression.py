"""What the historian stores of each tag's samples: its storage mode, applied as a stream.

A `TagStream` takes a tag's samples batch by batch (in time order) and returns the rows to store. The
compressors are `ext`'s streaming kernels (swinging door, deadband): O(1) state per tag, and exactly what
one pass over the whole series would keep. Rules every mode follows:

- a run of samples with the same quality is compressed as one stream; when the quality changes (good to
  uncertain, a value to no value), the held last point of the run before is stored first, then the new
  run starts with its first sample stored: quality changes and the last value before a gap are kept;
- a sample without a value (comm lost, text) is stored once per run, as the start of a gap;
- `finish()` (a stop, a shutdown) stores the held last point, so nothing acquired is lost to a
  compressor's look-ahead;
- periodic tags store the value held at each time of a fixed grid (k * period_s) as the wall clock passes
  it (`tick(now)`, at every flush).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

import ext
from hmi.site.schema import HistorySpec

Rows = list[tuple[int, float | None, int]]  # ts_us, value, quality

ANALOG, DISCRETE = "analog", "discrete"
MAX_TICKS = 10_000  # periodic grid times stored at once after a jump of the clock


def effective_mode(spec: HistorySpec, kind: str) -> str:
    """`auto` made concrete: swinging door for measurements, on change (deadband 0) for the rest."""
    if spec.mode != "auto":
        return spec.mode
    return "sdt" if kind == ANALOG else "deadband"


def _us(t: float) -> int:
    return round(t * 1_000_000)


def as_rows(t: np.ndarray, value: np.ndarray, quality: np.ndarray, tag_id: int | None = None) -> list[tuple]:
    """Arrays as rows (ts_us, value or None, quality), built by C loops: bulk paths store millions. With a
    `tag_id`, each row starts with it (the samples table's column order)."""
    values = value.tolist()
    if np.isnan(value).any():
        values = [None if v != v else v for v in values]
    columns = [np.round(t * 1e6).astype(np.int64).tolist(), values, quality.astype(np.int64).tolist()]
    if tag_id is not None:
        return list(zip(itertools.repeat(tag_id, len(values)), *columns, strict=True))
    return list(zip(*columns, strict=True))


@dataclass
class _Run:
    quality: int
    has_value: bool


class TagStream:
    """One tag's storage mode with its state. Not thread-safe: the historian's writer thread owns it."""

    def __init__(self, spec: HistorySpec, kind: str) -> None:
        self.spec = spec
        self.kind = kind
        self.mode = effective_mode(spec, kind)
        self._run: _Run | None = None
        self._state: ext.SdtState | ext.DeadbandState | None = None  # the kernel's state within the current run
        self._gap_stored = False  # a run without values: its first sample is stored
        self._last_t = -math.inf  # the last sample time seen: later samples must not be older
        self._held: tuple[float, float | None, int] | None = None  # periodic: the sample now held
        self._waiting: list[tuple[float, float | None, int]] = []  # periodic: samples not yet due
        self._next_tick: int | None = None  # periodic: k of the next grid time k * period_s to store

    # -- feeding ------------------------------------------------------------------------------------

    def feed(self, t: np.ndarray, value: np.ndarray, quality: np.ndarray) -> Rows:
        """Samples in time order (value NaN where there is none); returns the rows to store now. Samples
        older than one already seen are dropped (a replay of what is stored; the historian counts them)."""
        if len(t) and t[0] < self._last_t:
            fresh = t >= self._last_t
            t, value, quality = t[fresh], value[fresh], quality[fresh]
        if len(t) == 0 or self.mode == "off":
            return []
        self._last_t = float(t[-1])
        if self.mode == "all":
            return as_rows(t, value, quality)
        if self.mode == "periodic":
            return self._sample(t, value, quality)
        rows: Rows = []
        has_value = ~np.isnan(value)
        # split where the quality or the presence of a value changes: each run is one compressed stream
        change = np.flatnonzero((quality[1:] != quality[:-1]) | (has_value[1:] != has_value[:-1])) + 1
        for start, stop in zip((0, *change.tolist()), (*change.tolist(), len(t)), strict=True):
            run = _Run(int(quality[start]), bool(has_value[start]))
            if self._run != run:
                rows += self.finish()
                self._run = run
            if not run.has_value:
                if not self._gap_stored:  # the start of a gap; the rest of it adds nothing
                    rows.append((_us(float(t[start])), None, run.quality))
                    self._gap_stored = True
                continue
            rows += self._compress(t[start:stop], value[start:stop], run.quality, final=False)
        return rows

    def _compress(self, t: np.ndarray, y: np.ndarray, quality: int, final: bool) -> Rows:
        spec = self.spec
        if self.mode == "sdt":
            kept_t, kept_y, self._state = ext.sdt_stream(t, y, spec.deviation, spec.max_interval_s,
                                                         state=self._state, final=final)
        else:
            kept_t, kept_y, self._state = ext.deadband_stream(t, y, spec.deadband, spec.max_interval_s,
                                                              state=self._state, final=final)
        return [(_us(a), b, quality) for a, b in zip(kept_t.tolist(), kept_y.tolist(), strict=True)]

    def finish(self) -> Rows:
        """The held last point of the current run, if the compressor has not stored it yet (a gap, a
        quality change, a stop). The next sample starts a new run."""
        rows: Rows = []
        run, state = self._run, self._state
        if run is not None and run.has_value and state is not None:
            rows = self._compress(np.empty(0), np.empty(0), run.quality, final=True)
        self._run, self._state, self._gap_stored = None, None, False
        return rows

    # -- periodic ----------------------------------------------------------------------------------

    def _sample(self, t: np.ndarray, value: np.ndarray, quality: np.ndarray) -> Rows:
        """Periodic mode keeps the samples until the grid times they hold for have come (`tick`)."""
        self._waiting += zip(t.tolist(), (None if v != v else v for v in value.tolist()), quality.tolist(),
                             strict=True)
        return []

    def tick(self, now: float) -> Rows:
        """Periodic mode: at every grid time k * period_s up to `now` (wall clock), the value held then: the
        last sample at or before it. The grid starts at the first call, so a tag whose source clock is far
        behind (or ahead) cannot flood the history; a clock jump stores at most MAX_TICKS grid times."""
        if self.mode != "periodic":
            return []
        period = self.spec.period_s or 1.0
        last = math.floor(now / period)  # grid times are k * period: integer k, no drift from adding periods
        if self._next_tick is None:
            self._next_tick = last + 1 if last * period < now else last
        self._next_tick = max(self._next_tick, last - MAX_TICKS)  # the clock jumped: skip ahead
        rows: Rows = []
        waiting = self._waiting
        while self._next_tick <= last:
            at = self._next_tick * period
            taken = 0
            while taken < len(waiting) and waiting[taken][0] <= at:
                taken += 1
            if taken:
                self._held = waiting[taken - 1]
                del waiting[:taken]
            if self._held is not None:
                rows.append((_us(at), self._held[1], self._held[2]))
            self._next_tick += 1
        return rows


# -- many tags at once (the writer's common case) ---------------------------------------------------------

FAST_MODES = ("sdt", "deadband")


def continuing(stream: TagStream, first_t: float, quality: int) -> bool:
    """Whether a tag's samples of this flush only continue its current compressed run: a swinging-door or
    deadband tag, values all present with the run's quality, nothing older than what it has seen. Everything
    else (a new run, a gap, a quality change, a replay, the other modes) goes through `TagStream.feed`."""
    run = stream._run
    return (stream.mode in FAST_MODES and run is not None and run.has_value and run.quality == quality
            and stream._state is not None and first_t >= stream._last_t)


def feed_many(streams: list[TagStream], t: np.ndarray, value: np.ndarray, quality: np.ndarray,
              starts: np.ndarray) -> list[Rows]:
    """`TagStream.feed` for many continuing streams in two kernel calls (one per mode): segment i of the
    arrays (from starts[i] to the next start) belongs to streams[i], which `continuing` accepted, and is
    uniform in quality with every value present. Returns the rows of each segment."""
    stops = np.append(starts[1:], len(t))
    out: list[Rows] = [[] for _ in streams]
    for mode, kernel in (("sdt", ext.sdt_stream_many), ("deadband", ext.deadband_stream_many)):
        chosen = [i for i, s in enumerate(streams) if s.mode == mode]
        if not chosen:
            continue
        lengths = stops[chosen] - starts[chosen]
        if len(chosen) == len(streams):
            sub_t, sub_y, sub_starts = t, value, starts
        else:
            take = np.concatenate([np.arange(starts[i], stops[i]) for i in chosen])
            sub_t, sub_y = t[take], value[take]
            sub_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        param = np.array([streams[i].spec.deviation if mode == "sdt" else streams[i].spec.deadband
                          for i in chosen])
        interval = np.array([streams[i].spec.max_interval_s for i in chosen])
        segment, kept_t, kept_y, states = kernel(sub_t, sub_y, sub_starts, param, interval,
                                                 [streams[i]._state for i in chosen])
        last_t = sub_t[np.asarray(sub_starts) + lengths - 1].tolist()
        for k, i in enumerate(chosen):
            streams[i]._state = states[k]
            streams[i]._last_t = last_t[k]
        if not len(segment):
            continue
        rows = list(zip(np.round(kept_t * 1e6).astype(np.int64).tolist(), kept_y.tolist(),
                        quality[starts[np.asarray(chosen)[segment]]].tolist(), strict=True))
        bounds = np.flatnonzero(np.diff(segment)) + 1
        for piece_start, piece_stop in zip((0, *bounds.tolist()), (*bounds.tolist(), len(rows)), strict=True):
            out[chosen[int(segment[piece_start])]] = rows[piece_start:piece_stop]
    return out
