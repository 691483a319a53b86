"""Setpoint entry: shows the current setpoint and writes a new one through the bridge.

Numeric tags get an entry field (Enter or Set writes); boolean commands get two buttons
labelled with the tag's on/off texts. Limits and types are checked by the tag registry
before anything leaves the HMI; the PLC's answer comes back as the status line.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QWidget

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from widgets.binding import TagBinding, quality_text
from widgets.style import ALARM, TEXT_DIM, quality_color, value_font


class SetpointEntry(QFrame):
    def __init__(self, bridge: Bridge, tag: str, label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setpointEntry")
        self.bridge = bridge
        self.caption = QLabel(self)
        self.caption.setObjectName("caption")
        self.current = QLabel("----", self)
        self.current.setFont(value_font(13))
        self.current.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.status = QLabel("", self)
        self.status.setObjectName("writeStatus")
        self.status.setWordWrap(True)
        self.binding = TagBinding(bridge, tag, self._show)
        spec = self.binding.spec
        self.caption.setText(label or self.binding.label)
        layout = QGridLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.caption, 0, 0, 1, 3)
        layout.addWidget(self.current, 1, 0)
        self.entry: QLineEdit | None = None
        self.buttons: dict[bool, QPushButton] = {}
        if spec.data_type.is_numeric:
            self.entry = QLineEdit(self)
            limits = f"{spec.limits.low:g} – {spec.limits.high:g}" if spec.limits else "value"
            self.entry.setPlaceholderText(f"{limits} {spec.units}".strip())
            self.entry.setAccessibleName(f"new setpoint for {tag}")
            self.entry.returnPressed.connect(self.submit)
            self.set_button = QPushButton("Set", self)
            self.set_button.clicked.connect(self.submit)
            layout.addWidget(self.entry, 1, 1)
            layout.addWidget(self.set_button, 1, 2)
        else:
            for col, state in ((1, True), (2, False)):
                button = QPushButton(spec.on_text if state else spec.off_text, self)
                button.clicked.connect(lambda _checked=False, s=state: self.send(s))
                self.buttons[state] = button
                layout.addWidget(button, 1, col)
        layout.addWidget(self.status, 2, 0, 1, 3)
        bridge.write_finished.connect(self._on_write_finished)
        if self.binding.last is None:
            self._show_quality(None)
        else:
            self._show(self.binding.last)

    def submit(self) -> None:
        if self.entry is not None:
            self.send(self.entry.text().strip())

    def send(self, value: object) -> None:
        self._set_status(f"sending {value}…", error=False)
        self.bridge.write(self.binding.tag, value)

    def _on_write_finished(self, tag: str, ok: bool, message: str) -> None:
        if tag != self.binding.tag:
            return
        if ok:
            self._set_status("written", error=False)
            if self.entry is not None:
                self.entry.clear()
        else:
            self._set_status(message, error=True)

    def _set_status(self, text: str, error: bool) -> None:
        self.status.setText(text)
        color = ALARM.name() if error else TEXT_DIM.name()
        self.status.setStyleSheet(f"color: {color};")

    def _show(self, update: TagUpdate) -> None:
        if update.value is not None:
            self.current.setText(f"{self.binding.format(update.value)} {self.binding.spec.units}".strip())
        self._show_quality(update)

    def _show_quality(self, update: TagUpdate | None) -> None:
        quality = update.quality if update else Quality.COMM_LOST
        self.current.setStyleSheet(f"color: {quality_color(quality).name()};")
        self.current.setToolTip(quality_text(update) or "good")
