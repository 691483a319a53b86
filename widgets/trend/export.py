"""Exporting a trend: every sample of the visible range to CSV, and the view to PNG.

CSV: one row per timestamp (ISO 8601 UTC, microseconds), and per pen a value column and a quality column;
a pen without a sample at that timestamp has empty cells. The samples are every sample the historian holds
for the range (read on its reader threads, not decimated), followed by the live ring buffer's samples newer
than the last committed one (the historian commits about once a second). The file is formatted and written
on a worker thread; `write_csv` itself is a plain function, testable without any of that.
UTF-8 with a byte-order mark, so spreadsheet programs read units like "m³/h" correctly.
"""

from __future__ import annotations

import csv
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from hmi.bridge import Bridge
from hmi.storage.history_query import HistorySlice
from widgets.trend.series import QUALITY_NAMES, PenSeries, history_samples

if TYPE_CHECKING:
    from widgets.trend.widget import TrendWidget

log = logging.getLogger(__name__)

ExportDone = Callable[[Path, Exception | None], None]


@dataclass(frozen=True)
class ExportColumn:
    """One pen's samples for export: t ascending, value (NaN: none), quality code (see series)."""

    tag: str
    units: str
    t: np.ndarray
    value: np.ndarray
    quality: np.ndarray


def pen_samples(
    part: HistorySlice | None, series: PenSeries, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every sample of a pen in [t0, t1]: the history, then the live samples newer than its last one."""
    t, value, quality = history_samples(part) if part is not None else (np.empty(0),) * 3
    after = float(t[-1]) if len(t) else -math.inf
    live_t, live_value, live_quality = series.live_samples(t0, t1)
    newer = live_t > after
    return (
        np.concatenate((t, live_t[newer])),
        np.concatenate((value, live_value[newer])),
        np.concatenate((quality, live_quality[newer])),
    )


def iso_utc(t: np.ndarray) -> np.ndarray:
    """Epoch seconds as ISO 8601 UTC strings with microseconds, e.g. 2025-03-01T12:00:00.250000Z."""
    micros = np.round(t * 1e6).astype(np.int64).astype("datetime64[us]")
    return np.datetime_as_string(micros, unit="us", timezone="UTC")


def write_csv(path: Path, columns: Sequence[ExportColumn]) -> int:
    """Write the columns side by side on the union of their timestamps; returns the number of rows."""
    stamps = np.unique(np.concatenate([c.t for c in columns])) if columns else np.empty(0)
    table: list[list[str]] = [iso_utc(stamps).tolist()]
    header = ["time_utc"]
    for column in columns:
        header += [f"{column.tag} [{column.units}]" if column.units else column.tag, f"{column.tag} quality"]
        rows = np.searchsorted(stamps, column.t)
        values = np.full(len(stamps), "", dtype=object)
        has_value = ~np.isnan(column.value)
        values[rows[has_value]] = column.value[has_value].astype(str)
        qualities = np.full(len(stamps), "", dtype=object)
        qualities[rows] = quality_names(column.quality)
        table += [values.tolist(), qualities.tolist()]
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(zip(*table, strict=True))
    temporary.replace(path)
    return len(stamps)


def quality_names(quality: np.ndarray) -> np.ndarray:
    """The name of every quality code (the codes are few: one vectorised comparison per code)."""
    names = np.full(len(quality), "BAD", dtype=object)
    for code, name in QUALITY_NAMES.items():
        names[quality == code] = name
    return names


def export_png(widget: QWidget, path: Path) -> bool:
    """Save what the widget shows as a PNG."""
    return widget.grab().save(str(path), "PNG")


def ask_and_export_csv(trend: TrendWidget) -> None:
    """The CSV… button: where to, then export; a failure is reported, success shown in the toolbar."""
    path, _ = QFileDialog.getSaveFileName(
        trend, "Export the visible range to CSV", time.strftime("trend-%Y%m%d-%H%M%S.csv"), "CSV files (*.csv)"
    )

    def done(written: Path, error: Exception | None) -> None:
        if error is not None:
            QMessageBox.warning(trend, "Trend", f"CSV export to {written} failed:\n{error}")
        else:
            trend.toolbar.show_loading(f"exported to {written.name}")

    if path:
        trend.export_csv(path, done)


def ask_and_export_png(trend: TrendWidget) -> None:
    """The PNG… button."""
    path, _ = QFileDialog.getSaveFileName(
        trend, "Save the trend as an image", time.strftime("trend-%Y%m%d-%H%M%S.png"), "PNG images (*.png)"
    )
    if path and not trend.export_png(path):
        QMessageBox.warning(trend, "Trend", f"Could not write {path}.")


class _Relay(QObject):
    finished = Signal(object, object)  # path, error: emitted on the worker thread, received on the GUI thread


class CsvExport:
    """Collects every pen's samples in [t0, t1] (history on the reader threads, the ring here), then
    writes the file on a worker thread; `on_done(path, error)` is called on the GUI thread."""

    def __init__(
        self,
        bridge: Bridge,
        pens: Sequence[tuple[str, str, PenSeries]],
        t0: float,
        t1: float,
        path: Path,
        on_done: ExportDone,
    ) -> None:
        self.bridge = bridge
        self.pens = list(pens)
        self.t0, self.t1 = t0, t1
        self.path = Path(path)
        self.rows = 0
        self._on_done = on_done
        self._parts: dict[str, HistorySlice | None] = {}
        self._error: Exception | None = None
        self._relay = _Relay()
        self._relay.finished.connect(self._finished)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.pens:
            self._write([])
            return
        for tag, _units, _series in self.pens:
            try:
                self.bridge.query_history(
                    tag, self.t0, self.t1, None, lambda part, error, tag=tag: self._answered(tag, part, error)
                )
            except Exception as exc:
                self._answered(tag, None, exc)

    def _answered(self, tag: str, part: HistorySlice | None, error: Exception | None) -> None:
        if error is not None and self._error is None:
            self._error = error
        self._parts[tag] = part
        if len(self._parts) < len(self.pens):
            return
        if self._error is not None:
            self._finished(self.path, RuntimeError(f"could not read the history: {self._error}"))
            return
        columns = [
            ExportColumn(tag, units, *pen_samples(self._parts[tag], series, self.t0, self.t1))
            for tag, units, series in self.pens
        ]
        self._write(columns)

    def _write(self, columns: list[ExportColumn]) -> None:
        def work() -> None:
            try:
                self.rows = write_csv(self.path, columns)
                error = None
            except Exception as exc:
                log.warning("CSV export to %s failed: %s", self.path, exc)
                error = exc
            try:
                self._relay.finished.emit(self.path, error)
            except RuntimeError:  # the widget (and its relay) went away while writing
                pass

        self._thread = threading.Thread(target=work, name="trend-csv-export", daemon=True)
        self._thread.start()

    def _finished(self, path: Path, error: Exception | None) -> None:
        self._on_done(path, error)
