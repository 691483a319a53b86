"""The alarm priority indicator: a filled shape of the priority's colour with its letter, next to its name.

Colour, shape and text each say the priority on their own (ISA-101; about one man in twelve does not tell
red from orange): critical is a red square with C, high an orange diamond with H, medium a blue triangle
with M, low a sky-blue circle with L. The same indicator is drawn in the banner and the alarm summary.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap, QPolygonF

from hmi.site.alarm_schema import Priority
from widgets.style import PRIORITY_COLORS, PRIORITY_INK

SHAPES = {Priority.CRITICAL: "square", Priority.HIGH: "diamond", Priority.MEDIUM: "triangle",
          Priority.LOW: "circle"}
LETTERS = {Priority.CRITICAL: "C", Priority.HIGH: "H", Priority.MEDIUM: "M", Priority.LOW: "L"}
NAMES = {p: p.name for p in Priority}  # CRITICAL, HIGH, MEDIUM, LOW
OUTLINE = QColor("#222222")


def paint_priority(painter: QPainter, rect: QRectF, priority: Priority) -> None:
    """Draw the indicator into `rect` (a square works best)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(OUTLINE, 1))
    painter.setBrush(PRIORITY_COLORS[priority])
    r = rect.adjusted(0.5, 0.5, -0.5, -0.5)
    shape = SHAPES[priority]
    text_rect = QRectF(r)
    if shape == "square":
        painter.drawRect(r.adjusted(0.5, 0.5, -0.5, -0.5))
    elif shape == "diamond":
        c = r.center()
        painter.drawPolygon(QPolygonF([QPointF(c.x(), r.top()), QPointF(r.right(), c.y()),
                                       QPointF(c.x(), r.bottom()), QPointF(r.left(), c.y())]))
    elif shape == "triangle":
        painter.drawPolygon(QPolygonF([QPointF(r.center().x(), r.top()), QPointF(r.right(), r.bottom()),
                                       QPointF(r.left(), r.bottom())]))
        text_rect = r.adjusted(0, r.height() * 0.3, 0, 0)  # the letter sits in the wide lower part
    else:
        painter.drawEllipse(r)
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(max(7, round(r.height() * (0.62 if shape in ("square", "circle") else 0.5))))
    painter.setFont(font)
    painter.setPen(PRIORITY_INK[priority])
    painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, LETTERS[priority])
    painter.restore()


@cache
def priority_pixmap(priority: Priority, size: int = 16) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_priority(painter, QRectF(0, 0, size, size), priority)
    painter.end()
    return pixmap


@cache
def priority_icon(priority: Priority) -> QIcon:
    return QIcon(priority_pixmap(priority, 16))
