"""The alarm banner, always in view between the header and the screen (ISA-18.2 / ISA-101).

Up to three lines, most important first (unacknowledged before acknowledged, then priority, then newest),
each: the priority indicator (colour, shape and letter) and name, the time, the area, the message and the
state in words. Beside them, the counts ("7 active · 3 unacknowledged · 2 shelved"). During an alarm flood
the banner says ALARM FLOOD with the number of alarms in the flood window and shows the areas instead
(alarms, unacknowledged and the highest priority per area): a scroll of single alarms helps nobody then.

**Acknowledge shown** acknowledges exactly the alarms on the lines, nothing hidden (ISA-18.2: an operator
acknowledges what they have seen); in a flood it is off and the summary is the place. **Silence** silences
the horn, **Alarms…** opens the summary (a click on a line opens it too, on that line's area). The banner
keeps its height, so the screen below never moves under the operator's hand.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from hmi.alarms.model import AlarmSnapshot
from hmi.bridge import Bridge
from widgets.alarm_horn import AlarmHorn
from widgets.alarm_list import (
    STATE_WORDS,
    AlarmList,
    AreaGroup,
    alarm_time,
    area_groups,
    banner_order,
    count,
    format_clock,
)
from widgets.alarm_priority import NAMES, paint_priority

LINES = 3
UNACKED_FILL = QColor("#f2f2f2")  # an unacknowledged alarm's line stands out by contrast, not by colour
ACKED_FILL = QColor("#d6d6d6")
INK = QColor("#111111")
DIM_INK = QColor("#555555")
GAP = 12
STYLE = """
QFrame#alarmBanner { background: #bebebe; border-bottom: 1px solid #8c8c8c; }
QLabel#alarmFlood { background: #1a1a1a; color: white; font-weight: bold; padding: 1px 6px; }
QLabel#alarmCounts { color: #222222; }
QPushButton:disabled { color: #8a8a8a; border-color: #a4a4a4; }
"""


def group_text(group: AreaGroup) -> str:
    alarms = f"{group.alarms} alarm" + ("" if group.alarms == 1 else "s")
    return f"{alarms} · {group.unacknowledged} unacknowledged"  # the line starts with the highest priority


class BannerLine(QWidget):
    """One painted line: an alarm, an area of a flood, a plain text, or nothing."""

    clicked = Signal(str)  # the area to open the summary on ("" for all)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alarm: AlarmSnapshot | None = None
        self.group: AreaGroup | None = None
        self.note = ""
        self.strong_note = False
        self.state_width = 0  # set by the banner: the widest state shown, so that the columns line up
        self.setFixedHeight(QFontMetrics(self.font()).height() + 7)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_alarm(self, alarm: AlarmSnapshot | None) -> None:
        self.alarm, self.group, self.note = alarm, None, ""
        self._changed()

    def show_group(self, group: AreaGroup) -> None:
        self.alarm, self.group, self.note = None, group, ""
        self._changed()

    def show_note(self, text: str, strong: bool = False) -> None:
        self.alarm, self.group, self.note, self.strong_note = None, None, text, strong
        self._changed()

    def _changed(self) -> None:
        clickable = self.alarm is not None or self.group is not None
        self.setCursor(Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor)
        if self.alarm is not None:
            self.setToolTip(f"{self.alarm.id}: {self.alarm.message}\nClick for the alarm summary")
        else:
            self.setToolTip("The area's highest priority, its alarms and how many are unacknowledged.\n"
                            "Click to see this area's alarms" if self.group else "")
        self.update()

    def cells(self) -> list[str]:
        """The texts of the line, as painted (tests and accessibility read them)."""
        if self.alarm is not None:
            a = self.alarm
            return [NAMES[a.priority], format_clock(alarm_time(a)), STATE_WORDS[a.state], a.area, a.message]
        if self.group is not None:
            g = self.group
            return [NAMES[g.highest], g.area, group_text(g)]
        return [self.note] if self.note else []

    def text(self) -> str:
        return "  ".join(self.cells())

    def mouseReleaseEvent(self, event: Any) -> None:
        if self.alarm is not None:
            self.clicked.emit(self.alarm.area)
        elif self.group is not None:
            self.clicked.emit(self.group.area)
        super().mouseReleaseEvent(event)

    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0, 1, 0, -1)
        cells = self.cells()
        if self.alarm is None and self.group is None:
            painter.setPen(INK if self.strong_note else DIM_INK)
            painter.drawText(rect.adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, cells[0] if cells else "")
            return
        if self.alarm is not None:
            priority, bold = self.alarm.priority, self.alarm.state.unacknowledged
        else:
            priority, bold = self.group.highest, bool(self.group.unacknowledged)  # type: ignore[union-attr]
        painter.fillRect(rect, UNACKED_FILL if bold else ACKED_FILL)
        font = QFont(self.font())
        font.setBold(bold)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        side = rect.height() - 4
        paint_priority(painter, QRectF(rect.left() + 6, rect.top() + 2, side, side), priority)
        x = rect.left() + side + GAP
        priority_width = metrics.horizontalAdvance("CRITICAL")
        if self.alarm is not None:  # priority, time, state, area: fixed; the message takes the rest
            state_width = max(self.state_width, metrics.horizontalAdvance(cells[2]))
            widths = [priority_width, metrics.horizontalAdvance("00-00 00:00"), state_width,
                      metrics.horizontalAdvance("0" * 14)]
        else:
            widths = [priority_width, metrics.horizontalAdvance("0" * 22)]
        widths.append(max(40, rect.right() - 6 - x - sum(w + GAP for w in widths)))
        painter.setPen(INK)
        for text, width in zip(cells, widths, strict=True):
            box = QRectF(x, rect.top(), width, rect.height())
            painter.drawText(box, Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(width)))
            x += width + GAP


class AlarmBanner(QFrame):
    open_summary = Signal(str)  # the area to show ("" for all)

    def __init__(self, bridge: Bridge, alarms: AlarmList, horn: AlarmHorn | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setStyleSheet(STYLE)
        self.bridge = bridge
        self.alarms = alarms
        self.horn = horn
        self.shown: list[AlarmSnapshot] = []  # the alarms on the lines, top to bottom
        self.flooding = False
        self.lines = [BannerLine(self) for _ in range(LINES)]
        for line in self.lines:
            line.clicked.connect(self.open_summary)
        self.flood_label = QLabel(self)
        self.flood_label.setObjectName("alarmFlood")
        self.flood_label.hide()
        self.count_label = QLabel(self)  # active and unacknowledged (in a flood: the flood label instead)
        self.count_label.setObjectName("alarmCounts")
        self.detail_label = QLabel(self)  # cleared, shelved, suppressed, out of service
        self.detail_label.setObjectName("caption")
        for label in (self.flood_label, self.count_label, self.detail_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widen the column
        self.feedback = QLabel(self)  # a refused acknowledgement
        self.feedback.setObjectName("caption")
        self.sound_note = QLabel(horn.note() if horn else "", self)
        self.sound_note.setObjectName("caption")
        self.sound_note.setToolTip(f"Alarm horn: {horn.reason}" if horn else "")
        self.ack_button = QPushButton("Acknowledge shown", self)
        self.silence_button = QPushButton("Silence", self)
        self.silence_button.setToolTip("Silence the horn until a new alarm comes in")
        self.summary_button = QPushButton("Alarms…", self)
        self.summary_button.setToolTip("The alarm summary and history (Ctrl+Shift+A)")
        self.ack_button.clicked.connect(self.acknowledge_shown)
        self.silence_button.clicked.connect(self.silence)
        self.summary_button.clicked.connect(lambda: self.open_summary.emit(""))
        self._layout()
        alarms.changed.connect(self.refresh)
        if horn is not None:
            horn.tone_changed.connect(self._update_buttons)
        self.refresh()

    def _layout(self) -> None:
        """Three lines on the left; on the right the buttons and under them the counts and notes in two rows
        (the banner is three lines high, so that a 1366x768 display keeps its room for the screen)."""
        left = QVBoxLayout()
        left.setSpacing(1)
        for line in self.lines:
            left.addWidget(line)
        right_column = QWidget(self)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.ack_button, self.silence_button, self.summary_button):
            buttons.addWidget(button)
        details = QHBoxLayout()
        details.addWidget(self.detail_label, 1)
        details.addWidget(self.feedback)
        details.addWidget(self.sound_note)
        right = QVBoxLayout(right_column)
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(1)
        right.addLayout(buttons)
        right.addWidget(self.flood_label)
        right.addWidget(self.count_label)
        right.addLayout(details)
        right_column.setFixedWidth(max(360, right_column.sizeHint().width()))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 3, 6, 3)
        layout.setSpacing(8)
        layout.addLayout(left, 1)
        layout.addWidget(right_column)

    def text(self) -> str:
        """Everything the banner says, line by line (tests)."""
        lines = [self.flood_label.text().strip()] if self.flooding else []
        lines += [line.text() for line in self.lines]
        lines += [self.count_label.text()] if not self.flooding else []
        lines += [self.detail_label.text(), self.sound_note.text()]
        return "\n".join(line for line in lines if line)

    def refresh(self, *_: object) -> None:
        alarms = list(self.alarms.alarms.values())
        ordered = banner_order(alarms)
        self.flooding = self.alarms.flood.active
        self.shown = [] if self.flooding else ordered[:LINES]
        if self.flooding:
            flood = self.alarms.flood
            self.flood_label.setText(f" ALARM FLOOD: {flood.count} new alarms in {flood.window_s / 60:g} min ")
            groups = area_groups(alarms)
            for i, line in enumerate(self.lines):
                if i == LINES - 1 and len(groups) > LINES:
                    rest = groups[LINES - 1:]
                    line.show_note(f"+ {len(rest)} more areas: " + ", ".join(f"{g.area} ({g.alarms})" for g in rest),
                                   strong=True)
                elif i < len(groups):
                    line.show_group(groups[i])
                else:
                    line.show_alarm(None)
        else:
            for i, line in enumerate(self.lines):
                line.show_alarm(self.shown[i] if i < len(self.shown) else None)
            if not ordered:
                self.lines[0].show_note("No active alarms" if self.alarms.loaded else "Reading the alarms…")
        self.flood_label.setVisible(self.flooding)
        self.count_label.setVisible(not self.flooding)
        counts = count(alarms)
        more = f" · {len(self.shown)} of {len(ordered)} shown" if len(ordered) > len(self.shown) > 0 else ""
        self.count_label.setText(counts.primary() + more)
        self.detail_label.setText(counts.primary() if self.flooding else counts.secondary())
        bold = QFont(self.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        state_width = max((metrics.horizontalAdvance(STATE_WORDS[a.state]) for a in self.shown), default=0)
        for line in self.lines:
            line.state_width = state_width
        self._update_buttons()

    def _update_buttons(self, *_: object) -> None:
        self.ack_button.setEnabled(any(a.state.unacknowledged for a in self.shown))
        self.ack_button.setToolTip("During a flood, acknowledge in the alarm summary (Alarms…), area by area"
                                   if self.flooding else
                                   "Acknowledge the alarms on the lines of the banner (not the hidden ones)")
        self.silence_button.setEnabled(self.horn is not None and self.horn.sounding)

    def acknowledge_shown(self) -> list[str]:
        """Acknowledge the unacknowledged alarms on the lines, and only them; returns their ids."""
        ids = [a.id for a in self.shown if a.state.unacknowledged]
        if ids:
            self.feedback.clear()
            self.bridge.alarm_command("acknowledge", ids, on_done=self._acknowledged)
        return ids

    def _acknowledged(self, _result: object, error: Exception | None) -> None:
        if not shiboken6.isValid(self.feedback):  # the window closed meanwhile
            return
        self.feedback.setText(f"Not acknowledged: {error}" if error is not None else "")
        self.feedback.setToolTip(str(error) if error is not None else "")

    def silence(self) -> None:
        if self.horn is not None:
            self.horn.silence()
