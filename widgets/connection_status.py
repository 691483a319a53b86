"""Status-bar indicators, one per PLC connection: grey when connected, magenta when down."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from drivers.model import ConnectionState
from hmi.bridge import Bridge
from widgets.style import BAD_DATA, UNCERTAIN

_TEXT = {ConnectionState.CONNECTED.value: "connected", ConnectionState.CONNECTING.value: "connecting…",
         ConnectionState.DOWN.value: "DOWN", ConnectionState.CLOSED.value: "closed"}


class ConnectionStatus(QWidget):
    """Clicking it opens the Connections window (the `clicked` signal)."""

    clicked = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Connections (Ctrl+K)")
        self.labels: dict[str, QLabel] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for name, (state, detail) in bridge.connection_states().items():
            label = QLabel(self)
            label.setObjectName("connectionState")
            self.labels[name] = label
            layout.addWidget(label)
            self.show_state(name, state.value, detail)
        bridge.connection_changed.connect(self.show_state)

    def show_state(self, name: str, state: str, detail: str) -> None:
        label = self.labels.get(name)
        if label is None:
            return
        label.setText(f" {name}: {_TEXT.get(state, state)} ")
        label.setToolTip(detail or state)
        if state == ConnectionState.DOWN.value:
            style = f"background: {BAD_DATA.name()}; color: white; font-weight: bold;"
        elif state == ConnectionState.CONNECTING.value:
            style = f"color: {UNCERTAIN.name()};"
        else:
            style = "color: #222;"
        label.setStyleSheet(style + " border: 1px solid #888; padding: 1px 4px;")

    def mouseReleaseEvent(self, event) -> None:
        self.clicked.emit()
        super().mouseReleaseEvent(event)

    def state_text(self, name: str) -> str:
        return self.labels[name].text().strip()
