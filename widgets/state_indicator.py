"""An on/off state: neutral greys normally, amber only when the state is abnormal."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from widgets.binding import TagBinding, quality_text
from widgets.style import ABNORMAL, BAD_DATA, FIELD, FILL


class StateIndicator(QFrame):
    def __init__(self, bridge: Bridge, tag: str, label: str = "", abnormal_when: bool | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stateIndicator")
        self.abnormal_when = abnormal_when
        self.caption = QLabel(self)
        self.caption.setObjectName("caption")
        self.state_label = QLabel("----", self)
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state_label.setMinimumWidth(96)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.addWidget(self.caption, 1)
        layout.addWidget(self.state_label)
        self.binding = TagBinding(bridge, tag, self._show)
        self.caption.setText(label or self.binding.label)
        if self.binding.last is None:
            self._paint("COMM", BAD_DATA.name(), "white")
        else:
            self._show(self.binding.last)

    def is_abnormal(self) -> bool:
        last = self.binding.last
        return (self.abnormal_when is not None and last is not None and last.quality is Quality.GOOD
                and bool(last.value) == self.abnormal_when)

    def _show(self, update: TagUpdate) -> None:
        if update.quality is not Quality.GOOD:
            self._paint(quality_text(update).split(":")[0], BAD_DATA.name(), "white")
        elif self.is_abnormal():
            self._paint(self.binding.format(bool(update.value)), ABNORMAL.name(), "black")
        elif update.value:
            self._paint(self.binding.format(True), FILL.name(), "white")
        else:
            self._paint(self.binding.format(False), FIELD.name(), "black")
        self.setToolTip(f"{self.binding.tag}\n{self.binding.spec.address}\n{update.detail}".strip())

    def _paint(self, text: str, background: str, foreground: str) -> None:
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"background: {background}; color: {foreground}; border: 1px solid #777;"
                                       " padding: 2px 6px; font-weight: bold;")

    def text(self) -> str:
        return self.state_label.text()
