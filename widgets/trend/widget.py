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

import numpy as np
from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QVBoxLayout, QWidget

import ext
from hmi.bridge import Bridge
from hmi.site.trend_config import TrendConfig, TrendPenConfig, TrendTimeConfig
from hmi.storage.history_query import HistorySlice
from widgets.trend.cursor import PenTable, Row, TrendCursor, format_time
from widgets.trend.export import CsvExport, export_png, history_samples
from widgets.trend.history import HistoryLoader
from widgets.trend.pens import STATE_BAND, STATES_AXIS, TrendPen, pen_color
from widgets.trend.plot import PlotArea, Scale, ValueAxis
from widgets.trend.series import Reading
from widgets.trend.toolbar import CustomRangeDialog, TrendToolbar

log = logging.getLogger(__name__)

WIDE_LINE_BUDGET = 12_000  # points over all pens up to which configured widths are kept (see module doc)
NORMALISED = "\x00normalised"  # the key of the one normalised axis (never a unit or axis name)


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
        self._live = live
        self._span = float(span_s)
        end = time.time() if end is None else end
        self._range = (end - self._span, end)
        self._normalised = normalised
        self._autoscale = autoscale
        self._released = False
        self._dirty = True
        self._drawn_view: tuple[float, float, int] | None = None
        self._drawn_versions: tuple[int, ...] = ()
        self._setting_range = False
        self._exports: set[CsvExport] = set()
        self._exact_at: float | None = None  # the cursor time the exact readings below are for
        self._exact: dict[str, Reading] = {}

        self.toolbar = TrendToolbar(compact, self)
        self.body = QWidget(self)  # what a PNG export shows: the plot and its legend
        self.plot = PlotArea(self.body)
        self.plot.setMinimumHeight(140 if compact else 240)
        self.table = PenTable(compact, self.body)
        self.cursor = TrendCursor(self.plot.time_view, self)
        self.history = HistoryLoader(bridge, self._history_changed)
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
        tb.csv_requested.connect(self._choose_csv)
        tb.png_requested.connect(self._choose_png)
        tb.open_requested.connect(lambda: self.open_requested.emit(self.config("trend")))
        view = self.plot.time_view
        view.sigRangeChangedManually.connect(self._manual_time_range)
        view.values_zoomed.connect(self._zoom_values)
        view.values_panned.connect(self._pan_values)
        view.clicked.connect(self.set_cursor)
        self.cursor.moved.connect(self._cursor_moved)
        self.cursor.line.sigPositionChangeFinished.connect(lambda _line: self._refine_readings(self.cursor_time))
        self._apply_x_range(*self._view_now(time.time()))
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
        time_config = TrendTimeConfig(live=True, span_s=self._span) if self._live else TrendTimeConfig.fixed(t0, t1)
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
        for curve in pen.curves:
            view = curve.getViewBox()
            if view is not None:
                view.removeItem(curve)
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
        groups: dict[str, list[TrendPen]] = {}
        for pen in self.pens.values():
            pen.offset = 0.0
            key = NORMALISED if self._normalised and pen.axis_key != STATES_AXIS else pen.axis_key
            groups.setdefault(key, []).append(pen)
        axes = []
        for index, (key, pens) in enumerate(groups.items()):
            side = "left" if index % 2 == 0 else "right"
            single = pens[0].color if len(pens) == 1 else None
            if key == NORMALISED:
                axis = ValueAxis(key, "% of range", None, side, (0.0, 100.0), False)
            elif key == STATES_AXIS:
                axis = self._states_axis(pens, side, single)
            else:
                ranges = [p.engineering_range() for p in pens]
                fixed = (min(r[0] for r in ranges if r), max(r[1] for r in ranges if r)) if all(ranges) else None
                units = pens[0].units
                label = units if units and not pens[0].config.axis else (pens[0].config.axis or pens[0].label)
                axis = ValueAxis(key, label, single, side, fixed, self._autoscale)
            axis.pens = pens
            axes.append(axis)
        for pen in self.pens.values():
            pen.forget_drawing()
            for curve in pen.curves:
                view = curve.getViewBox()
                if view is not None:
                    view.removeItem(curve)
        for axis in axes:
            for pen in axis.pens:
                for curve in pen.curves:
                    axis.view.addItem(curve)
        self.plot.set_axes(axes)
        self._update_table()
        self._dirty = True
        self._schedule()

    @staticmethod
    def _states_axis(pens: list[TrendPen], side: str, color) -> ValueAxis:
        """On/off pens, each in a band of its own stacked from the bottom, ticks saying OFF/ON."""
        ticks = []
        for place, pen in enumerate(pens):
            pen.offset = place * STATE_BAND
            spec = pen.binding.spec
            ticks += [(pen.offset, spec.off_text), (pen.offset + 1.0, spec.on_text)]
        top = max(5.0, len(pens) * STATE_BAND + 1.0)  # one pen takes the bottom fifth of the plot
        axis = ValueAxis(STATES_AXIS, pens[0].label if len(pens) == 1 else "on/off", color, side, (-0.3, top), False)
        axis.axis.setTicks([ticks, []])
        return axis

    @property
    def axes(self) -> list[ValueAxis]:
        return self.plot.axes

    def axis_of(self, tag: str) -> ValueAxis:
        return next(a for a in self.plot.axes if any(p.tag == tag for p in a.pens))

    # -- time --------------------------------------------------------------------------------------------

    @property
    def is_live(self) -> bool:
        return self._live

    @property
    def span_s(self) -> float:
        return self._span

    def view_range(self, now: float | None = None) -> tuple[float, float]:
        return self._view_now(time.time() if now is None else now)

    def go_live(self, span_s: float | None = None) -> None:
        """Follow now at the right edge again, with the given span or the current one."""
        if span_s is not None:
            self._span = float(span_s)
        else:
            t0, t1 = self._range
            self._span = t1 - t0 if not self._live else self._span
        self._set_live(True)

    def pause(self) -> None:
        """Freeze the view where it is; samples keep being recorded."""
        if self._live:
            self._range = self._view_now(time.time())
            self._set_live(False)

    def set_span(self, span_s: float) -> None:
        """A preset: the last `span_s` seconds, live (a paused view keeps its right edge)."""
        if self._live:
            self._span = float(span_s)
            self._changed()
        else:
            end = self._range[1]
            self.set_time_range(end - span_s, end)

    def set_time_range(self, t0: float, t1: float) -> None:
        """Show [t0, t1] (epoch seconds); pauses a live trend."""
        if not t1 > t0:
            raise ValueError(f"the time range must end after it starts: {t0} .. {t1}")
        self._range = (float(t0), float(t1))
        self._span = t1 - t0
        if self._live:
            self._set_live(False)
        else:
            self._changed()

    def _set_live(self, live: bool) -> None:
        self._live = live
        self.live_changed.emit(live)
        self._changed()

    def _view_now(self, now: float) -> tuple[float, float]:
        return (now - self._span, now) if self._live else self._range

    def _manual_time_range(self, *_args) -> None:
        if self._setting_range:
            return
        t0, t1 = (float(v) for v in self.plot.time_view.viewRange()[0])
        self._range = (t0, t1)
        self._span = t1 - t0
        if self._live:
            self._live = False
            self.live_changed.emit(False)
        self._changed()

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
            axis.reset(self._autoscale and axis.key not in (NORMALISED, STATES_AXIS))
        self._changed()

    def _zoom_values(self, factor: float, scene_pos: QPointF) -> None:
        for axis in self.plot.axes:
            center = axis.view.mapSceneToView(scene_pos)
            axis.view.scaleBy(y=factor, center=center)
            axis.mode = "manual"
        self._changed()

    def _pan_values(self, scene_dy: float) -> None:
        for axis in self.plot.axes:
            low, high = axis.view.viewRange()[1]
            axis.view.translateBy(y=scene_dy * (high - low) / max(1.0, axis.view.height()))
            axis.mode = "manual"
        self._changed()

    # -- cursor ------------------------------------------------------------------------------------------

    @property
    def cursor_time(self) -> float | None:
        return self.cursor.time

    def set_cursor(self, t: float | None) -> None:
        """Place the value cursor at `t` (epoch seconds), or remove it with None."""
        self.cursor.place(t)
        self._show_state()
        self._refine_readings(t)
        self._update_table()

    def readings(self, t: float | None = None) -> dict[str, Reading | None]:
        """Every pen's reading at `t` (default: the cursor; without a cursor, the newest sample). Where the
        view shows decimated history, the reading is refined from the raw samples when they arrive."""
        t = self.cursor_time if t is None else t
        if t is None:
            return {tag: pen.series.latest() for tag, pen in self.pens.items()}
        exact = self._exact if t == self._exact_at else {}
        return {tag: exact.get(tag) or pen.series.value_at(t) for tag, pen in self.pens.items()}

    def _refine_readings(self, t: float | None) -> None:
        """For pens read from decimated history at `t`, fetch the raw samples between the decimated point
        and `t` (a pixel column's worth) off the GUI thread: the last of them is the exact reading."""
        self._exact_at, self._exact = t, {}
        if t is None or self._released:
            return
        for tag, pen in self.pens.items():
            reading = pen.series.value_at(t)
            if reading is None or reading.exact:
                continue
            try:
                self.bridge.query_history(
                    tag, reading.t, t, None, lambda part, error, tag=tag, t=t: self._refined(tag, t, part, error)
                )
            except Exception as exc:  # the runtime is stopping: the decimated reading stays
                log.debug("no exact reading for %s: %s", tag, exc)

    def _refined(self, tag: str, t: float, part: HistorySlice | None, error: Exception | None) -> None:
        if self._released or t != self._exact_at or error is not None or part is None or not len(part.t):
            return
        times, values, qualities = history_samples(part)
        self._exact[tag] = Reading(float(times[-1]), float(values[-1]), float(qualities[-1]), True)
        self._update_table()

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
        return export_png(self.body, Path(path))

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the visible range to CSV", time.strftime("trend-%Y%m%d-%H%M%S.csv"), "CSV files (*.csv)"
        )
        if path:
            self.export_csv(path, lambda written, error: self._report_export(written, error))

    def _choose_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the trend as an image", time.strftime("trend-%Y%m%d-%H%M%S.png"), "PNG images (*.png)"
        )
        if path and not self.export_png(path):
            QMessageBox.warning(self, "Trend", f"Could not write {path}.")

    def _report_export(self, path: Path, error: Exception | None) -> None:
        if self._released:
            return
        if error is not None:
            QMessageBox.warning(self, "Trend", f"CSV export to {path} failed:\n{error}")
        else:
            self.toolbar.show_loading(f"exported to {path.name}")

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
        t0, t1 = self._view_now(now)
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
                scale = self._pen_scale(pen, visible[pen.tag]) if axis.key == NORMALISED else None
                pen.draw(t0, t1, n_bins, now, scale)
                if axis.mode == "auto":
                    pen_low, pen_high = _extent(visible[pen.tag], pen.series.latest(), t1)
                    low, high = min(low, pen_low), max(high, pen_high)
            if axis.mode == "auto" and low <= high:
                axis.autoscale(low, high)
        self._drawn_view = (t0, t1, n_bins)
        self._drawn_versions = versions
        self._dirty = False
        self._update_table()
        self._show_loading()
        if not self._live:
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
        finally:
            self._setting_range = False

    def _pen_scale(self, pen: TrendPen, visible: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Scale:
        """What 0-100 % means for a pen in the normalised view."""
        fixed = pen.engineering_range()
        if fixed is not None and not self._autoscale:
            return fixed
        low, high = _extent(visible, pen.series.latest(), math.inf)
        if not low <= high:
            return fixed or (0.0, 1.0)
        if high - low < 1e-9 * max(1.0, abs(high)):
            return low - 1.0, high + 1.0
        return low, high

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
        t0, t1 = self._view_now(time.time())
        self.toolbar.show_state(self._live, t0, t1, self._normalised, self._autoscale, self.cursor_time is not None)

    def _update_table(self) -> None:
        cursor = self.cursor_time
        self.table.set_value_title("Now" if cursor is None else f"At {format_time(cursor)}")
        readings = self.readings()
        rows = []
        for axis in self.plot.axes:
            for pen in axis.pens:
                reading = readings.get(pen.tag)
                last = pen.binding.last
                live = cursor is None and last is not None
                quality = None if reading is None else reading.quality
                if live and last is not None:
                    quality = float(last.quality)
                rows.append(
                    Row(
                        pen.color,
                        pen.label,
                        pen.tag,
                        pen.format(reading),
                        pen.units,
                        quality,
                        self._scale_text(axis, pen),
                        last.detail if live and last is not None else "",
                    )
                )
        self.table.show_rows(rows)

    def _scale_text(self, axis: ValueAxis, pen: TrendPen) -> str:
        fixed = pen.engineering_range()
        if axis.key == STATES_AXIS:
            return f"{pen.binding.spec.off_text}/{pen.binding.spec.on_text}"
        if axis.key == NORMALISED:
            return f"{fixed[0]:g} – {fixed[1]:g} = 0–100 %" if fixed and not self._autoscale else "auto = 0–100 %"
        if axis.mode == "auto":
            return "auto"
        low, high = axis.y_range() if axis.mode == "manual" else (fixed or axis.y_range())
        return f"{low:.4g} – {high:.4g}" + (" (zoomed)" if axis.mode == "manual" else "")

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
        super().hideEvent(event)

    def release(self) -> None:
        """Stop drawing, loading and listening (the widget can then be deleted)."""
        self._released = True
        self._timer.stop()
        self._soon.stop()
        self.history.close()
        for pen in self.pens.values():
            pen.release()


def _extent(
    visible: tuple[np.ndarray, np.ndarray, np.ndarray], latest: Reading | None, t1: float
) -> tuple[float, float]:
    """Min and max of what is drawn (good and flagged), including a held last value."""
    _t, good, flagged = visible
    low, high = math.inf, -math.inf
    for series in (good, flagged):
        if len(series):
            lo, hi = ext.nan_aware_minmax(series)
            if lo <= hi:
                low, high = min(low, lo), max(high, hi)
    if latest is not None and math.isfinite(latest.value) and latest.t <= t1:
        low, high = min(low, latest.value), max(high, latest.value)
    return low, high
