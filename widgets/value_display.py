"""A numeric (or text) value with its units and a quality badge."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from widgets.binding import TagBinding
from widgets.style import QUALITY_BADGE, quality_color, value_font


class ValueDisplay(QFrame):
    def __init__(self, bridge: Bridge, tag: str, label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("valueDisplay")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel(self)
        self.caption.setObjectName("caption")
        self.value_label = QLabel("----", self)
        self.value_label.setFont(value_font())
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value_label.setMinimumWidth(110)
        self.units_label = QLabel(self)
        self.units_label.setObjectName("units")
        self.badge = QLabel(self)
        self.badge.setObjectName("qualityBadge")
        row = QHBoxLayout()
        row.addWidget(self.value_label, 1)
        row.addSpacing(4)
        row.addWidget(self.units_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(1)
        layout.addWidget(self.caption)
        layout.addLayout(row)
        layout.addWidget(self.badge)
        self.binding = TagBinding(bridge, tag, self._show)
        self.caption.setText(label or self.binding.label)
        self.units_label.setText(self.binding.spec.units)
        if self.binding.last is None:
            self._show_quality(None)
        else:
            self._show(self.binding.last)

    def _show(self, update: TagUpdate) -> None:
        if update.value is not None:
            self.value_label.setText(self.binding.format(update.value))
        self._show_quality(update)

    def _show_quality(self, update: TagUpdate | None) -> None:
        quality = update.quality if update else Quality.COMM_LOST
        color = quality_color(quality).name()
        self.value_label.setStyleSheet(f"color: {color};")
        self.badge.setText(QUALITY_BADGE[quality])  # short; the reason is in the tooltip
        self.badge.setVisible(quality is not Quality.GOOD)
        stamp = time.strftime("%H:%M:%S", time.localtime(update.source_ts)) if update else "never"
        self.setToolTip(f"{self.binding.tag}\n{self.binding.spec.address}\nquality: {quality.name}"
                        f"{' (' + update.detail + ')' if update and update.detail else ''}\nlast update: {stamp}")

    def text(self) -> str:
        return self.value_label.text()
