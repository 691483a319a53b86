"""A trend pen: one tag's binding, its PenSeries, its style and the two curves it is drawn with.

Drawing rules (operators read these at a glance, so they are the same everywhere):

- good stretches are a solid line in the pen's colour; flagged stretches (uncertain or bad quality, but
  with a value) the same hue, lighter and dashed; no value (comm lost) is a gap;
- a segment takes the style of the sample it starts from, so the two lines meet without a hole;
- the last value is held up to now (servers report by exception); a last sample without value is not;
- on/off tags and setpoints (writable tags) are drawn as steps (a value holds until the next sample),
  measurements are joined by straight lines; a pen's `style` can say otherwise;
- on/off pens share one axis, each in a band of its own at the bottom of the plot (OFF/ON ticks);
- in the normalised view a pen is drawn at 0-100 % of its engineering range.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from drivers.model import TagUpdate
from drivers.values import DataType
from hmi.bridge import Bridge
from hmi.site.trend_config import TrendPenConfig
from widgets.binding import TagBinding
from widgets.style import FIELD, TREND_PENS
from widgets.trend.layer import Polyline
from widgets.trend.series import PenSeries, Reading, hold_last_value

# After the house palette, more muted hues that stay apart from each other and from the magenta of bad data.
EXTRA_PENS = ["#8a6d00", "#00607a", "#7a0030", "#4a5a00", "#3a3aa0", "#8a4a6a", "#006a40", "#6a4a2a"]
PALETTE = [*TREND_PENS, *EXTRA_PENS]
FLAGGED_MIX = 0.45  # flagged stretches: this much of the pen's colour over the plot background
STATES_AXIS = "on/off"
STATE_BAND = 1.5  # on/off pens are drawn at 0/1 + STATE_BAND * their place among the on/off pens


def pen_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def lighter(color: QColor, amount: float = FLAGGED_MIX, background: QColor = FIELD) -> QColor:
    """The colour mixed with the background: the same hue, visibly weaker."""
    return QColor(
        *(
            round(getattr(color, c)() * amount + getattr(background, c)() * (1 - amount))
            for c in ("red", "green", "blue")
        )
    )


def segment_styles(good: np.ndarray, flagged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The good and flagged lines to draw: each segment belongs to the line of the sample it starts from,
    so a good line runs on to the next sample when that one is flagged, and the other way round."""
    good_line, flagged_line = good.copy(), flagged.copy()
    if len(good) > 1:
        is_good, is_flagged = ~np.isnan(good), ~np.isnan(flagged)
        into_flagged = is_good[:-1] & is_flagged[1:]
        good_line[1:][into_flagged] = flagged[1:][into_flagged]
        into_good = is_flagged[:-1] & is_good[1:]
        flagged_line[1:][into_good] = good[1:][into_good]
    return good_line, flagged_line


def as_steps(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample-and-hold: each value is drawn flat up to the next sample, then the step."""
    if len(t) < 2:
        return t, y
    return np.repeat(t, 2)[1:], np.repeat(y, 2)[:-1]


class TrendPen:
    """One tag on a trend. GUI thread only; call `release()` when done."""

    def __init__(self, bridge: Bridge, config: TrendPenConfig, color: str, capacity: int) -> None:
        self.config = config
        self.color = QColor(config.color or color)
        self.series = PenSeries(capacity)
        self.binding = TagBinding(bridge, config.tag, self._on_update)
        spec = self.binding.spec
        self.is_state = spec.data_type is DataType.BOOL
        self.steps = config.style == "step" or (config.style == "auto" and (self.is_state or spec.writable))
        self.offset = 0.0  # on/off pens: where their band starts on the shared axis
        self.good_curve = Polyline()
        self.flagged_curve = Polyline()
        self.hold_curve = Polyline()  # the last value, up to now
        self._drawn_visible: tuple | None = None
        self._drawn_shape: tuple | None = None
        self._hold_quality: float | None = None
        self._hold_drawn: tuple | None = None
        self._width = -1.0
        self.set_width(config.width)
        self.drawn = 0  # points in the curves after the last draw
        if self.binding.last is not None:
            self.series.append_update(self.binding.last)

    # -- identity ------------------------------------------------------------------------------------

    @property
    def tag(self) -> str:
        return self.config.tag

    @property
    def label(self) -> str:
        return self.binding.label

    @property
    def units(self) -> str:
        return self.binding.spec.units

    @property
    def axis_key(self) -> str:
        """Pens with the same key share a Y axis: the configured axis name, else the units (a pen without
        units gets an axis of its own: counts and ratios rarely share a scale; on/off pens share one)."""
        if self.config.axis:
            return self.config.axis
        if self.is_state:
            return STATES_AXIS
        return self.units or f"tag:{self.tag}"

    def engineering_range(self) -> tuple[float, float] | None:
        """The pen's fixed scale: configured low/high, else the tag's range (EURange), else None."""
        if self.config.low is not None and self.config.high is not None:
            return self.config.low, self.config.high
        if self.is_state:
            return 0.0, 1.0
        spec_range = self.binding.spec.range
        return (spec_range.low, spec_range.high) if spec_range is not None else None

    # -- data ----------------------------------------------------------------------------------------

    def _on_update(self, update: TagUpdate) -> None:
        self.series.append_update(update)

    def format(self, reading: Reading | None) -> str:
        if reading is None or math.isnan(reading.value):
            return "----"
        if self.is_state:
            return self.binding.spec.on_text if reading.value >= 0.5 else self.binding.spec.off_text
        return self.binding.format(reading.value)

    # -- drawing -------------------------------------------------------------------------------------

    def set_color(self, color: str) -> None:
        self.forget_drawing()
        self.color = QColor(color)
        self.config = self.config.model_copy(update={"color": QColor(color).name()})
        self._width = -1.0
        self.set_width(self.config.width)

    @property
    def curves(self) -> tuple[Polyline, ...]:
        """Every line the pen draws with, bottom first."""
        return self.flagged_curve, self.good_curve, self.hold_curve

    def set_width(self, width: float) -> None:
        """Line width in pixels (dense curves are drawn 1 px wide whatever this says: see TrendWidget)."""
        if width == self._width:
            return
        self._width = width
        self._good_pen = pg.mkPen(self.color, width=width)
        self._flagged_pen = pg.mkPen(lighter(self.color), width=width, style=Qt.PenStyle.DashLine)
        self.good_curve.setPen(self._good_pen)
        self.flagged_curve.setPen(self._flagged_pen)
        self._hold_quality = None  # the hold segment takes its pen again at the next draw
        self._hold_drawn = None

    def draw(
        self, t0: float, t1: float, n_bins: int, now: float, scale: tuple[float, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Put [t0, t1] at `n_bins` columns into the curves, mapped to 0-100 % of `scale` when given (else
        shifted by `offset`), and hold the last value up to now. Returns what is drawn in engineering units
        (t, good, flagged), for autoscaling.

        When neither the data nor the column grid changed since the last draw (a live view between two
        samples), only the held segment moves: the curves keep their paths."""
        visible = self.series.visible(t0, t1, n_bins)
        shape = (scale, self.offset, self._width)
        if visible is not self._drawn_visible or shape != self._drawn_shape:
            self._set_curves(*visible, scale)
            self._drawn_visible, self._drawn_shape = visible, shape
        self._hold(min(now, t1), scale)
        return visible

    def forget_drawing(self) -> None:
        """Draw everything again next time (the pen moved to another axis, or its colour changed)."""
        self._drawn_visible = None
        self._hold_quality = None
        self._hold_drawn = None

    def _mapped(self, y: np.ndarray, scale: tuple[float, float] | None) -> np.ndarray:
        if scale is not None:
            low, high = scale
            return (y - low) * (100.0 / (high - low))
        return y + self.offset if self.offset else y

    def _set_curves(
        self, t: np.ndarray, good: np.ndarray, flagged: np.ndarray, scale: tuple[float, float] | None
    ) -> None:
        good_line, flagged_line = segment_styles(good, flagged)
        good_line, flagged_line = self._mapped(good_line, scale), self._mapped(flagged_line, scale)
        if self.steps:
            t_good, good_line = as_steps(t, good_line)
            t_flagged, flagged_line = as_steps(t, flagged_line)
        else:
            t_good = t_flagged = t
        t_good, good_line = without_repeated_gaps(t_good, good_line)
        t_flagged, flagged_line = without_repeated_gaps(t_flagged, flagged_line)
        self.good_curve.setData(t_good, good_line)
        if len(t_flagged) or len(self.flagged_curve.x):
            self.flagged_curve.setData(t_flagged, flagged_line)
        self.drawn = len(t_good) + len(t_flagged)

    def _hold(self, until: float, scale: tuple[float, float] | None) -> None:
        """The last value, flat from its sample up to `until` (now, or the view's end)."""
        latest = self.series.latest()
        if latest is None or math.isnan(latest.value) or latest.t >= until:
            if self.hold_curve.isVisible():
                self.hold_curve.hide()
            self._hold_drawn = None
            return
        key = (latest, until, scale, self.offset)
        if key == self._hold_drawn:
            return  # a paused view: nothing moved
        self._hold_drawn = key
        t, y = hold_last_value(_EMPTY, _EMPTY, (latest.t, latest.value), until, start=latest.t)
        if latest.quality != self._hold_quality:
            self._hold_quality = latest.quality
            self.hold_curve.setPen(self._good_pen if latest.quality == 0.0 else self._flagged_pen)
        self.hold_curve.setData(t, self._mapped(y, scale))
        if not self.hold_curve.isVisible():
            self.hold_curve.show()

    def release(self) -> None:
        self.binding.release()


def without_repeated_gaps(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the first NaN of each run of NaN: the rest draw nothing, and pyqtgraph splits its path at every
    NaN in a Python loop. A series with no value at all becomes empty."""
    if len(y) == 0:
        return t, y
    missing = np.isnan(y)
    if not missing.any():
        return t, y
    keep = ~missing
    if not keep.any():
        return _EMPTY, _EMPTY
    keep[1:] |= missing[1:] & ~missing[:-1]
    return t[keep], y[keep]


_EMPTY = np.empty(0, dtype=np.float64)
