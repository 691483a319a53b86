"""TrendWidget: multi-pen trend with live scrolling, zoom and pan, presets, a cursor, history and export.

Samples reach each pen's PenSeries as the bridge delivers them; nothing is drawn per sample. A timer
redraws, only while the widget is visible and only when the view moved by half a pixel or a pen got new
data: each pen's visible range is reduced to the plot's pixel width (PenSeries.visible) and set on its
curves. Dense views are drawn with 1-pixel lines (wide lines cost Qt's raster engine ~15x more per
segment and a dense min/max band does not read better thicker).

Time: live mode keeps now at the right edge; pause (the Live button, or any pan or zoom with the mouse)
freezes the view while data keeps being buffered; presets and a custom range choose the span. When the
view reaches back before the ring buffers, the HistoryLoader fetches decimated history off the GUI thread.

Values: one Y axis per distinct unit (or per configured axis name), alternating left and right, on the
engineering range of the tags (ISA-101) unless autoscale is on; or one normalised 0-100 % axis.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from hmi.bridge import Bridge
from hmi.site.trend_config import TrendConfig, TrendPenConfig, TrendTimeConfig
from widgets.trend.axes import (
    NORMALISED,
    extent,
    group_axes,
    normalised_scale,
    pan_values,
    scalable,
    zoom_values,
)
from widgets.trend.cursor import CursorReadings, PenTable, TrendCursor, format_time, pen_rows
from widgets.trend.export import CsvExport, ask_and_export_csv, ask_and_export_png, export_png
from widgets.trend.history import HistoryLoader
from widgets.trend.pens import TrendPen, pen_color
from widgets.trend.plot import PlotArea, ValueAxis
from widgets.trend.series import Reading
from widgets.trend.timerange import TimeRange
from widgets.trend.toolbar import CustomRangeDialog, TrendToolbar

log = logging.getLogger(__name__)

TABLE_PERIOD_S = 0.25  # the pen table is refreshed at most this often while the plot is redrawn
WIDE_LINE_BUDGET = 12_000  # points over all pens up to which configured widths are kept (see module doc)


class TrendWidget(QWidget):
    """GUI thread only. Call `release()` when done (it stops the timers and the subscriptions)."""

    live_changed = Signal(bool)
    view_changed = Signal(float, float)  # t0, t1 of the last redraw that moved the view
    export_finished = Signal(str, str)  # path, error ("" when written)
    open_requested = Signal(object)  # TrendConfig: show this trend in a window of its own (compact trends)

    def __init__(
        self,
        bridge: Bridge,
        pens: Sequence[str | TrendPenConfig] = (),
        *,
        span_s: float = 600.0,
        live: bool = True,
        end: float | None = None,
        normalised: bool = False,
        autoscale: bool = False,
        capacity: int = 100_000,
        redraw_hz: float = 10.0,
        compact: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.capacity = capacity
        self.pens: dict[str, TrendPen] = {}
        self.time = TimeRange(span_s, live, time.time() if end is None else end)
        self._normalised = normalised
        self._autoscale = autoscale
        self._released = False
        self._dirty = True
        self._drawn_view: tuple[float, float, int] | None = None
        self._drawn_versions: tuple[int, ...] = ()
        self._setting_range = False
        self._table_at = 0.0
        self._exports: set[CsvExport] = set()
        self._table_timer = QTimer(self)  # the pen table's catch-up after redraws it skipped (_refresh_table)
        self._table_timer.setSingleShot(True)
        self._table_timer.timeout.connect(self._update_table)

        self.toolbar = TrendToolbar(compact, self)
        self.body = QWidget(self)  # what a PNG export shows: the plot and its legend
        self.plot = PlotArea(self.body)
        self.plot.setMinimumHeight(140 if compact else 240)
        self.table = PenTable(compact, self.body)
        self.cursor = TrendCursor(self.plot.time_view, self)
        self.history = HistoryLoader(bridge, self._history_changed)
        self._readings = CursorReadings(bridge, self._update_table)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(2)
        body.addWidget(self.plot, 1)
        body.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.body, 1)

        for pen in pens:
            self._create_pen(pen)
        self._rebuild_axes()

        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / redraw_hz)))
        self._timer.timeout.connect(self.redraw)
        self._soon = QTimer(self)  # one redraw as soon as the event loop is free (after a pan, a zoom)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.redraw)

        tb = self.toolbar
        tb.live_toggled.connect(lambda on: self.go_live() if on else self.pause())
        tb.span_chosen.connect(self.set_span)
        tb.custom_requested.connect(self._choose_custom_range)
        tb.normalised_toggled.connect(self.set_normalised)
        tb.autoscale_toggled.connect(self.set_autoscale)
        tb.scales_reset.connect(self.reset_scales)
        tb.cursor_toggled.connect(lambda on: self.set_cursor(self._cursor_default() if on else None))
        tb.csv_requested.connect(lambda: ask_and_export_csv(self))
        tb.png_requested.connect(lambda: ask_and_export_png(self))
        tb.open_requested.connect(lambda: self.open_requested.emit(self.config("trend")))
        view = self.plot.time_view
        view.sigRangeChangedManually.connect(self._manual_time_range)
        view.values_zoomed.connect(self._zoom_values)
        view.values_panned.connect(self._pan_values)
        view.clicked.connect(self.set_cursor)
        self.cursor.moved.connect(self._cursor_moved)
        self.cursor.line.sigPositionChangeFinished.connect(
            lambda _line: self._readings.refine(self.cursor_time, self.pens)
        )
        self._apply_x_range(*self.view_range())
        self._show_state()

    # -- construction from / to a saved trend ------------------------------------------------------------

    @classmethod
    def from_config(cls, bridge: Bridge, config: TrendConfig, **kwargs) -> TrendWidget:
        return cls(
            bridge,
            config.pens,
            span_s=config.time.span_s,
            live=config.time.live,
            end=config.time.end_s,
            normalised=config.normalised,
            autoscale=config.autoscale,
            **kwargs,
        )

    def config(self, name: str, title: str = "") -> TrendConfig:
        """This trend as a saved trend: pens with their colours, time range and mode, value view."""
        t0, t1 = self.view_range()
        time_config = TrendTimeConfig(live=True, span_s=self.span_s) if self.is_live else TrendTimeConfig.fixed(t0, t1)
        pens = [p.config.model_copy(update={"color": p.color.name()}) for p in self.pens.values()]
        return TrendConfig(
            name=name, title=title, pens=pens, time=time_config, normalised=self._normalised, autoscale=self._autoscale
        )

    # -- pens -------------------------------------------------------------------------------------------

    def add_pen(self, pen: str | TrendPenConfig) -> TrendPen:
        created = self._create_pen(pen)
        self._rebuild_axes()
        return created

    def remove_pen(self, tag: str) -> None:
        pen = self.pens.pop(tag)
        pen.release()
        self._rebuild_axes()

    def set_pen_color(self, tag: str, color: str) -> None:
        self.pens[tag].set_color(color)
        self._rebuild_axes()

    def _create_pen(self, pen: str | TrendPenConfig) -> TrendPen:
        config = TrendPenConfig(tag=pen) if isinstance(pen, str) else pen
        if config.tag in self.pens:
            raise ValueError(f"{config.tag} is already on this trend")
        taken = {p.color.name() for p in self.pens.values()}
        color = next((pen_color(i) for i in range(64) if pen_color(i) not in taken), pen_color(len(self.pens)))
        created = TrendPen(self.bridge, config, color, self.capacity)
        self.pens[config.tag] = created
        return created

    def _rebuild_axes(self) -> None:
        axes = group_axes(list(self.pens.values()), self._normalised, self._autoscale)
        for pen in self.pens.values():
            pen.forget_drawing()
        for axis in axes:
            axis.layer.set_lines([line for pen in axis.pens for line in pen.curves])
        self.plot.set_axes(axes)
        self._update_table()
        self._dirty = True
        self._schedule()

    @property
    def axes(self) -> list[ValueAxis]:
        return self.plot.axes

    def axis_of(self, tag: str) -> ValueAxis:
        return next(a for a in self.plot.axes if any(p.tag == tag for p in a.pens))

    # -- time --------------------------------------------------------------------------------------------

    @property
    def is_live(self) -> bool:
        return self.time.live

    @property
    def span_s(self) -> float:
        return self.time.span

    def view_range(self, now: float | None = None) -> tuple[float, float]:
        return self.time.view(time.time() if now is None else now)

    def go_live(self, span_s: float | None = None) -> None:
        """Follow now at the right edge again, with the given span or the current one."""
        self._time_changed(self.time.go_live(span_s))

    def pause(self) -> None:
        """Freeze the view where it is; samples keep being recorded."""
        self._time_changed(self.time.pause(time.time()))

    def set_span(self, span_s: float) -> None:
        """A preset: the last `span_s` seconds, live (a paused view keeps its right edge)."""
        self._time_changed(self.time.set_span(span_s))

    def set_time_range(self, t0: float, t1: float) -> None:
        """Show [t0, t1] (epoch seconds); pauses a live trend."""
        self._time_changed(self.time.set_range(t0, t1))

    def _time_changed(self, live_changed: bool) -> None:
        if live_changed:
            self.live_changed.emit(self.time.live)
        self._changed()

    def _manual_time_range(self, *_args) -> None:
        """The operator panned or zoomed time with the mouse: that pauses a live trend."""
        if not self._setting_range:
            t0, t1 = (float(v) for v in self.plot.time_view.viewRange()[0])
            self._time_changed(self.time.set_range(t0, t1))

    def _choose_custom_range(self) -> None:
        dialog = CustomRangeDialog(*self.view_range(), parent=self)
        if dialog.exec():
            self.set_time_range(*dialog.time_range())

    # -- values ------------------------------------------------------------------------------------------

    @property
    def normalised(self) -> bool:
        return self._normalised

    @property
    def autoscale(self) -> bool:
        return self._autoscale

    def set_normalised(self, on: bool) -> None:
        if on != self._normalised:
            self._normalised = on
            self._rebuild_axes()
            self._show_state()

    def set_autoscale(self, on: bool) -> None:
        self._autoscale = on
        self.reset_scales()

    def reset_scales(self) -> None:
        for axis in self.plot.axes:
            axis.reset(self._autoscale and scalable(axis))
        self._changed()

    def _zoom_values(self, factor: float, scene_pos: QPointF) -> None:
        zoom_values(self.plot.axes, factor, scene_pos)
        self._changed()

    def _pan_values(self, scene_dy: float) -> None:
        pan_values(self.plot.axes, scene_dy)
        self._changed()

    # -- cursor ------------------------------------------------------------------------------------------

    @property
    def cursor_time(self) -> float | None:
        return self.cursor.time

    def set_cursor(self, t: float | None) -> None:
        """Place the value cursor at `t` (epoch seconds), or remove it with None."""
        self.cursor.place(t)
        self._show_state()
        self._readings.refine(t, self.pens)
        self._update_table()

    def readings(self, t: float | None = None) -> dict[str, Reading | None]:
        """Every pen's reading at `t` (default: the cursor; without a cursor, the newest sample). Where the
        view shows decimated history, the reading is refined from the raw samples when they arrive."""
        return self._readings.at(self.cursor_time if t is None else t, self.pens)

    def _cursor_default(self) -> float:
        t0, t1 = self.view_range()
        return t0 + (t1 - t0) * 0.75

    def _cursor_moved(self, _t: float) -> None:
        self._update_table()

    # -- export ------------------------------------------------------------------------------------------

    def export_csv(
        self, path: Path | str, on_done: Callable[[Path, Exception | None], None] | None = None
    ) -> CsvExport:
        """Write every sample of the visible range to `path` (asynchronously: history is read on the
        reader threads, the file written on a worker thread). `export_finished` tells when it is done."""
        t0, t1 = self.view_range()
        pens = [(tag, pen.units, pen.series) for tag, pen in self.pens.items()]

        def done(written: Path, error: Exception | None) -> None:
            self._exports.discard(export)
            if on_done is not None:
                on_done(written, error)
            if not self._released:
                self.export_finished.emit(str(written), "" if error is None else str(error))

        export = CsvExport(self.bridge, pens, t0, t1, Path(path), done)
        self._exports.add(export)  # alive until done: its answer comes back through a queued signal
        export.start()
        return export

    def export_png(self, path: Path | str) -> bool:
        """Save the plot and the pen table as a PNG."""
        self.redraw(force=True)
        self._update_table()
        return export_png(self.body, Path(path))

    # -- drawing -----------------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._dirty = True
        self._show_state()
        self._schedule()

    def _schedule(self) -> None:
        if not self._released and self.isVisible():
            self._soon.start()

    def _history_changed(self) -> None:
        self._dirty = True
        self._schedule()

    def redraw(self, force: bool = False) -> bool:
        """Draw the current view if it moved or a pen has new data (the timer's slot; public so tests and
        benchmarks can drive it). Returns whether anything was drawn."""
        if self._released or not (force or self.isVisible()):
            return False
        now = time.time()
        t0, t1 = self.view_range(now)
        n_bins = self.plot.pixel_width()
        pens = list(self.pens.values())
        versions = tuple(p.series.version for p in pens)
        self.history.poll([(p.tag, p.series) for p in pens], t0, t1, n_bins, now)
        self.plot.grid.refresh()
        if not (force or self._dirty or self._moved(t0, t1, n_bins) or versions != self._drawn_versions):
            self._show_loading()
            return False
        self._apply_x_range(t0, t1)
        visible = {p.tag: p.series.visible(t0, t1, n_bins) for p in pens}
        wide = sum(len(v[0]) for v in visible.values()) <= WIDE_LINE_BUDGET
        for axis in self.plot.axes:
            low, high = math.inf, -math.inf
            for pen in axis.pens:
                pen.set_width(pen.config.width if wide else 1.0)
                scale = normalised_scale(pen, visible[pen.tag], self._autoscale) if axis.key == NORMALISED else None
                pen.draw(t0, t1, n_bins, now, scale)
                if axis.mode == "auto":
                    pen_low, pen_high = extent(visible[pen.tag], pen.series.latest(), t1)
                    low, high = min(low, pen_low), max(high, pen_high)
            if axis.mode == "auto" and low <= high:
                axis.autoscale(low, high)
        self._drawn_view = (t0, t1, n_bins)
        self._drawn_versions = versions
        self._dirty = False
        self._refresh_table(now)
        self._show_loading()
        if not self.is_live:
            self._show_state()
        self.view_changed.emit(t0, t1)
        return True

    def _moved(self, t0: float, t1: float, n_bins: int) -> bool:
        if self._drawn_view is None:
            return True
        d0, d1, dn = self._drawn_view
        half_pixel = (t1 - t0) / n_bins / 2
        return dn != n_bins or abs(t0 - d0) >= half_pixel or abs(t1 - d1) >= half_pixel

    def _apply_x_range(self, t0: float, t1: float) -> None:
        self._setting_range = True
        try:
            self.plot.time_view.setXRange(t0, t1, padding=0)
            # pyqtgraph applies a new range lazily, from inside the next paint, and the items it moves then
            # ask for another paint: every frame of a scrolling trend was painted twice. Apply it now.
            for view in (self.plot.time_view, self.plot.grid.view, *(axis.view for axis in self.plot.axes)):
                view.updateMatrix()
        finally:
            self._setting_range = False

    def _show_loading(self) -> None:
        if self.history.loading:
            text = "loading history…"
        elif self.history.error:
            text = "history unavailable"
        else:
            text = ""
        if text or self.toolbar.loading_label.text() in ("loading history…", "history unavailable"):
            self.toolbar.show_loading(text)
        self.toolbar.loading_label.setToolTip(self.history.error)

    def _show_state(self) -> None:
        t0, t1 = self.view_range()
        self.toolbar.show_state(self.is_live, t0, t1, self._normalised, self._autoscale, self.cursor_time is not None)

    def _refresh_table(self, now: float) -> None:
        """The table after a redraw, at most every TABLE_PERIOD_S: a scroll or a pan redraws 60 times a second,
        numbers are read a few times a second. The last change is always shown (a timer catches up)."""
        wait = self._table_at + TABLE_PERIOD_S - now
        if wait <= 0:
            self._update_table()
        elif not self._table_timer.isActive():
            self._table_timer.start(max(1, math.ceil(wait * 1000)))

    def _update_table(self) -> None:
        self._table_timer.stop()
        self._table_at = time.time()
        cursor = self.cursor_time
        self.table.set_value_title("Now" if cursor is None else f"At {format_time(cursor)}")
        self.table.show_rows(pen_rows(self.plot.axes, self.readings(), cursor is None, self._autoscale))

    # -- lifecycle ---------------------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._released:
            self._dirty = True
            self._timer.start()
            self._soon.start()

    def hideEvent(self, event) -> None:
        self._timer.stop()
        self._soon.stop()
        self._table_timer.stop()
        super().hideEvent(event)

    def release(self) -> None:
        """Stop drawing, loading and listening (the widget can then be deleted)."""
        self._released = True
        self._timer.stop()
        self._soon.stop()
        self._table_timer.stop()
        self.history.close()
        self._readings.close()
        for pen in self.pens.values():
            pen.release()
