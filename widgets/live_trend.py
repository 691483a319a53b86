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


class TrendPen:
    def __init__(self, binding: TagBinding, curve: pg.PlotDataItem, capacity: int) -> None:
        self.binding = binding
        self.curve = curve
        self.buffer = ext.RingBuffer(capacity)

    def append(self, update: TagUpdate) -> None:
        value = update.value
        good = update.quality is Quality.GOOD and isinstance(value, int | float)
        y = float(value) if good else math.nan
        self.buffer.append(np.array([update.source_ts]), np.array([y]))


class LiveTrend(QWidget):
    def __init__(self, bridge: Bridge, tags: list[str], span_s: float = 300.0, capacity: int = 200_000,
                 redraw_hz: float = 4.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.span_s = span_s
        self.paused = False
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
            binding = TagBinding(bridge, tag, lambda update, t=tag: self.pens[t].append(update))
            spec = binding.spec
            name = f"{binding.label} [{spec.units}]" if spec.units else binding.label
            curve = self.plot.plot(name=name, pen=pg.mkPen(TREND_PENS[index % len(TREND_PENS)], width=2),
                                   connect="finite")
            self.pens[tag] = TrendPen(binding, curve, capacity)
            if binding.last is not None:
                self.pens[tag].append(binding.last)
        units = {p.binding.spec.units for p in self.pens.values()}
        if len(units) == 1:
            self.plot.setLabel("left", units.pop())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / redraw_hz))
        self.timer.timeout.connect(self.redraw)
        self.timer.start()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def redraw(self) -> None:
        if self.paused or not self.isVisible():
            return
        now = time.time()
        start = now - self.span_s
        bins = max(64, self.plot.width() // 2)
        for pen in self.pens.values():
            t, y = pen.buffer.window(start, now)
            if len(t) > 2 * bins:
                t, y = ext.minmax_decimate(t, y, bins)
            pen.curve.setData(t, y)
        self.plot.setXRange(start, now, padding=0)

    def closeEvent(self, event) -> None:
        self.timer.stop()
        super().closeEvent(event)

    def release(self) -> None:
        self.timer.stop()
        for pen in self.pens.values():
            pen.binding.release()
