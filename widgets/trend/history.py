"""HistoryLoader: fetches what the pens' history caches miss for the current view, never on the GUI thread.

Every redraw tick the widget calls `poll` with its view. For each pen whose PenSeries says history is
missing (zoomed out past the ring buffer, or zoomed in past the cached resolution) one query is sent to
the bridge, which runs it on the history reader's threads, decimated there to the pixel width. At most
one query per pen is in flight: a drag or a spinning wheel does not queue dozens of queries. An answer
that no longer fits the view when it arrives (the operator zoomed again meanwhile) is dropped as stale,
and the next poll asks for what the view needs now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hmi.bridge import Bridge
from hmi.storage.history_query import HistorySlice
from widgets.trend.series import HistoryRequest, PenSeries

log = logging.getLogger(__name__)

RETRY_AFTER_S = 10.0  # after a failed query, the same pen is not asked again for this long


@dataclass
class LoaderStats:
    """What the loader did (for tests, diagnostics and benchmarks)."""

    queries: int = 0
    applied: int = 0
    stale: int = 0
    failed: int = 0
    requests: list[tuple[str, HistoryRequest]] = field(default_factory=list)  # the last few sent


class HistoryLoader:
    """GUI thread only. `on_changed()` is called after an answer was applied, dropped or failed."""

    def __init__(self, bridge: Bridge, on_changed: Callable[[], None]) -> None:
        self.bridge = bridge
        self._on_changed = on_changed
        self._in_flight: dict[str, tuple[PenSeries, HistoryRequest, float]] = {}
        self._retry_at: dict[str, float] = {}
        self._series: dict[str, PenSeries] = {}
        self._view: tuple[float, float, int] | None = None
        self._closed = False
        self.error = ""
        self.stats = LoaderStats()

    @property
    def loading(self) -> bool:
        return bool(self._in_flight)

    def poll(
        self, pens: Iterable[tuple[str, PenSeries]], t0: float, t1: float, n_bins: int, now: float | None = None
    ) -> None:
        """Ask for the history the view [t0, t1] at `n_bins` columns is missing."""
        if self._closed:
            return
        now = time.time() if now is None else now
        self._view = (t0, t1, n_bins)
        self._series = dict(pens)
        for tag, series in self._series.items():
            if tag in self._in_flight or self._retry_at.get(tag, 0.0) > now:
                continue
            request = series.history_request(t0, t1, n_bins, now)
            if request is not None:
                self._send(tag, series, request, now)
                continue
            prior = series.prior_request(t0, t1, n_bins)
            if prior is not None:
                self._send(tag, series, prior, now, prior=True)

    def close(self) -> None:
        """Forget everything; answers still on their way are ignored."""
        self._closed = True
        self._in_flight.clear()
        self._series.clear()

    def _send(self, tag: str, series: PenSeries, request: HistoryRequest, now: float, prior: bool = False) -> None:
        self._in_flight[tag] = (series, request, now)
        self.stats.queries += 1
        self.stats.requests = [*self.stats.requests[-31:], (tag, request)]
        try:
            self.bridge.query_history(
                tag,
                request.start,
                request.end,
                request.n_bins,
                lambda part, error: self._answered(tag, series, request, now, part, error, prior),
            )
        except Exception as exc:  # the runtime is stopping, or the tag is unknown to it
            self._answered(tag, series, request, now, None, exc, prior)

    def _answered(
        self,
        tag: str,
        series: PenSeries,
        request: HistoryRequest,
        sent_at: float,
        part: HistorySlice | None,
        error: Exception | None,
        prior: bool = False,
    ) -> None:
        if self._closed:
            return
        flight = self._in_flight.get(tag)
        if flight is not None and flight[1] is request:
            del self._in_flight[tag]
        if self._series.get(tag) is not series or self._view is None:
            return  # the pen was removed (or replaced) meanwhile
        if error is not None or part is None:
            self.stats.failed += 1
            self.error = f"history of {tag} unavailable: {error}"
            self._retry_at[tag] = time.time() + RETRY_AFTER_S
            log.warning("%s", self.error)
        else:
            self.error = ""
            self._retry_at.pop(tag, None)
            t0, t1, n_bins = self._view
            if prior:
                if series.set_prior(request, part):
                    self.stats.applied += 1
                else:
                    self.stats.stale += 1
            elif series.answers(request, part, sent_at, t0, t1, n_bins):
                series.set_history(part, request.n_bins, sent_at)
                self.stats.applied += 1
            else:
                self.stats.stale += 1
        self._on_changed()
