"""The trend's curves: one graphics item per value view paints the lines of all its pens.

pyqtgraph gives every curve its own item: each one a QPainterPath rebuilt from the arrays at every data
change, a bounding rect recomputed and two Python slots run at every view change, a Python paint. A
50-pen trend has 150 such curves, and in a pan (new data and a new view every frame) that overhead was a
third of the frame. Here a line is its points in QPolygonF (filled from NumPy through the polygon's own
buffer, one per unbroken run), and the layer that paints them is a single item bounded by its view.

A `Polyline` keeps the part of the PlotCurveItem interface the trend uses (setData, getData, setPen,
visibility), so a pen draws with it exactly as it did with a curve.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPen, QPolygonF

_EMPTY = np.empty(0, dtype=np.float64)


def polygons(x: np.ndarray, y: np.ndarray) -> list[QPolygonF]:
    """The unbroken runs of (x, y) as polygons: a NaN in y ends a run, a run of one point draws nothing."""
    n = len(x)
    if n < 2:
        return []
    breaks = np.flatnonzero(np.isnan(y))
    if len(breaks) == 0:
        return [_polygon(x, y)]
    runs = []
    start = 0
    for stop in (*breaks.tolist(), n):
        if stop - start >= 2:
            runs.append(_polygon(x[start:stop], y[start:stop]))
        start = stop + 1
    return runs


def _polygon(x: np.ndarray, y: np.ndarray) -> QPolygonF:
    polygon = QPolygonF()
    polygon.resize(len(x))
    points = fn.ndarray_from_qpolygonf(polygon)  # the polygon's own memory: no QPointF per point
    points[:, 0] = x
    points[:, 1] = y
    return polygon


class Polyline:
    """One line of a pen: points joined in order, broken where y is NaN, drawn by the layer it is on."""

    def __init__(self, pen: QPen | None = None) -> None:
        self.pen = pen if pen is not None else pg.mkPen("k")
        self.x, self.y = _EMPTY, _EMPTY
        self.runs: list[QPolygonF] = []
        self.visible = True
        self.layer: CurveLayer | None = None

    def setData(self, x: np.ndarray, y: np.ndarray, **_ignored) -> None:
        self.x, self.y = x, y
        self.runs = polygons(x, y)
        self._changed()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x, self.y

    def setPen(self, pen: QPen) -> None:
        self.pen = pen
        self._changed()

    def isVisible(self) -> bool:
        return self.visible

    def setVisible(self, visible: bool) -> None:
        if visible != self.visible:
            self.visible = visible
            self._changed()

    def show(self) -> None:
        self.setVisible(True)

    def hide(self) -> None:
        self.setVisible(False)

    def _changed(self) -> None:
        if self.layer is not None:
            self.layer.update()


class CurveLayer(pg.GraphicsObject):
    """Paints its lines in order (the first at the bottom) in the coordinates of the view it is added to."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[Polyline] = []
        self._rect = QRectF()

    def set_lines(self, lines: list[Polyline]) -> None:
        for line in self.lines:
            if line.layer is self:
                line.layer = None
        for line in lines:
            line.layer = self
        self.lines = list(lines)
        self.update()

    def viewRangeChanged(self) -> None:
        # Bounded by the view: everything in it may be painted, nothing outside is (the view clips anyway).
        view = self.getViewBox()
        if isinstance(view, pg.ViewBox):
            rect = view.viewRect()
            if rect != self._rect:
                self.prepareGeometryChange()
                self._rect = rect

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, *_args) -> None:
        for line in self.lines:
            if line.visible and line.runs:
                painter.setPen(line.pen)
                for run in line.runs:
                    painter.drawPolyline(run)
