"""ISA-101 palette: greys for everything normal, colour only for abnormal states.

Bad data and lost communication are shown in magenta on purpose: it is not an alarm
colour, yet it is impossible to mistake a stale value for a live one.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont

from drivers.model import Quality
from hmi.site.alarm_schema import Priority

FIELD = QColor("#e4e4e4")
TEXT = QColor("#111111")
TEXT_DIM = QColor("#5a5a5a")
EDGE = QColor("#8c8c8c")
FILL = QColor("#4a4a4a")  # bar fill, running equipment
NORMAL_BAND = QColor("#b0b0b0")
BAD_DATA = QColor("#b0007a")  # magenta: bad quality / comm lost
UNCERTAIN = QColor("#7a5a00")
ABNORMAL = QColor("#f0c000")  # amber: an abnormal equipment state (e.g. tripped)
ALARM = QColor("#d01010")

# Alarm priorities (ISA-18.2). Hues nothing else here means: not magenta (bad data), not amber (abnormal
# equipment), no yellow (it reads as amber). Each priority also has its own shape and letter
# (widgets/alarm_priority.py), so colour is never the only cue.
PRIORITY_COLORS = {
    Priority.CRITICAL: QColor("#d01010"),  # red: the ALARM colour, the most urgent
    Priority.HIGH: QColor("#e85d00"),  # orange, well redder than the amber (#f0c000) of an abnormal state
    Priority.MEDIUM: QColor("#1f5fc8"),  # blue: used for no state (only as a trend pen, a thin line)
    Priority.LOW: QColor("#5cb8e6"),  # sky blue: lighter than medium, the least urgent
}
PRIORITY_INK = {Priority.CRITICAL: QColor("white"), Priority.HIGH: QColor("black"),  # the letter on the shape
                Priority.MEDIUM: QColor("white"), Priority.LOW: QColor("black")}

TREND_PENS = ["#1f1f1f", "#1f4e9c", "#7a3d00", "#3d6b2f", "#5e2f7a", "#2f6b6b"]

QUALITY_BADGE = {Quality.GOOD: "", Quality.UNCERTAIN: "?", Quality.BAD: "BAD", Quality.COMM_LOST: "COMM"}


def value_font(point_size: int = 16) -> QFont:
    font = QFont()
    font.setPointSize(point_size)
    font.setBold(True)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFamilies(["DejaVu Sans Mono", "Consolas", "Monospace"])
    return font


def quality_color(quality: Quality) -> QColor:
    if quality is Quality.GOOD:
        return TEXT
    if quality is Quality.UNCERTAIN:
        return UNCERTAIN
    return BAD_DATA
