"""The alarm summary's table: a model of every alarm that is not normal, changed row by row as the bridge
reports alarms (never rebuilt per batch), and a filter/sort proxy over it (area, priority, state, text).

Rows are kept in arrival order; a row that leaves (back to normal) is replaced by the last row, so a change
costs O(1) and the view's sorting is the proxy's. GUI thread.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont

from hmi.alarms.model import AlarmSnapshot, AlarmState
from hmi.site import TagSpec
from hmi.site.alarm_schema import Priority
from widgets.alarm_list import STATE_WORDS, alarm_time, format_clock, format_datetime
from widgets.alarm_priority import priority_icon
from widgets.binding import format_value

COLUMNS = ["Priority", "State", "Time active", "Area", "Tag", "Alarm", "Message", "Value", "Acknowledged",
           "Shelved until", "Comment"]
(PRIORITY, STATE, TIME, AREA, TAG, ALARM, MESSAGE, VALUE, ACKED, SHELVED, COMMENT) = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1
ALARM_ROLE = Qt.ItemDataRole.UserRole + 2
STATE_ORDER = {AlarmState.UNACKNOWLEDGED: 0, AlarmState.RTN_UNACKNOWLEDGED: 1, AlarmState.ACKNOWLEDGED: 2,
               AlarmState.LATCHED: 3, AlarmState.SHELVED: 4, AlarmState.SUPPRESSED: 5,
               AlarmState.OUT_OF_SERVICE: 6, AlarmState.NORMAL: 7}
_Index = QModelIndex | QPersistentModelIndex


def format_when(ts: float | None, now: float | None = None) -> str:
    """14:02:11 today, 2026-12-04 14:02 on another day (local time): an alarm standing since yesterday or
    longer shows its date, in the one order nobody misreads."""
    return format_clock(ts, now, other_day="%Y-%m-%d %H:%M")


def iso_local(ts: float) -> str:
    """ISO 8601 in local time with its offset, to the second: 2026-12-04T14:02:11+01:00."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def format_age(seconds: float) -> str:
    """How long ago, coarsely: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24} h"


class StateFilter(enum.Enum):
    """What the summary lists (the first is what needs the operator, the default)."""

    ANNUNCIATED = "Needing attention"
    UNACKNOWLEDGED = "Unacknowledged"
    SHELVED = "Shelved"
    SUPPRESSED = "Suppressed by design"
    OUT_OF_SERVICE = "Out of service"
    ALL = "All, with shelved, suppressed, out of service"

    def accepts(self, state: AlarmState) -> bool:
        if self is StateFilter.ANNUNCIATED:
            return state.annunciated
        if self is StateFilter.UNACKNOWLEDGED:
            return state.unacknowledged
        if self is StateFilter.ALL:
            return True
        return state.name == self.name


class AlarmTableModel(QAbstractTableModel):
    def __init__(self, tags: Mapping[str, TagSpec], parent: Any = None) -> None:
        super().__init__(parent)
        self.tags = tags
        self.rows: list[AlarmSnapshot] = []
        self._row_of: dict[str, int] = {}

    # -- updates -------------------------------------------------------------------------------------------

    def apply(self, changed: Iterable[AlarmSnapshot], gone: Iterable[str] = ()) -> None:
        """Take the alarms that changed: a row changes in place, appears, or leaves when the alarm is normal."""
        for alarm_id in gone:
            self._remove(alarm_id)
        for alarm in changed:
            row = self._row_of.get(alarm.id)
            if alarm.state is AlarmState.NORMAL:
                if row is not None:
                    self._remove(alarm.id)
            elif row is None:
                self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
                self._row_of[alarm.id] = len(self.rows)
                self.rows.append(alarm)
                self.endInsertRows()
            else:
                self.rows[row] = alarm
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _remove(self, alarm_id: str) -> None:
        row = self._row_of.pop(alarm_id, None)
        if row is None:
            return
        last = len(self.rows) - 1
        if row != last:  # the last row takes its place
            moved = self.rows[last]
            self.rows[row] = moved
            self._row_of[moved.id] = row
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        self.beginRemoveRows(QModelIndex(), last, last)
        self.rows.pop()
        self.endRemoveRows()

    # -- Qt model ------------------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        alarm = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(alarm, column)
        if role == SORT_ROLE:
            return sort_key(alarm, column, self.text(alarm, column))
        if role == ID_ROLE:
            return alarm.id
        if role == ALARM_ROLE:
            return alarm
        if role == Qt.ItemDataRole.DecorationRole and column == PRIORITY:
            return priority_icon(alarm.priority)
        if role == Qt.ItemDataRole.FontRole and (alarm.state.unacknowledged or (column == ALARM and alarm.first_out)):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(alarm, column)
        return None

    def text(self, alarm: AlarmSnapshot, column: int) -> str:
        if column == PRIORITY:
            return alarm.priority.name
        if column == STATE:
            return STATE_WORDS[alarm.state]
        if column == TIME:
            return format_when(alarm_time(alarm))
        if column == AREA:
            return alarm.area
        if column == TAG:
            return alarm.tag
        if column == ALARM:
            return f"{alarm.name}  ▶ FIRST OUT" if alarm.first_out else alarm.name
        if column == MESSAGE:
            return alarm.message
        if column == VALUE:
            return self.value_text(alarm)
        if column == ACKED:
            if not alarm.acknowledged or alarm.acknowledged_at is None:
                return ""
            return f"{alarm.acknowledged_by or 'PLC'} at {format_when(alarm.acknowledged_at)}"
        if column == SHELVED:
            return format_when(alarm.shelved_until) if alarm.shelved_until else ""
        if column == COMMENT:
            return alarm.comment
        return ""

    def value_text(self, alarm: AlarmSnapshot) -> str:
        spec = self.tags.get(alarm.tag)
        if spec is None or alarm.value is None:
            return "" if alarm.value is None else str(alarm.value)
        units = f" {spec.units}" if spec.units and not isinstance(alarm.value, bool) else ""
        return format_value(spec, alarm.value) + units


def sort_key(alarm: AlarmSnapshot, column: int, text: str) -> Any:
    if column == PRIORITY:  # priority, then the newest first when sorted descending
        return int(alarm.priority) * 1e10 + (alarm_time(alarm) or 0.0)
    if column == STATE:
        return STATE_ORDER[alarm.state]
    if column == TIME:
        return alarm_time(alarm) or 0.0
    if column == ACKED:
        return alarm.acknowledged_at or 0.0
    if column == SHELVED:
        return alarm.shelved_until or 0.0
    if column == VALUE and isinstance(alarm.value, int | float):
        return float(alarm.value)
    return text.casefold()


def tooltip(alarm: AlarmSnapshot, column: int) -> str:
    if column == TIME:
        ts = alarm_time(alarm)
        return "" if ts is None else f"{iso_local(ts)}  ({format_age(time.time() - ts)} ago)"
    if column == STATE:
        if alarm.state is AlarmState.OUT_OF_SERVICE:
            return f"Out of service: {alarm.out_of_service_reason}"
        if alarm.state is AlarmState.SUPPRESSED:
            return "Suppressed by design: a condition of the plant makes it meaningless now"
        if alarm.state is AlarmState.LATCHED:
            return "The condition cleared; the alarm stays until it is reset"
    if column == SHELVED and alarm.shelved_until:
        return (f"Shelved until {format_datetime(alarm.shelved_until)} by {alarm.shelved_by or '?'}: "
                f"{alarm.shelve_reason}")
    if column == ACKED and alarm.acknowledged and alarm.acknowledged_at is not None:
        return f"Acknowledged by {alarm.acknowledged_by or 'the PLC'} at {format_datetime(alarm.acknowledged_at)}"
    if column == ALARM and alarm.first_out:
        return "First out: the first alarm of its group to come in (the likely cause of the others)"
    if column == PRIORITY:
        return f"Priority {alarm.priority.label}"
    return f"{alarm.id}\n{alarm.message}" if column in (TAG, ALARM, MESSAGE) else ""


class AlarmFilter(QSortFilterProxyModel):
    """Filters by area, priority, state and a text (in tag, alarm, message, area, comment)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.area = ""
        self.priority: Priority | None = None
        self.states = StateFilter.ANNUNCIATED
        self.search = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_filter(self, *, area: str | None = None, priority: Priority | bool | None = False,
                   states: StateFilter | None = None, search: str | None = None) -> None:
        """Change any of the filters (priority=None: every priority)."""
        self.beginFilterChange()
        if area is not None:
            self.area = area
        if priority is not False:
            self.priority = priority  # type: ignore[assignment]
        if states is not None:
            self.states = states
        if search is not None:
            self.search = search.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        alarm: AlarmSnapshot = self.sourceModel().rows[source_row]  # type: ignore[attr-defined]
        if not self.states.accepts(alarm.state):
            return False
        if self.area and alarm.area != self.area:
            return False
        if self.priority is not None and alarm.priority is not self.priority:
            return False
        if self.search:
            haystack = " ".join((alarm.id, alarm.tag, alarm.name, alarm.message, alarm.area, alarm.comment))
            return self.search in haystack.casefold()
        return True
