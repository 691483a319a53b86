"""The time cursor and the pen table (the trend's legend, and where the cursor's readings are shown).

The cursor is a vertical line the operator drags, or places by clicking the plot. The pen table lists
every pen with its colour, name, value, units, quality and scale: the value is the one at the cursor (the
last sample at or before it) when a cursor is placed, else the live one. Quality is spelled out ("bad",
"uncertain", "comm lost") in the quality colour, never only hinted at in a tooltip.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from hmi.bridge import Bridge
from hmi.storage.history_query import HistorySlice
from widgets.style import BAD_DATA, TEXT, UNCERTAIN
from widgets.trend.axes import scale_text
from widgets.trend.pens import TrendPen
from widgets.trend.plot import ValueAxis
from widgets.trend.series import Q_FLAGGED, Q_NO_VALUE, Reading, history_samples

log = logging.getLogger(__name__)

QUALITY_TEXT = {
    0.0: "",
    1.0: "uncertain",
    2.0: "bad",
    3.0: "comm lost",
    Q_FLAGGED: "bad or uncertain",
    Q_NO_VALUE: "no value",
}
COLUMNS = ["", "Pen", "Value", "Units", "Quality", "Scale"]
SWATCH, PEN, VALUE, UNITS, QUALITY, SCALE = range(len(COLUMNS))


def quality_text(code: float | None) -> str:
    return "no data" if code is None else QUALITY_TEXT.get(code, "bad")


def quality_colour(code: float | None) -> QColor:
    if code == 0.0:
        return TEXT
    if code == 1.0:
        return UNCERTAIN
    return BAD_DATA


def format_time(t: float, with_ms: bool = False) -> str:
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))
    return f"{text}.{int(math.modf(t)[0] * 1000):03d}" if with_ms else text


class TrendCursor(QObject):
    """A draggable vertical line in the time view, labelled with its time."""

    moved = Signal(float)

    def __init__(self, view: pg.ViewBox, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.line = pg.InfiniteLine(
            angle=90,
            movable=True,
            pen=pg.mkPen(TEXT, width=1),
            hoverPen=pg.mkPen(TEXT, width=3),
            label="",
            labelOpts={"position": 0.97, "color": TEXT, "fill": (232, 232, 232, 220), "anchors": [(0, 0), (0, 0)]},
        )
        self.line.setZValue(30)
        self.line.hide()
        view.addItem(self.line, ignoreBounds=True)
        self.line.sigPositionChanged.connect(self._moved)

    @property
    def time(self) -> float | None:
        return float(self.line.value()) if self.line.isVisible() else None

    def place(self, t: float | None) -> None:
        if t is None:
            self.line.hide()
            return
        self.line.show()
        self.line.setValue(t)
        self._label(t)

    def _moved(self) -> None:
        t = float(self.line.value())
        self._label(t)
        self.moved.emit(t)

    def _label(self, t: float) -> None:
        self.line.label.setFormat(format_time(t))


class CursorReadings:
    """Every pen's reading at the cursor time. Where the view shows decimated history, the reading is
    refined: the raw samples between the decimated point and the cursor (a pixel column's worth) are read
    off the GUI thread, and the last of them is the exact reading. `on_refined()` then redraws the table."""

    def __init__(self, bridge: Bridge, on_refined: Callable[[], None]) -> None:
        self.bridge = bridge
        self._on_refined = on_refined
        self._at: float | None = None
        self._exact: dict[str, Reading] = {}
        self._closed = False

    def at(self, t: float | None, pens: Mapping[str, TrendPen]) -> dict[str, Reading | None]:
        """Readings at `t`; without a time, the newest sample of each pen."""
        if t is None:
            return {tag: pen.series.latest() for tag, pen in pens.items()}
        exact = self._exact if t == self._at else {}
        return {tag: exact.get(tag) or pen.series.value_at(t) for tag, pen in pens.items()}

    def refine(self, t: float | None, pens: Mapping[str, TrendPen]) -> None:
        self._at, self._exact = t, {}
        if t is None or self._closed:
            return
        for tag, pen in pens.items():
            reading = pen.series.value_at(t)
            if reading is None or reading.exact:
                continue
            try:
                self.bridge.query_history(
                    tag, reading.t, t, None, lambda part, error, tag=tag, t=t: self._refined(tag, t, part, error)
                )
            except Exception as exc:  # the runtime is stopping: the decimated reading stays
                log.debug("no exact reading for %s: %s", tag, exc)

    def close(self) -> None:
        self._closed = True

    def _refined(self, tag: str, t: float, part: HistorySlice | None, error: Exception | None) -> None:
        if self._closed or t != self._at or error is not None or part is None or not len(part.t):
            return
        times, values, qualities = history_samples(part)
        self._exact[tag] = Reading(float(times[-1]), float(values[-1]), float(qualities[-1]), True)
        self._on_refined()


def pen_rows(axes: list[ValueAxis], readings: Mapping[str, Reading | None], live: bool, autoscale: bool) -> list[Row]:
    """The pen table's rows, in axis order; `live`: the readings are the newest samples (no cursor), whose
    quality and the protocol's reason for it come from the last update."""
    rows = []
    for axis in axes:
        for pen in axis.pens:
            reading = readings.get(pen.tag)
            last = pen.binding.last if live else None
            quality = float(last.quality) if last is not None else None if reading is None else reading.quality
            rows.append(
                Row(
                    pen.color,
                    pen.label,
                    pen.tag,
                    pen.format(reading),
                    pen.units,
                    quality,
                    scale_text(axis, pen, autoscale),
                    last.detail if last is not None else "",
                )
            )
    return rows


@dataclass(frozen=True)
class Row:
    """One line of the pen table."""

    color: QColor
    label: str
    tag: str
    value: str
    units: str
    quality: float | None  # a quality code (see series), or None when nothing is known
    scale: str
    detail: str = ""  # the protocol's reason for a bad quality, shown in the tooltip


class PenTable(QTableWidget):
    """Legend and readings, one row per pen. Updated in place (no flicker, no reallocation)."""

    def __init__(self, compact: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(SWATCH, QHeaderView.ResizeMode.Fixed)
        self.setColumnWidth(SWATCH, 14)
        for column in (PEN, VALUE, UNITS, QUALITY, SCALE):  # names next to their values, not across the panel
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.verticalHeader().setDefaultSectionSize(20)
        self._max_rows = 3 if compact else 8
        if compact:  # on an overview screen: name, value, units, quality; no header
            self.setColumnHidden(SCALE, True)
            header.hide()
        self._rows: list[Row] = []

    def set_value_title(self, title: str) -> None:
        item = self.horizontalHeaderItem(VALUE)
        if item is not None and item.text() != title:
            item.setText(title)

    def show_rows(self, rows: list[Row]) -> None:
        if rows == self._rows:
            return
        if len(rows) != self.rowCount():
            self.setRowCount(len(rows))
            self._fit_height(len(rows))
        for r, row in enumerate(rows):
            if r < len(self._rows) and self._rows[r] == row:
                continue
            swatch = self._item(r, SWATCH, "")
            swatch.setBackground(QBrush(row.color))
            pen = self._item(r, PEN, row.label)
            pen.setToolTip(row.tag)
            value = self._item(r, VALUE, row.value)
            value.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            colour = quality_colour(row.quality)
            value.setForeground(QBrush(colour))
            self._item(r, UNITS, row.units)
            quality = self._item(r, QUALITY, quality_text(row.quality))
            quality.setForeground(QBrush(colour))
            quality.setToolTip(row.detail)
            self._item(r, SCALE, row.scale)
        self._rows = list(rows)

    def _item(self, row: int, column: int, text: str) -> QTableWidgetItem:
        item = self.item(row, column)
        if item is None:
            item = QTableWidgetItem(text)
            self.setItem(row, column, item)
        elif item.text() != text:
            item.setText(text)
        return item

    def _fit_height(self, rows: int) -> None:
        visible = min(max(rows, 1), self._max_rows)
        header = self.horizontalHeader()
        header_height = header.sizeHint().height() if not header.isHidden() else 0
        height = header_height + visible * self.verticalHeader().defaultSectionSize() + 4
        self.setFixedHeight(height)

    def text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item is not None else ""
