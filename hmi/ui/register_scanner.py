"""Register scanner: read a range from any Modbus device and see it decoded every way side by side,
to find where a value lives and how its bytes are ordered before writing the tag."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drivers.modbus.scanner import HEADINGS, MAX_SCAN, decode_views
from hmi.bridge import Bridge


class RegisterScanner(QDialog):
    def __init__(self, bridge: Bridge, connection: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Register scanner — {connection}")
        self.resize(1300, 600)
        self.bridge, self.connection = bridge, connection
        self.unit = _spin(0, 247, 1)
        self.table_kind = QComboBox(self)
        self.table_kind.addItem("Holding registers (hr)", "hr")
        self.table_kind.addItem("Input registers (ir)", "ir")
        self.start = _spin(0, 65535, 0)
        self.count = _spin(1, MAX_SCAN, 20)
        self.read_button = QPushButton("Read", self)
        self.read_button.setDefault(True)
        self.read_button.clicked.connect(self.read)
        self.status = QLabel(self)
        controls = QHBoxLayout()
        for label, widget in (("Unit", self.unit), ("Table", self.table_kind), ("Start (zero-based)", self.start),
                              ("Count", self.count)):
            controls.addWidget(QLabel(label, self))
            controls.addWidget(widget)
        controls.addWidget(self.read_button)
        controls.addStretch(1)
        self.results = QTableWidget(0, len(HEADINGS), self)
        self.results.setHorizontalHeaderLabels(HEADINGS)
        self.results.verticalHeader().setVisible(False)
        self.results.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.results.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)

    def read(self) -> None:
        unit, table = self.unit.value(), self.table_kind.currentData()
        start, count = self.start.value(), min(self.count.value(), 65536 - self.start.value())
        self.read_button.setEnabled(False)
        self.status.setText(f"reading unit {unit} {table} {start}..{start + count - 1}…")
        self.bridge.scan_registers(self.connection, unit, table, start, count,
                                   on_done=lambda registers, error: self._show(start, registers, error))

    def _show(self, start: int, registers: list[int] | None, error: Exception | None) -> None:
        self.read_button.setEnabled(True)
        if error is not None:
            self.status.setText(f"not read: {error}")
            self.status.setStyleSheet("color: #d01010;")
            return
        self.status.setStyleSheet("")
        rows = decode_views(start, registers or [])
        self.results.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.results.setItem(r, c, QTableWidgetItem(text))
        self.results.resizeColumnsToContents()
        self.status.setText(f"{len(rows)} registers read; each row decodes the value that starts there")


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin
