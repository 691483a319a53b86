"""TimeRange: what a trend's time axis shows, live (now at the right edge) or a fixed window (Qt-free)."""

from __future__ import annotations


class TimeRange:
    """Live: [now - span, now], scrolling. Paused: a fixed [t0, t1] (samples keep being recorded).

    Every method that can change between live and paused returns whether it did, so the widget can tell.
    """

    def __init__(self, span_s: float, live: bool = True, end: float = 0.0) -> None:
        if not span_s > 0:
            raise ValueError(f"the time span must be positive, got {span_s}")
        self.live = live
        self.span = float(span_s)
        self.range = (end - self.span, end)

    def view(self, now: float) -> tuple[float, float]:
        return (now - self.span, now) if self.live else self.range

    def go_live(self, span_s: float | None = None) -> bool:
        """Follow now again, with the given span, or the span of the paused view."""
        if span_s is not None:
            self.span = float(span_s)
        elif not self.live:
            self.span = self.range[1] - self.range[0]
        return self._set_live(True)

    def pause(self, now: float) -> bool:
        """Freeze the view where it is now."""
        if self.live:
            self.range = self.view(now)
        return self._set_live(False)

    def set_span(self, span_s: float) -> bool:
        """A preset: live, the last `span_s` seconds; paused, the same right edge."""
        if self.live:
            self.span = float(span_s)
            return False
        end = self.range[1]
        return self.set_range(end - span_s, end)

    def set_range(self, t0: float, t1: float) -> bool:
        """A fixed window (a custom range, a pan or zoom with the mouse): pauses."""
        if not t1 > t0:
            raise ValueError(f"the time range must end after it starts: {t0} .. {t1}")
        self.range = (float(t0), float(t1))
        self.span = self.range[1] - self.range[0]
        return self._set_live(False)

    def _set_live(self, live: bool) -> bool:
        changed = live != self.live
        self.live = live
        return changed
