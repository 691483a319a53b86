"""The trend's time axis: pyqtgraph's DateAxisItem with its ticks and labels worked out once per zoom.

DateAxisItem recomputes every tick level (NumPy per level, local-time offsets per tick) and formats every
label with strftime at each paint, and the grid asks for the same ticks again: in a live trend the view
moves every frame, so that was a fifth of a frame's work. Ticks depend only on the span and the pixel
width; they are computed for three widths around the view at once and filtered while the view stays
inside them, and labels are remembered per tick.
"""

from __future__ import annotations

import pyqtgraph as pg

MAX_LABELS = 4096  # remembered tick labels (a few hundred in use at any zoom)


class TimeAxis(pg.DateAxisItem):
    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        # pixel width -> (span, low, high, levels, zoom level, min spacing): the axis and the grid ask with
        # slightly different widths, so each keeps its own entry.
        self._ticks: dict[float, tuple] = {}
        self._labels: dict[tuple, str] = {}

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        span = maxVal - minVal
        if not (span > 0 and size > 0):
            return super().tickValues(minVal, maxVal, size)
        width = round(size, 1)
        cached = self._ticks.get(width)
        if cached is None or abs(cached[0] - span) > span * 1e-6 or not (cached[1] <= minVal and maxVal <= cached[2]):
            # One span either side at three times the width: the same density, so the same zoom level.
            low, high = minVal - span, maxVal + span
            # Snapped to the millisecond (the finest label): DateAxisItem steps by adding the spacing, so
            # sub-second ticks drift (…0.099998 labelled "00.099") the further they are from the start.
            exact = super().tickValues(low, high, 3 * size)
            levels = [(spacing, [round(v, 3) for v in values]) for spacing, values in exact]
            if len(self._ticks) > 8:
                self._ticks.clear()
            cached = self._ticks[width] = (span, low, high, levels, self.zoomLevel, self.minSpacing)
        _span, _low, _high, levels, self.zoomLevel, self.minSpacing = cached
        # (minVal, maxVal]: DateAxisItem's steppers start after minVal, so a tick exactly there is not drawn
        return [(spacing, [v for v in values if minVal < v <= maxVal]) for spacing, values in levels]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        zoom = (id(self.zoomLevel), self.utcOffset, spacing)
        missing = [v for v in values if (zoom, v) not in self._labels]
        if missing:
            if len(self._labels) > MAX_LABELS:
                self._labels.clear()
                missing = values
            for v, text in zip(missing, super().tickStrings(missing, scale, spacing), strict=True):
                self._labels[(zoom, v)] = text
        return [self._labels[(zoom, v)] for v in values]
