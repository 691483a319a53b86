"""A pyqtgraph curve whose bounds cost one compiled pass per data change, not per view change.

pyqtgraph's PlotCurveItem forgets its bounding rect whenever the view transform changes (every frame of a
scrolling or panning trend) and recomputes it with NumPy nanmin/nanmax inside a warnings context, for
every curve: with 50 pens that was ~15 ms a frame. The bounds of the data only change when the data does,
so they are computed once there (ext.nan_aware_minmax: finite values only, as pyqtgraph's own).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

import ext

Bounds = tuple[float, float] | tuple[None, None]


def _finite_bounds(values: np.ndarray | None) -> Bounds:
    if values is None or len(values) == 0:
        return None, None
    low, high = ext.nan_aware_minmax(values)
    return (None, None) if low != low else (low, high)  # NaN: nothing finite to bound


class TrendCurve(pg.PlotCurveItem):
    """PlotCurveItem with cached data bounds (cosmetic pens only: the trend's pens are 1-3 px cosmetic)."""

    def __init__(self, *args, **kwargs) -> None:
        self._data_bounds: tuple[Bounds, Bounds] = ((None, None), (None, None))
        self._pixel: tuple[float, float] | None = None
        super().__init__(*args, **kwargs)

    def viewTransformChanged(self) -> None:
        # pyqtgraph drops the bounding rect (data bounds padded by the pen's width in pixels) on every view
        # change, from inside the paint, which schedules a second full paint of the plot. A pan or a scroll
        # keeps the pixel size, and so the rect: only a zoom needs it. (The pixel size is read off the view
        # box: pyqtgraph's pixelVectors() per curve cost more than the rect it would save.)
        view = self.getViewBox()
        pixel = None
        if view is not None and view.width() > 0 and view.height() > 0:
            (x0, x1), (y0, y1) = view.state["viewRange"]
            pixel = ((x1 - x0) / view.width(), (y1 - y0) / view.height())
        if pixel is not None and self._pixel is not None and all(
            math.isclose(a, b, rel_tol=0.01) for a, b in zip(pixel, self._pixel, strict=True)
        ):
            return  # within 1 %: the padding is under a pixel, so a 1 % error is nothing to see
        self._pixel = pixel
        super().viewTransformChanged()

    def updateData(self, *args, **kwargs) -> None:
        super().updateData(*args, **kwargs)
        self._data_bounds = (_finite_bounds(self.xData), _finite_bounds(self.yData))

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None) -> Bounds:
        pen = self.opts["pen"]
        if frac >= 1.0 and orthoRange is None and (pen is None or pen.isCosmetic()) and ax in (0, 1):
            return self._data_bounds[ax]
        return super().dataBounds(ax, frac, orthoRange)
