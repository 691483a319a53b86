"""The alarm history: the event journal's alarm transitions and operator actions over a time range, newest
first, searchable, and exported to CSV. Reads and writes run on the panel's own worker thread; the answers
come back through the bridge, and one for a query the operator has already replaced is dropped."""

from __future__ import annotations

import csv
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hmi.bridge import Bridge
from hmi.storage.journal import Category, StoredEntry, read_journal
from hmi.ui.journal_worker import JournalWorker

log = logging.getLogger(__name__)

RANGES = [(3600, "Last 1 h"), (8 * 3600, "Last 8 h"), (24 * 3600, "Last 24 h"), (7 * 86400, "Last 7 days")]
LIMIT = 10_000
COLUMNS = ["Time", "Category", "Event", "Alarm / source", "User", "Old state", "New state", "Reason", "Message",
           "Result"]
CSV_FIELDS = ["time_utc", "station", "seq", "category", "event", "source", "user", "old_value", "new_value",
              "reason", "message", "result", "hash"]


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def read_alarm_history(target: Path | str, start: float, end: float, text: str,
                       limit: int = LIMIT) -> list[StoredEntry]:
    """Alarm and operator entries of [start, end] containing `text`, newest first (worker thread)."""
    entries = [e for category in (Category.ALARM, Category.OPERATOR)
               for e in read_journal(target, start=start, end=end, category=category, text=text or None,
                                     limit=limit)]
    entries.sort(key=lambda e: (e.entry.ts, e.station, e.seq), reverse=True)
    return entries[:limit]


def write_csv(path: Path, entries: list[StoredEntry]) -> int:
    """Every field of every entry, UTF-8 with a byte-order mark (spreadsheets then read ä and m³), times in
    ISO 8601 UTC; written to a temporary file and renamed, so no half file is left (worker thread)."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        with temporary.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(CSV_FIELDS)
            for stored in entries:
                e = stored.entry
                writer.writerow([iso_utc(e.ts), stored.station, stored.seq, str(e.category), e.event, e.source, e.user,
                                 e.old_value, e.new_value, e.reason, e.message, e.result, stored.hash])
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return len(entries)


class HistoryModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.entries: list[StoredEntry] = []

    def set_entries(self, entries: list[StoredEntry]) -> None:
        self.beginResetModel()  # a new query's answer: a reset is what it is
        self.entries = entries
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        e = self.entries[index.row()].entry
        values = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.ts)), str(e.category),
                  e.event.replace("_", " "), e.source, e.user, e.old_value, e.new_value, e.reason, e.message, e.result]
        return values[index.column()]


class AlarmHistory(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.target = bridge.runtime.journal.target
        self.worker = JournalWorker(bridge, "alarm-history")
        self.range = QComboBox(self)
        for seconds, text in RANGES:
            self.range.addItem(text, seconds)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search: alarm, tag, user, reason, message…")
        self.search.setClearButtonEnabled(True)
        self.search_button = QPushButton("Search", self)
        self.export_button = QPushButton("Export CSV…", self)
        self.status = QLabel(self)
        self.status.setObjectName("caption")
        self.model = HistoryModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COLUMNS.index("Message"), QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate([150, 70, 130, 140, 80, 140, 140, 170, 300, 60]):
            self.table.setColumnWidth(column, width)
        controls = QHBoxLayout()
        controls.addWidget(self.range)
        controls.addWidget(self.search, 1)
        controls.addWidget(self.search_button)
        controls.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.range.currentIndexChanged.connect(self.refresh)
        self.search.returnPressed.connect(self.refresh)
        self.search_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self._ask_export)
        self.loaded = False  # an answer has been shown

    def close_panel(self) -> None:
        self.worker.close()

    def refresh(self) -> None:
        """Read the chosen range again with the search text (the answer replaces the table)."""
        end = time.time()
        start = end - float(self.range.currentData())
        text = self.search.text().strip()
        self.status.setText("Reading the journal…")
        self.worker.read(lambda: read_alarm_history(self.target, start, end, text), self._show)

    def _show(self, entries: list[StoredEntry] | None, error: Exception | None) -> None:
        if error is not None:
            self.status.setText(f"The journal could not be read: {error}")
            return
        self.model.set_entries(entries or [])
        self.loaded = True
        full = f" (the newest {LIMIT:,}: narrow the range or the search)" if len(self.model.entries) >= LIMIT else ""
        self.status.setText(f"{len(self.model.entries):,} entries, newest first{full}")

    def _ask_export(self) -> None:
        name = f"alarm-history-{time.strftime('%Y%m%d-%H%M')}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export alarm history", name, "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path, on_done: Callable[[int | None, Exception | None], None] | None = None) -> None:
        """Write the entries shown (all of them, not only the rows in view) on the worker thread."""
        entries = list(self.model.entries)
        self.status.setText(f"Exporting {len(entries):,} entries…")

        def done(count: int | None, error: Exception | None) -> None:
            if not self.worker.closed:
                self.status.setText(f"Export failed: {error}" if error is not None
                                    else f"Exported {count:,} entries to {path}")
            if on_done is not None:
                on_done(count, error)

        self.worker.run(lambda: write_csv(path, entries), done)
