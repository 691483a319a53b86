"""A vertical analog bar with its range, normal band and value (ISA-101 analog indicator)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from drivers.model import Quality
from hmi.bridge import Bridge
from widgets.binding import TagBinding, quality_text
from widgets.style import BAD_DATA, EDGE, FIELD, FILL, NORMAL_BAND, TEXT, TEXT_DIM, quality_color, value_font


class LevelBar(QWidget):
    def __init__(self, bridge: Bridge, tag: str, label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.binding = TagBinding(bridge, tag, lambda update: self.update())
        spec = self.binding.spec
        self.low, self.high = (spec.range.low, spec.range.high) if spec.range else (0.0, 100.0)
        self.caption = label or self.binding.label
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(130, 200)

    def sizeHint(self) -> QSize:
        return QSize(140, 260)

    def fraction(self) -> float | None:
        last = self.binding.last
        if last is None or not isinstance(last.value, int | float):
            return None
        return min(1.0, max(0.0, (float(last.value) - self.low) / (self.high - self.low)))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        spec = self.binding.spec
        last = self.binding.last
        quality = last.quality if last else Quality.COMM_LOST
        painter.setPen(TEXT_DIM)
        painter.drawText(QRectF(0, 0, self.width(), 18), Qt.AlignmentFlag.AlignHCenter, self.caption)
        bar = QRectF(34, 24, 36, self.height() - 74)
        painter.fillRect(bar, FIELD)
        if spec.normal is not None:  # the normal operating band, beside the bar
            top = self._y(bar, spec.normal.high)
            painter.fillRect(QRectF(bar.right() + 3, top, 8, self._y(bar, spec.normal.low) - top), NORMAL_BAND)
        fraction = self.fraction()
        if fraction is not None:
            height = bar.height() * fraction
            fill = FILL if quality is Quality.GOOD else BAD_DATA.lighter(160)
            painter.fillRect(QRectF(bar.left(), bar.bottom() - height, bar.width(), height), fill)
        painter.setPen(QPen(EDGE, 1))
        painter.drawRect(bar)
        painter.setPen(TEXT_DIM)
        for value in (self.low, (self.low + self.high) / 2, self.high):
            y = self._y(bar, value)
            painter.drawLine(int(bar.left()) - 4, int(y), int(bar.left()), int(y))
            painter.drawText(QRectF(0, y - 8, bar.left() - 6, 16), Qt.AlignmentFlag.AlignRight, f"{value:g}")
        painter.setFont(value_font(13))
        painter.setPen(quality_color(quality))
        text = self.binding.format(last.value) if last and last.value is not None else "----"
        painter.drawText(QRectF(0, bar.bottom() + 4, self.width(), 22), Qt.AlignmentFlag.AlignHCenter,
                         f"{text} {spec.units}")
        if quality is not Quality.GOOD:
            painter.setPen(BAD_DATA)
            painter.setFont(self.font())
            painter.drawText(QRectF(0, bar.bottom() + 26, self.width(), 18), Qt.AlignmentFlag.AlignHCenter,
                             quality_text(last).split(":")[0])
        painter.setPen(TEXT)
        painter.end()

    def _y(self, bar: QRectF, value: float) -> float:
        fraction = min(1.0, max(0.0, (value - self.low) / (self.high - self.low)))
        return bar.bottom() - bar.height() * fraction
