"""The alarms as the GUI knows them: one `AlarmList` per window follows the bridge, and the banner, the alarm
summary and the horn read it. Also the words, times and orders every alarm view shares.

The list starts from `Bridge.request_alarms` (every alarm as it is) and then follows `alarms_changed`.
Both arrive through queued signals emitted on the io thread in the order things happened there, so batches
received before the first snapshot are older than it and are simply replaced by it. GUI thread only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from hmi.alarms.engine import FloodStatus
from hmi.alarms.model import AlarmSnapshot, AlarmState
from hmi.bridge import Bridge
from hmi.site.alarm_schema import Priority

log = logging.getLogger(__name__)

STATE_WORDS = {  # what the operator reads in the banner and the summary
    AlarmState.NORMAL: "Normal",
    AlarmState.UNACKNOWLEDGED: "UNACKNOWLEDGED",
    AlarmState.ACKNOWLEDGED: "Acknowledged",
    AlarmState.RTN_UNACKNOWLEDGED: "Cleared, UNACK",  # returned to normal, not yet acknowledged
    AlarmState.LATCHED: "Latched: reset it",  # cleared and acknowledged, held until an operator resets it
    AlarmState.SHELVED: "Shelved",
    AlarmState.SUPPRESSED: "Suppressed by design",
    AlarmState.OUT_OF_SERVICE: "Out of service",
}


def alarm_time(alarm: AlarmSnapshot) -> float | None:
    """When the alarm happened: its (last) activation, else its last change."""
    return alarm.activated_at if alarm.activated_at is not None else (alarm.changed_at or None)


def format_clock(ts: float | None, now: float | None = None, other_day: str = "%m-%d %H:%M") -> str:
    """14:02:11 today, `other_day` (12-04 14:02 where space is short) on another day (local time)."""
    if ts is None:
        return ""
    now = time.time() if now is None else now
    if time.strftime("%Y%m%d", time.localtime(ts)) == time.strftime("%Y%m%d", time.localtime(now)):
        return time.strftime("%H:%M:%S", time.localtime(ts))
    return time.strftime(other_day, time.localtime(ts))


def format_datetime(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def banner_key(alarm: AlarmSnapshot) -> tuple[bool, int, float]:
    """Unacknowledged before acknowledged, then the higher priority, then the newest."""
    return (not alarm.state.unacknowledged, -int(alarm.priority), -(alarm_time(alarm) or 0.0))


def banner_order(alarms: Iterable[AlarmSnapshot]) -> list[AlarmSnapshot]:
    """The alarms that need the operator (annunciated), most important first."""
    return sorted((a for a in alarms if a.state.annunciated), key=banner_key)


@dataclass(frozen=True)
class Counts:
    annunciated: int  # need the operator: in alarm, unacknowledged or latched
    active: int  # of those, with the condition still present
    unacknowledged: int
    shelved: int
    suppressed: int
    out_of_service: int

    def primary(self) -> str:
        """What the operator must know first: "7 active · 3 unacknowledged"."""
        return f"{self.active} active · {self.unacknowledged} unacknowledged"

    def secondary(self) -> str:
        """The rest, what is not zero: "1 cleared · 2 shelved · 1 out of service". Cleared: back to normal but
        still waiting for an acknowledgement or a reset."""
        parts = [f"{n} {words}" for n, words in ((self.annunciated - self.active, "cleared"),
                                                 (self.shelved, "shelved"), (self.suppressed, "suppressed"),
                                                 (self.out_of_service, "out of service")) if n]
        return " · ".join(parts)

    def line(self) -> str:
        """"7 active · 3 unacknowledged · 2 shelved"."""
        return " · ".join(p for p in (self.primary(), self.secondary()) if p)


def count(alarms: Iterable[AlarmSnapshot]) -> Counts:
    annunciated = active = unacked = shelved = suppressed = oos = 0
    for a in alarms:
        state = a.state
        if state.annunciated:
            annunciated += 1
            active += a.active
            unacked += state.unacknowledged
        elif state is AlarmState.SHELVED:
            shelved += 1
        elif state is AlarmState.SUPPRESSED:
            suppressed += 1
        elif state is AlarmState.OUT_OF_SERVICE:
            oos += 1
    return Counts(annunciated, active, unacked, shelved, suppressed, oos)


@dataclass(frozen=True)
class AreaGroup:
    area: str
    alarms: int
    unacknowledged: int
    highest: Priority


def area_groups(alarms: Iterable[AlarmSnapshot]) -> list[AreaGroup]:
    """The annunciated alarms per area (a flood is read by area): the area with the highest priority first,
    then the one with most unacknowledged, then most alarms."""
    groups: dict[str, list[AlarmSnapshot]] = {}
    for a in alarms:
        if a.state.annunciated:
            groups.setdefault(a.area or "(no area)", []).append(a)
    found = [AreaGroup(area, len(members), sum(m.state.unacknowledged for m in members),
                       max(m.priority for m in members)) for area, members in groups.items()]
    return sorted(found, key=lambda g: (-int(g.highest), -g.unacknowledged, -g.alarms, g.area))


class AlarmList(QObject):
    """Every alarm of the site by id (normal ones too), and the flood status. GUI thread."""

    changed = Signal(list, list)  # the snapshots that changed, the ids that are gone (OPC UA conditions)

    def __init__(self, bridge: Bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        settings = bridge.runtime.site.project.alarms
        self.alarms: dict[str, AlarmSnapshot] = {}
        self.flood = FloodStatus(False, 0, settings.flood_window_s, None)
        self.loaded = False  # the first full snapshot arrived
        self._closed = False
        bridge.alarms_changed.connect(self._on_changed)
        bridge.request_alarms(self._on_snapshot)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.bridge.alarms_changed.disconnect(self._on_changed)

    def _on_changed(self, changed: list[AlarmSnapshot], flood: FloodStatus) -> None:
        if self._closed:
            return
        for alarm in changed:
            self.alarms[alarm.id] = alarm
        self.flood = flood
        self.changed.emit(changed, [])

    def _on_snapshot(self, result: tuple[list[AlarmSnapshot], FloodStatus] | None, error: Exception | None) -> None:
        if self._closed:
            return
        if error is not None or result is None:
            log.error("the alarm list could not be read: %s", error)
            return
        alarms, self.flood = result
        fresh = {a.id: a for a in alarms}
        gone = [i for i in self.alarms if i not in fresh]
        self.alarms = fresh
        self.loaded = True
        self.changed.emit(alarms, gone)
