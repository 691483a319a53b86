"""In the Connections window, under the table: the historian's state, why it does not record, its counters,
what the history takes on disk and what the disk has left, and the retention (health.py's snapshot)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QSizePolicy, QWidget

from widgets.historian_status import (
    ABNORMAL_STYLE,
    DIALECTS,
    format_bytes,
    format_disk,
    format_retention,
    headline,
)


class HistorianPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Historian", parent)
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.labels: dict[str, QLabel] = {}
        for key, title in (("state", "State"), ("problem", "Why"), ("where", "Database"), ("rows", "Rows"),
                           ("disk", "On disk"), ("tables", "Tables"), ("free", "Free space"),
                           ("retention", "Retention")):
            label = QLabel(self)
            label.setWordWrap(key in ("problem", "where", "tables"))
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = label
            self.form.addRow(title, label)
        self.labels["state"].setText("waiting for the historian's status…")
        # the state hugs its text: in amber when abnormal, the colour marks the words, not the whole row
        self.labels["state"].setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        for key in ("problem", "tables", "free"):
            self._show_row(key, False)

    def text(self, key: str) -> str:
        return self.labels[key].text()

    def show_status(self, status: dict[str, Any]) -> None:
        ok = bool(status.get("ok"))
        state = self.labels["state"]
        state.setText("recording" if ok else headline(status))
        state.setStyleSheet("" if ok else ABNORMAL_STYLE)
        problem = " ".join(part for part in (status.get("problem", ""), status.get("effect", "")) if part)
        self.labels["problem"].setText(problem)
        self._show_row("problem", bool(problem))
        dialect = status.get("dialect", "")
        self.labels["where"].setText(f"{status.get('where', '')}   ({DIALECTS.get(dialect, dialect)})")
        self.labels["rows"].setText(
            f"{status.get('rows_written', 0):,} written · {status.get('rows_waiting', 0):,} waiting · "
            f"{status.get('rows_dropped', 0):,} lost   (from {status.get('samples_received', 0):,} samples "
            f"received; up to {status.get('backlog_rows', 0):,} can wait in memory)")
        self.labels["disk"].setText(format_disk(status))
        tables = (status.get("disk") or {}).get("tables") or {}
        self.labels["tables"].setText(", ".join(
            f"{name} {format_bytes(t['bytes'])}" + ("" if t.get("rows") is None else f" (~{t['rows']:,} rows)")
            for name, t in tables.items()))
        self._show_row("tables", bool(tables))
        free = status.get("free_bytes")
        self.labels["free"].setText(f"{format_bytes(free)} on the disk that holds the file")
        self._show_row("free", free is not None)
        self.labels["retention"].setText(format_retention(status.get("retention") or {}))

    def _show_row(self, key: str, visible: bool) -> None:
        self.form.setRowVisible(self.labels[key], visible)
