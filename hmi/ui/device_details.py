"""Below the Connections table: the selected connection's devices (unit ids) with their counters,
and its last frames on the wire, for the drivers that report them (Modbus)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QPlainTextEdit, QTableWidget, QTableWidgetItem, QWidget

DEVICE_COLUMNS = [("unit", "Unit"), ("requests", "Requests"), ("errors", "Errors"), ("timeouts", "Timeouts"),
                  ("mean_ms", "Mean ms"), ("max_ms", "Max ms")]


class DeviceDetails(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.devices_box = devices_box = QGroupBox("Devices", self)
        self.devices = QTableWidget(0, len(DEVICE_COLUMNS), devices_box)
        self.devices.setHorizontalHeaderLabels([title for _, title in DEVICE_COLUMNS])
        self.devices.verticalHeader().setVisible(False)
        self.devices.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        QHBoxLayout(devices_box).addWidget(self.devices)
        log_box = QGroupBox("Communications log (last frames, hex)", self)
        self.log = QPlainTextEdit(log_box)
        self.log.setReadOnly(True)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setMaximumBlockCount(200)
        QHBoxLayout(log_box).addWidget(self.log)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(devices_box, 1)
        layout.addWidget(log_box, 1)

    def show_connection(self, info: dict[str, Any]) -> None:
        """Show what the connection reports; hidden when it reports no devices."""
        devices: dict[Any, dict[str, Any]] = info.get("devices") or {}
        self.setVisible(bool(devices) or bool(info.get("comm_log")))
        self.devices.setRowCount(len(devices))
        for row, (unit, stats) in enumerate(devices.items()):
            for col, (key, _title) in enumerate(DEVICE_COLUMNS):
                value = unit if key == "unit" else stats.get(key, "")
                self.devices.setItem(row, col, QTableWidgetItem(str(value)))
        self.devices.resizeColumnsToContents()
        overruns = {key.removeprefix("overruns").lstrip("_") or "default": value
                    for key, value in info.items() if key.startswith("overruns")}
        scans = ", ".join(f"{name} {count:g}" for name, count in sorted(overruns.items()))
        self.devices_box.setTitle(f"Devices (scan overruns: {scans})" if scans else "Devices")
        text = "\n".join(info.get("comm_log") or [])
        if text != self.log.toPlainText():
            self.log.setPlainText(text)
            self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())
