"""A live trend of a few tags: ring buffers fed by the bridge, redrawn on its own timer.

Samples go into a ring buffer per pen as they arrive; the plot is redrawn at a fixed
rate after min/max decimation to the plot's pixel width (ext kernels), so the cost of a
redraw depends on the width of the screen, not on how many samples are in view.
Bad-quality samples are stored as NaN and drawn as gaps.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

import ext
from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from widgets.binding import TagBinding
from widgets.style import FIELD, TEXT_DIM, TREND_PENS


def hold_last_value(t: np.ndarray, y: np.ndarray, latest: tuple[float, float] | None,
                    now: float, start: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Extend the line to `now` at the last good value.

    Servers report by exception: a steady setpoint sends one sample and then nothing, and
    it must still be drawn as a line up to the present. A bad last sample (NaN) is not held.
    """
    if latest is None or math.isnan(latest[1]) or latest[0] >= now:
        return t, y
    if len(t) == 0 and start is not None:  # unchanged since before the window opened
        return np.array([start, now]), np.array([latest[1], latest[1]])
    return np.append(t, now), np.append(y, latest[1])


class TrendPen:
    """One tag on the trend: its ring buffer, its curve, and the binding that feeds them."""

    def __init__(self, bridge: Bridge, tag: str, plot: pg.PlotWidget, color: str, capacity: int) -> None:
        self.buffer = ext.RingBuffer(capacity)
        spec = bridge.spec(tag)
        label = spec.description or tag
        name = f"{label} [{spec.units}]" if spec.units else label
        self.curve = plot.plot(name=name, pen=pg.mkPen(color, width=2), connect="finite")
        self.binding = TagBinding(bridge, tag, self.append)
        if self.binding.last is not None:
            self.append(self.binding.last)

    def append(self, update: TagUpdate) -> None:
        latest = self.buffer.latest()
        if not math.isfinite(update.source_ts) or (latest is not None and update.source_ts <= latest[0]):
            return  # already drawn, or a PLC clock that stepped back: the buffer stays sorted
        value = update.value
        good = update.quality is Quality.GOOD and isinstance(value, int | float)
        y = float(value) if good else math.nan
        self.buffer.append(np.array([update.source_ts]), np.array([y]))


class LiveTrend(QWidget):
    def __init__(self, bridge: Bridge, tags: list[str], span_s: float = 300.0, capacity: int = 200_000,
                 redraw_hz: float = 4.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.span_s = span_s
        self.plot = pg.PlotWidget(self, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setBackground(FIELD)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(180)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(pg.mkPen(TEXT_DIM))
            self.plot.getAxis(axis).setPen(pg.mkPen(TEXT_DIM))
        legend = self.plot.addLegend(offset=(8, 8), labelTextColor=TEXT_DIM)
        legend.setBrush(pg.mkBrush(228, 228, 228, 200))
        self.pens: dict[str, TrendPen] = {}
        for index, tag in enumerate(tags):
            self.pens[tag] = TrendPen(bridge, tag, self.plot, TREND_PENS[index % len(TREND_PENS)], capacity)
        units = {p.binding.spec.units for p in self.pens.values()}
        if len(units) == 1:
            self.plot.setLabel("left", units.pop())
            ranges = [p.binding.spec.range for p in self.pens.values()]
            if all(ranges):  # ISA-101: a fixed engineering scale, so magnitude reads at a glance
                self.plot.setYRange(min(r.low for r in ranges), max(r.high for r in ranges), padding=0.02)
                self.plot.getPlotItem().getViewBox().setMouseEnabled(x=False, y=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / redraw_hz))
        self.timer.timeout.connect(self.redraw)
        self.timer.start()

    def redraw(self) -> None:
        if not self.isVisible():
            return
        now = time.time()
        start = now - self.span_s
        bins = max(64, self.plot.width() // 2)
        for pen in self.pens.values():
            t, y = pen.buffer.window(start, now)
            if len(t) > 2 * bins:
                t, y = ext.minmax_decimate(t, y, bins)
            t, y = hold_last_value(t, y, pen.buffer.latest(), now, start)
            pen.curve.setData(t, y)
        self.plot.setXRange(start, now, padding=0)

    def closeEvent(self, event) -> None:
        self.timer.stop()
        super().closeEvent(event)

    def release(self) -> None:
        self.timer.stop()
        for pen in self.pens.values():
            pen.binding.release()
