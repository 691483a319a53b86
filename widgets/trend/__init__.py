"""The trend: multi-pen, live and historical, with zoom, pan, presets, a cursor and export.

- `series`: PenSeries, all of one pen's data (live MinMaxPyramid + history cache) and its reduction to pixels
- `pens`: TrendPen, a tag's binding, series, style and lines, and the drawing rules
- `layer`: CurveLayer, one item per value view painting the lines (Polyline) of all its pens
- `plot`: the time axis and one value axis (ViewBox) per unit, or one normalised axis
- `time_axis`: pyqtgraph's DateAxisItem with its ticks and labels cached per zoom
- `history`: HistoryLoader, history fetched off the GUI thread, stale answers dropped
- `cursor`: the time cursor and the pen table (legend and readings)
- `toolbar`: live/pause, presets, custom range, value view, export buttons
- `export`: CSV of every sample in view, PNG of the view
- `widget`: TrendWidget, which puts them together
"""

from widgets.trend.series import PenSeries, Reading, hold_last_value
from widgets.trend.widget import TrendWidget

__all__ = ["PenSeries", "Reading", "TrendWidget", "hold_last_value"]
