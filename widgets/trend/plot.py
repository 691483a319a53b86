"""The plot of a trend: one time axis shared by one ViewBox per value axis, axes alternating left and right.

The time view sits on top and takes the mouse: drag pans time, the wheel zooms time (both pause a live
trend), Ctrl+wheel zooms and Shift+drag pans every value axis, a click places the cursor. Dragging or
wheeling on one value axis changes only that axis. The value views lie under it with the same geometry,
X-linked to it; each draws the pens of one axis (one unit, or the normalised 0-100 %).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

from widgets.style import FIELD, TEXT_DIM
from widgets.trend.layer import CurveLayer, Polyline
from widgets.trend.time_axis import TimeAxis

if TYPE_CHECKING:
    from widgets.trend.pens import TrendPen

GRID = QColor("#cdcdcd")  # opaque, a little darker than the plot field: there, but in the background
Scale = tuple[float, float]
MAX_SIDE_AXES = 8  # value axes shown on each side (pens beyond share their axis' view, unlabelled)


class TimeViewBox(pg.ViewBox):
    """The view the mouse talks to. Values never move here: each value axis has its own view."""

    values_zoomed = Signal(float, QPointF)  # factor (>1 zooms in), scene position of the mouse
    values_panned = Signal(float)  # scene pixels moved downwards
    clicked = Signal(float)  # time (epoch s) where the plot was clicked

    def __init__(self) -> None:
        super().__init__(enableMenu=False, defaultPadding=0.0)
        self.setMouseEnabled(x=True, y=False)
        self.disableAutoRange()
        self.setLimits(xMin=0.0, xMax=4102444800.0, minXRange=1.0, maxXRange=5 * 366 * 86400.0)  # 1970..2100

    def wheelEvent(self, ev, axis=None) -> None:
        if axis is None and ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.values_zoomed.emit(1.02 ** (ev.delta() * self.state["wheelScaleFactor"]), ev.scenePos())
            ev.accept()
            return
        super().wheelEvent(ev, axis=0 if axis is None else axis)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if (
            axis is None
            and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier
            and ev.button() == Qt.MouseButton.LeftButton
        ):
            ev.accept()
            self.values_panned.emit(ev.scenePos().y() - ev.lastScenePos().y())
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self.mapSceneToView(ev.scenePos()).x())
            return
        super().mouseClickEvent(ev)


class Grid:
    """Grid lines at the major ticks of the time axis and of the first value axis, under every curve.

    pyqtgraph's own grid draws every tick level with translucent lines; that cost about 8 ms per frame
    here, as much as all the curves of a 10-pen trend. These are a few opaque segments of one line, in a
    view of their own under the value views (X-linked to time, Y-linked to the first value axis).
    """

    def __init__(self, plot: PlotArea) -> None:
        self.view = pg.ViewBox(enableMenu=False, defaultPadding=0.0)
        self.view.setMouseEnabled(x=False, y=False)
        self.view.disableAutoRange()
        self.view.setZValue(-1000)
        self.lines = Polyline(pg.mkPen(GRID, width=1))  # segments: pairs of points, a NaN between pairs
        self.layer = CurveLayer()
        self.layer.set_lines([self.lines])
        self.view.addItem(self.layer)
        self._plot = weakref.ref(plot)
        self._drawn: tuple | None = None

    def refresh(self, *_args) -> None:
        plot = self._plot()
        if plot is None:
            return
        (t0, t1), _ = plot.time_view.viewRange()
        width, height = self.view.width(), self.view.height()
        if plot.axes:
            low, high = (float(v) for v in plot.axes[0].view.viewRange()[1])
            axis = plot.axes[0].axis
        else:
            low, high, axis = 0.0, 1.0, None
        key = (t0, t1, low, high, width, height)
        if key == self._drawn or width < 2 or height < 2 or not hasattr(plot.time_axis, "fontMetrics"):
            return  # (a DateAxisItem cannot tick before its first paint: the next refresh will do)
        self._drawn = key
        xs = _major_ticks(plot.time_axis, t0, t1, width)
        ys = _major_ticks(axis, low, high, height) if axis is not None else []
        # Each line is (start, end, NaN): the NaN breaks the polyline between lines.
        x = np.empty(3 * (len(xs) + len(ys)))
        y = np.full_like(x, np.nan)
        n = 3 * len(xs)
        x[:n] = np.repeat(xs, 3)
        y[:n:3], y[1:n:3] = low, high
        x[n::3], x[n + 1 :: 3], x[n + 2 :: 3] = t0, t1, t1
        y[n::3] = y[n + 1 :: 3] = ys
        self.lines.setData(x, y)


def _major_ticks(axis: pg.AxisItem, low: float, high: float, size: float) -> list[float]:
    if not high > low:
        return []
    if isinstance(axis, pg.DateAxisItem) and not hasattr(axis, "fontMetrics"):  # it ticks after its first paint
        return []
    if axis._tickLevels is not None:  # fixed ticks (the on/off axis)
        return [v for v, _ in axis._tickLevels[0] if low <= v <= high]
    for _spacing, values in axis.tickValues(low, high, size):  # the coarsest level that has ticks in view
        inside = [v for v in values if low <= v <= high]
        if inside:
            return inside
    return []


class ValueAxis:
    """One Y axis: its view, its axis item and the pens drawn against it.

    `mode` is "fixed" (the engineering scale, ISA-101's default when every pen has a range), "auto"
    (follow what is visible) or "manual" (the operator zoomed or panned it).
    """

    def __init__(
        self, key: str, label: str, color: QColor | None, side: str, fixed: Scale | None, autoscale: bool
    ) -> None:
        self.key = key
        self.pens: list[TrendPen] = []
        self.view = pg.ViewBox(enableMenu=False, defaultPadding=0.0)
        self.view.setMouseEnabled(x=False, y=True)
        self.view.disableAutoRange()  # ranges are set explicitly: no bounds computed over the data per setData
        self.layer = CurveLayer()  # the lines of its pens (set by TrendWidget)
        self.view.addItem(self.layer)
        self.axis = pg.AxisItem(side)
        self.axis.linkToView(self.view)
        pen_color = color or TEXT_DIM
        self.axis.setPen(pg.mkPen(TEXT_DIM))
        self.axis.setTextPen(pg.mkPen(pen_color))
        self.axis.setLabel(label, color=pen_color.name())
        self.fixed = fixed
        self.mode = "fixed" if fixed is not None and not autoscale else "auto"
        self._applying = False
        self.view.sigRangeChangedManually.connect(self._manual)
        if fixed is not None:
            self.set_range(*fixed)

    def _manual(self, *_args) -> None:
        if not self._applying:
            self.mode = "manual"

    def set_range(self, low: float, high: float) -> None:
        self._applying = True
        try:
            self.view.setYRange(low, high, padding=0.02)
        finally:
            self._applying = False

    def autoscale(self, low: float, high: float) -> None:
        """Follow the visible data (a flat line gets a small band around it)."""
        if not (low <= high):
            return
        if high - low < 1e-9 * max(1.0, abs(high)):
            pad = max(abs(high) * 0.05, 0.5)
            low, high = low - pad, high + pad
        current_low, current_high = self.view.viewRange()[1]
        margin = (high - low) * 0.05
        if abs(current_low - (low - margin)) > margin / 4 or abs(current_high - (high + margin)) > margin / 4:
            self.set_range(low - margin, high + margin)

    def reset(self, autoscale: bool) -> None:
        self.mode = "fixed" if self.fixed is not None and not autoscale else "auto"
        if self.mode == "fixed":
            assert self.fixed is not None
            self.set_range(*self.fixed)

    def y_range(self) -> Scale:
        low, high = self.view.viewRange()[1]
        return float(low), float(high)


class PlotArea(pg.GraphicsLayoutWidget):
    """The axes and views; the pens' curves are added to them by TrendWidget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(FIELD)
        self.ci.setContentsMargins(2, 6, 2, 2)
        self.ci.setSpacing(0)
        self.time_view = TimeViewBox()
        self.time_view.setZValue(10)  # above the value views: it takes the mouse; it draws only the cursor
        self.time_axis = TimeAxis("bottom")
        self.time_axis.linkToView(self.time_view)
        self.time_axis.setPen(pg.mkPen(TEXT_DIM))
        self.time_axis.setTextPen(pg.mkPen(TEXT_DIM))
        font = QFont()
        font.setPointSize(9)
        self.time_axis.setTickFont(font)
        self.axes: list[ValueAxis] = []
        self.grid = Grid(self)
        self.scene().addItem(self.grid.view)
        self.grid.view.setXLink(self.time_view)
        self.time_view.sigResized.connect(self._sync_geometry)
        self.time_view.sigXRangeChanged.connect(self.grid.refresh)
        self._layout_axes()

    def set_axes(self, axes: list[ValueAxis]) -> None:
        """Replace the value axes (pens' curves must be moved to the new views by the caller)."""
        for old in self.axes:
            self.scene().removeItem(old.view)
        self.axes = axes
        for index, axis in enumerate(axes):
            self.scene().addItem(axis.view)
            axis.view.setXLink(self.time_view)
            axis.view.setZValue(-10 - index)
            axis.axis.setTickFont(self.time_axis.style["tickFont"])
            if index == 0:
                self.grid.view.setYLink(axis.view)
                axis.view.sigYRangeChanged.connect(self.grid.refresh)
        self._layout_axes()
        self._sync_geometry()

    def pixel_width(self) -> int:
        return max(1, round(self.time_view.width()))

    def _layout_axes(self) -> None:
        """Value axes alternate left and right of the time view, the first ones nearest to it.

        The time view keeps its cell (column MAX_SIDE_AXES): only axis items come and go. Moving it to
        another column of the grid layout once the set of axes changed left it 0 px wide."""
        for item in list(self.ci.items):
            if item is not self.time_view and item is not self.time_axis:
                self.ci.removeItem(item)
        if self.time_view not in self.ci.items:
            self.ci.addItem(self.time_view, row=0, col=MAX_SIDE_AXES)
            self.ci.addItem(self.time_axis, row=1, col=MAX_SIDE_AXES)
        for index, axis in enumerate(self.axes[: 2 * MAX_SIDE_AXES]):
            side, place = divmod(index, 2)[::-1]  # place: 0, 0, 1, 1, ...; side: 0 left, 1 right
            column = MAX_SIDE_AXES - 1 - place if side == 0 else MAX_SIDE_AXES + 1 + place
            self.ci.addItem(axis.axis, row=0, col=column)

    def _sync_geometry(self) -> None:
        rect = self.time_view.sceneBoundingRect()
        for axis in self.axes:
            axis.view.setGeometry(rect)
            axis.view.linkedViewChanged(self.time_view, axis.view.XAxis)
        self.grid.view.setGeometry(rect)
        self.grid.view.linkedViewChanged(self.time_view, self.grid.view.XAxis)
        self.grid.refresh()
