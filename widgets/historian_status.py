"""The status-bar indicator of the historian, next to the connections': plain grey while history is recorded,
amber with words when it is not (ISA-101: colour only for the abnormal, and never colour alone).

    HISTORY: recording            the database takes the rows (tooltip: where, rows, size, free space)
    HISTORY: NOT RECORDING        the last open or commit failed; the reason is in the tooltip
    HISTORY: 12,345 rows waiting  rows have waited several flush intervals for the database
    HISTORY: 1,200 rows lost      the backlog overflowed since the start: history has a gap
    HISTORY: no status            the runtime has not answered for a while

The status is asked for every `refresh_ms` through the bridge (the io loop answers; the GUI never waits).
"""

from __future__ import annotations

import html
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from hmi.bridge import Bridge
from widgets.style import ABNORMAL, UNCERTAIN

STALE_AFTER_S = 10.0  # no answer for this long: the indicator says it does not know
_FRAME = " border: 1px solid #888; padding: 1px 4px;"
NORMAL_STYLE = "color: #222;" + _FRAME
ABNORMAL_STYLE = f"background: {ABNORMAL.name()}; color: black; font-weight: bold;" + _FRAME
UNKNOWN_STYLE = f"color: {UNCERTAIN.name()};" + _FRAME


DIALECTS = {"sqlite": "SQLite file", "postgresql": "PostgreSQL"}


def format_bytes(count: int | None) -> str:
    """A size as people read it: 512 B, 12.3 kB, 1.2 GB (decimal units, as disks are sold)."""
    if count is None:
        return "unknown"
    size = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            break
        size /= 1000
    return f"{count} B" if unit == "B" else f"{size:.1f} {unit}" if abs(size) < 100 else f"{size:.0f} {unit}"


def format_retention(retention: dict[str, float | None]) -> str:
    def days(value: float | None) -> str:
        return "forever" if value is None else f"{value:g} day" + ("" if value == 1 else "s")

    return (f"raw {days(retention.get('raw_days'))}, 1-minute {days(retention.get('minute_days'))}, "
            f"1-hour {days(retention.get('hour_days'))}")


def format_disk(status: dict[str, Any]) -> str:
    """The size on disk in one line (SQLite: with its write-ahead log and the free pages it reuses)."""
    disk = status.get("disk")
    if disk is None:
        return status.get("usage_error") or "not known while the database is not open"
    parts = []
    if disk.get("wal_bytes"):
        parts.append(f"write-ahead log {format_bytes(disk['wal_bytes'])}")
    if disk.get("reusable_bytes"):
        parts.append(f"{format_bytes(disk['reusable_bytes'])} freed by retention, reused by new rows")
    return format_bytes(disk["bytes"]) + (f" ({'; '.join(parts)})" if parts else "")


def headline(status: dict[str, Any]) -> str:
    """The indicator's words after "HISTORY: "."""
    state = status.get("state")
    if state == "not recording":
        return "NOT RECORDING"
    if state == "waiting":
        return f"{status.get('rows_waiting', 0):,} rows waiting"
    if state == "rows lost":
        return f"{status.get('rows_dropped', 0):,} rows lost"
    return str(state)


class HistorianStatus(QWidget):
    """Clicking it opens the Connections window (the `clicked` signal)."""

    clicked = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None, refresh_ms: int = 2000) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.status: dict[str, Any] | None = None
        self.abnormal = False  # shown in amber: not recording, rows waiting or lost, or no status
        self._answered_at = time.monotonic()
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.label = QLabel(" HISTORY: … ", self)
        self.label.setObjectName("historianState")
        self.label.setStyleSheet(UNKNOWN_STYLE)
        self.label.setToolTip("Asking the historian for its status…")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        bridge.historian_status_ready.connect(self.show_status)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._refresh)
        self.timer.start(refresh_ms)
        bridge.request_historian_status()

    def text(self) -> str:
        return self.label.text().strip()

    def show_status(self, status: dict[str, Any]) -> None:
        self.status = status
        self._answered_at = time.monotonic()
        self.label.setText(f" HISTORY: {headline(status)} ")
        self.abnormal = not status.get("ok")
        self.label.setStyleSheet(ABNORMAL_STYLE if self.abnormal else NORMAL_STYLE)
        self.label.setToolTip(tooltip(status))

    def stop(self) -> None:
        self.timer.stop()

    def _refresh(self) -> None:
        silent = time.monotonic() - self._answered_at
        if silent > max(STALE_AFTER_S, 3 * self.timer.interval() / 1000):
            self.abnormal = True
            self.label.setText(" HISTORY: no status ")
            self.label.setStyleSheet(ABNORMAL_STYLE)
            self.label.setToolTip(f"The runtime has not reported the historian's status for {silent:.0f} s: "
                                  "whether history is being recorded is not known.")
        self.bridge.request_historian_status()

    def mouseReleaseEvent(self, event) -> None:
        self.clicked.emit()
        super().mouseReleaseEvent(event)


def tooltip(status: dict[str, Any]) -> str:
    """Rich text (so that a long error wraps): the state, why, and the facts a technician asks for first."""
    lines = []
    if status.get("ok"):
        lines.append("<b>History is being recorded.</b>")
    else:
        lines.append(f"<b>History: {html.escape(headline(status))}.</b>")
        lines.append(html.escape(status.get("problem", "")))
        if status.get("effect"):
            lines.append(html.escape(status["effect"]))
    dialect = status.get("dialect", "")
    facts = [("Database", f"{status.get('where', '')} ({DIALECTS.get(dialect, dialect)})"),
             ("Rows written", f"{status.get('rows_written', 0):,}"),
             ("Rows waiting", f"{status.get('rows_waiting', 0):,}"),
             ("Rows lost", f"{status.get('rows_dropped', 0):,}"),
             ("Size on disk", format_disk(status))]
    if status.get("dialect") == "sqlite":
        facts.append(("Free space", format_bytes(status.get("free_bytes"))))
    lines.append("<br>".join(f"{name}: {html.escape(value)}" for name, value in facts))
    lines.append("Click for the Connections window (Ctrl+K).")
    return "".join(f"<p>{line}</p>" for line in lines if line)
