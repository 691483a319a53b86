"""The Connections window: every PLC connection's state, security, counters and last error,
and the decision on an untrusted server certificate (what a technician opens first)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.bridge import Bridge
from hmi.ui.browser import BrowserDialog
from hmi.ui.device_details import DeviceDetails
from hmi.ui.historian_panel import HistorianPanel
from hmi.ui.register_scanner import RegisterScanner
from widgets.style import BAD_DATA

COLUMNS = ["Connection", "State", "Endpoint", "Security", "Connects", "Drops", "Notif./s", "Reads", "Writes",
           "Errors", "Last error"]
CERT_FIELDS = [("subject", "Subject"), ("issuer", "Issuer"), ("thumbprint", "Thumbprint (SHA-1)"),
               ("valid_from", "Valid from"), ("valid_to", "Valid to"), ("validity", "Validity"),
               ("application_uri", "Application URI")]


SECURITY_COLUMN = COLUMNS.index("Security")
UNSECURED_TIP = ("Not signed, not encrypted: anyone on this network can read and change this traffic. "
                 "IEC 62443 asks for a secured channel or a network zone that protects it.")


def describe_security(info: dict[str, Any]) -> tuple[str, bool]:
    """The Security cell and whether it is unsecured (shown with a warning, not in colour: it is not
    a process abnormality, but a technician must see it)."""
    security = str(info.get("security") or "")
    if str(info.get("url", "")).startswith("modbus"):
        return "none (Modbus has no security)", True
    if security in ("", "-"):
        return "-", False
    if security.startswith("None"):
        return "None: unsecured", True
    return security, False


class ConnectionsWindow(QDialog):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None, refresh_ms: int = 1000) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connections")
        self.resize(1200, 640)
        self.bridge = bridge
        self.snapshot: dict[str, dict[str, Any]] = {}
        self._previous: tuple[float, dict[str, int]] | None = None
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_certificate)
        # the last error is what a technician reads first: in full, wrapped, for the selected connection
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.certificate_box = QGroupBox("Untrusted server certificate", self)
        form = QFormLayout(self.certificate_box)
        self.certificate_labels = {key: QLabel(self.certificate_box) for key, _ in CERT_FIELDS}
        for key, title in CERT_FIELDS:
            self.certificate_labels[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(title, self.certificate_labels[key])
        self.browse_button = QPushButton("Browse address space…", self)
        self.browse_button.clicked.connect(self.open_browser)
        self.scanner_button = QPushButton("Register scanner…", self)
        self.scanner_button.clicked.connect(self.open_scanner)
        self.trust_button = QPushButton("Trust this certificate…", self.certificate_box)
        self.trust_button.clicked.connect(self._confirm_trust)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.trust_button)
        form.addRow(buttons)
        self.certificate_box.setVisible(False)
        self.message = QLabel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_label)
        self.device_details = DeviceDetails(self)
        self.device_details.setVisible(False)
        layout.addWidget(self.device_details, 1)
        layout.addWidget(self.certificate_box)
        self.historian = HistorianPanel(self)  # not about the selected connection: below its details
        layout.addWidget(self.historian)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.scanner_button)
        bottom.addWidget(self.browse_button)
        layout.addLayout(bottom)
        bridge.diagnostics_ready.connect(self.show_snapshot)
        bridge.certificate_trusted.connect(self._on_trusted)
        self.timer = QTimer(self)
        self.timer.timeout.connect(bridge.request_diagnostics)
        bridge.historian_status_ready.connect(self.historian.show_status)
        self.timer.timeout.connect(bridge.request_historian_status)
        self.timer.start(refresh_ms)
        bridge.request_diagnostics()
        bridge.request_historian_status()

    def show_snapshot(self, snapshot: dict[str, dict[str, Any]]) -> None:
        now = time.monotonic()
        rates = self._notification_rates(snapshot, now)
        self.snapshot = snapshot
        selected = self.selected_connection()
        self.table.setRowCount(len(snapshot))
        for row, (name, info) in enumerate(snapshot.items()):
            security, unsecured = describe_security(info)
            values = [name, info.get("state", ""), info.get("endpoint", info.get("url", "")),
                      security, info.get("connects", ""), info.get("disconnects", ""),
                      f"{rates.get(name, 0.0):.0f}", info.get("reads", ""), info.get("writes", ""),
                      info.get("errors", ""), info.get("detail") if info.get("state") == "down"
                      else info.get("last_error", "")]
            for col, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if col == len(values) - 1:
                    item.setToolTip(str(value))
                if info.get("state") == "down" and col in (0, 1):
                    item.setBackground(BAD_DATA)
                    item.setForeground(QColor("white"))
                if col == SECURITY_COLUMN and unsecured:
                    item.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
                    item.setToolTip(UNSECURED_TIP)
                self.table.setItem(row, col, item)
            if name == selected:
                self.table.selectRow(row)
        self.table.resizeColumnsToContents()
        if selected is None and snapshot:
            waiting = next((r for r, info in enumerate(snapshot.values()) if info.get("untrusted_certificate")), 0)
            self.table.selectRow(waiting)
        self._show_certificate()

    def select_connection(self, name: str) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == name:
                self.table.selectRow(row)
                return

    def selected_connection(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def _notification_rates(self, snapshot: dict[str, dict[str, Any]], now: float) -> dict[str, float]:
        counts = {name: int(info.get("notifications", 0) or 0) for name, info in snapshot.items()}
        rates: dict[str, float] = {}
        if self._previous is not None:
            then, before = self._previous
            span = max(now - then, 1e-6)
            rates = {name: max(0, count - before.get(name, count)) / span for name, count in counts.items()}
        self._previous = (now, counts)
        return rates

    def _show_certificate(self) -> None:
        name = self.selected_connection()
        info = self.snapshot.get(name or "", {})
        error = info.get("detail") if info.get("state") == "down" else info.get("last_error")
        self.error_label.setText(f"{name}: {error}" if name and error else "")
        self.device_details.show_connection(info)
        certificate = info.get("untrusted_certificate") or {}
        self.certificate_box.setVisible(bool(certificate))
        for key, label in self.certificate_labels.items():
            label.setText(str(certificate.get(key, "")))

    def open_browser(self) -> BrowserDialog | None:
        name = self.selected_connection()
        info = self.snapshot.get(name or "", {})
        if not name or not str(info.get("url", "")).startswith("opc.tcp://"):
            self.message.setText("select an OPC UA connection to browse")
            return None
        dialog = BrowserDialog(self.bridge, name, self)
        dialog.show()
        return dialog

    def open_scanner(self) -> RegisterScanner | None:
        name = self.selected_connection()
        info = self.snapshot.get(name or "", {})
        if not name or not str(info.get("url", "")).startswith("modbus"):
            self.message.setText("select a Modbus connection to scan its registers")
            return None
        dialog = RegisterScanner(self.bridge, name, self)
        dialog.show()
        return dialog

    def _confirm_trust(self) -> None:
        name = self.selected_connection()
        certificate = self.snapshot.get(name or "", {}).get("untrusted_certificate") or {}
        if not name or not certificate:
            return
        answer = QMessageBox.question(
            self, "Trust server certificate",
            f"Trust this certificate for connection {name}?\n\n{certificate['subject']}\n"
            f"Thumbprint {certificate['thumbprint']}\n\nCompare the thumbprint with the one shown on the PLC or "
            "server before you trust it: a trusted certificate lets that server talk to Linewise.")
        if answer == QMessageBox.StandardButton.Yes:
            self.trust(name, certificate["thumbprint"])

    def trust(self, name: str, thumbprint: str) -> None:
        self.message.setText(f"trusting the certificate for {name}…")
        self.bridge.trust_certificate(name, thumbprint)

    def _on_trusted(self, name: str, ok: bool, message: str) -> None:
        self.message.setText(f"{name}: {message}")
        self.message.setStyleSheet("" if ok else "color: #d01010;")
        self.bridge.request_diagnostics()

    def done(self, result: int) -> None:
        self.timer.stop()
        super().done(result)
