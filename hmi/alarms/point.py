"""One alarm's ISA-18.2 state machine: condition with on/off delays, acknowledgement, latching, shelving,
suppression by design and out of service. Runs on the io loop; every transition is reported to `emit`
(the engine journals it and tells the screens).

The state is kept as independent facts (condition active, acknowledged, latched, and the three reasons
not to annunciate) and the ISA-18.2 state is derived from them, so no combination can be forgotten:
an alarm that becomes active while shelved is tracked silently, and when the shelf expires it is
annunciated as a new, unacknowledged alarm if it is still active.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from drivers.model import Quality
from hmi.alarms.checks import Check
from hmi.alarms.model import AlarmCommandError, AlarmSnapshot, AlarmState
from hmi.alarms.persistence import SavedAlarm
from hmi.site.alarm_schema import DEFAULT_TEXT, AlarmSpec, Priority
from hmi.site.schema import TagSpec

# emit(point, event, user, old state, reason): one journal entry and one change for the screens
Emit = Callable[["AlarmPoint", str, str, AlarmState, str], None]


class AlarmPoint:
    __slots__ = (
        "_setpoints",
        "_snapshot",
        "acknowledged",
        "acknowledged_at",
        "acknowledged_by",
        "activated_at",
        "active",
        "area",
        "check",
        "cleared_at",
        "comment",
        "condition",
        "emit",
        "first_out",
        "id",
        "latched",
        "limit",
        "message",
        "out_of_service_reason",
        "pending_since",
        "priority",
        "shelve_reason",
        "shelved_by",
        "shelved_until",
        "spec",
        "suppressed",
        "tag",
        "tag_spec",
        "timers",
        "value",
    )

    def __init__(self, tag_spec: TagSpec, spec: AlarmSpec, check: Check, emit: Emit, timers: set[AlarmPoint],
                 setpoints: dict[str, Any]) -> None:
        self.tag = tag_spec.name
        self.tag_spec = tag_spec
        self.spec = spec
        self.id = f"{tag_spec.name}.{spec.alarm_name}"
        self.priority = spec.priority_level
        self.area = spec.area or tag_spec.area
        self.limit = spec.limit
        self.check = check
        self.emit = emit
        self.timers = timers  # the engine's set of points waiting for a delay to run out
        self._setpoints = setpoints
        self.condition = False  # what the latest sample says (with the deadband)
        self.active = False  # the condition after the on/off delays
        self.pending_since: float | None = None  # the condition has differed from `active` since then
        self.acknowledged = True
        self.latched = False
        self.shelved_until: float | None = None
        self.shelved_by = ""
        self.shelve_reason = ""
        self.suppressed = False
        self.out_of_service_reason = "" if spec.in_service else "out of service in the site project"
        self.value: Any = None
        self.message = ""
        self.activated_at: float | None = None
        self.cleared_at: float | None = None
        self.acknowledged_at: float | None = None
        self.acknowledged_by = ""
        self.comment = ""
        self.first_out = False
        self._snapshot: AlarmSnapshot | None = None

    # -- state ---------------------------------------------------------------------------------------

    @property
    def blocked(self) -> bool:
        """Not annunciated: shelved, suppressed by design or out of service."""
        return self.shelved_until is not None or self.suppressed or bool(self.out_of_service_reason)

    @property
    def state(self) -> AlarmState:
        if self.out_of_service_reason:
            return AlarmState.OUT_OF_SERVICE
        if self.shelved_until is not None:
            return AlarmState.SHELVED
        if self.suppressed:
            return AlarmState.SUPPRESSED
        if self.active:
            return AlarmState.ACKNOWLEDGED if self.acknowledged else AlarmState.UNACKNOWLEDGED
        if not self.acknowledged:
            return AlarmState.RTN_UNACKNOWLEDGED
        return AlarmState.LATCHED if self.latched else AlarmState.NORMAL

    # -- samples (io loop, every sample of the tag) ----------------------------------------------------

    def feed(self, value: Any, quality: Quality, ts: float, now: float) -> None:
        condition = self.check(value, quality, ts, self.condition)
        self.value = value
        if condition is None or (condition is self.condition and self.pending_since is None):
            return
        self.condition = condition
        if condition is self.active:
            self.pending_since = None  # it went back before the delay ran out
            self.timers.discard(self)
            return
        delay = self.spec.on_delay_s if condition else self.spec.off_delay_s
        if delay <= 0:
            self._settle(value, now)
        elif self.pending_since is None:
            self.pending_since = now
            self.timers.add(self)

    def expire(self, now: float) -> bool:
        """A delay ran out (engine tick). True when the point no longer waits."""
        if self.pending_since is None:
            return True
        delay = self.spec.on_delay_s if self.condition else self.spec.off_delay_s
        if now - self.pending_since < delay:
            return False
        self._settle(self.value, self.pending_since + delay)
        return True

    def _settle(self, value: Any, now: float) -> None:
        self.pending_since = None
        self.timers.discard(self)
        old = self.state
        self.active = self.condition
        if self.active:
            self.value = value
            self.activated_at = now
            self.cleared_at = None
            self.first_out = False
            if not self.blocked:
                self.acknowledged = False
                self.acknowledged_at = None
                self.acknowledged_by = ""
                self.message = self.render(value)
            self._changed("alarm_active", "", old, "", now)
        else:
            self.cleared_at = now
            if self.spec.latching and not self.blocked:
                self.latched = True
            self._changed("alarm_cleared", "", old, "", now)

    # -- operator and engine commands (io loop) ----------------------------------------------------------

    def acknowledge(self, user: str, comment: str, now: float) -> None:
        if self.acknowledged or self.blocked:
            raise AlarmCommandError(f"{self.id} is {self.state.value}: there is nothing to acknowledge")
        old = self.state
        self.acknowledged = True
        self.acknowledged_at = now
        self.acknowledged_by = user
        if comment:
            self.comment = comment
        self._changed("acknowledge", user, old, comment, now)

    def reset(self, user: str, comment: str, now: float) -> None:
        """Reset a latched alarm whose condition has cleared (acknowledging it too)."""
        if self.active and self.spec.latching:
            raise AlarmCommandError(f"{self.id} is still active: it can be reset once the condition clears")
        if not self.latched:
            raise AlarmCommandError(f"{self.id} is {self.state.value}: only a latched alarm is reset")
        old = self.state
        self.latched = False
        if not self.acknowledged:
            self.acknowledged, self.acknowledged_at, self.acknowledged_by = True, now, user
        self._changed("reset", user, old, comment, now)

    def shelve(self, user: str, reason: str, until: float, now: float) -> None:
        if not reason.strip():
            raise AlarmCommandError(f"{self.id}: shelving needs a reason")
        if self.out_of_service_reason:
            raise AlarmCommandError(f"{self.id} is out of service: return it to service first")
        if not math.isfinite(until) or until <= now:
            raise AlarmCommandError(f"{self.id}: a shelf must end in the future")
        old = self.state
        self.shelved_until, self.shelved_by, self.shelve_reason = until, user, reason.strip()
        self._changed("shelve", user, old, self.shelve_reason, now)

    def unshelve(self, user: str, reason: str, now: float) -> None:
        if self.shelved_until is None:
            raise AlarmCommandError(f"{self.id} is not shelved")
        old = self.state
        self.shelved_until, self.shelved_by, self.shelve_reason = None, "", ""
        self._resume(now)
        self._changed("unshelve", user, old, reason, now)

    def set_suppressed(self, suppressed: bool, now: float) -> None:
        """Suppression by design follows the site's `suppress_when` expression."""
        if suppressed is self.suppressed:
            return
        old = self.state
        self.suppressed = suppressed
        if not suppressed:
            self._resume(now)
        self._changed("suppressed" if suppressed else "unsuppressed", "", old, self.spec.suppress_when or "", now)

    def remove_from_service(self, user: str, reason: str, now: float) -> None:
        if not reason.strip():
            raise AlarmCommandError(f"{self.id}: taking an alarm out of service needs a reason")
        if self.out_of_service_reason:
            raise AlarmCommandError(f"{self.id} is already out of service")
        old = self.state
        self.out_of_service_reason = reason.strip()
        self.shelved_until, self.shelved_by, self.shelve_reason = None, "", ""
        self._changed("out_of_service", user, old, self.out_of_service_reason, now)

    def return_to_service(self, user: str, reason: str, now: float) -> None:
        if not self.out_of_service_reason:
            raise AlarmCommandError(f"{self.id} is in service")
        old = self.state
        self.out_of_service_reason = ""
        self._resume(now)
        self._changed("return_to_service", user, old, reason, now)

    def add_comment(self, user: str, text: str, now: float) -> None:
        if not text.strip():
            raise AlarmCommandError(f"{self.id}: the comment is empty")
        self.comment = text.strip()
        self._changed("comment", user, self.state, self.comment, now)

    def _resume(self, now: float) -> None:
        """Back to annunciation: an alarm still active is new to the operator; one that cleared meanwhile
        is simply normal (ISA-18.2 returns a shelved or suppressed alarm without its history)."""
        if self.blocked:
            return
        self.latched = False
        if self.active:
            self.acknowledged, self.acknowledged_at, self.acknowledged_by = False, None, ""
            self.activated_at = now
            self.message = self.render(self.value)
        else:
            self.acknowledged = True

    def _changed(self, event: str, user: str, old: AlarmState, reason: str, now: float) -> None:
        self._snapshot = None
        self.emit(self, event, user, old, reason)

    # -- restart ---------------------------------------------------------------------------------------

    def saved(self) -> SavedAlarm | None:
        """What a restart must keep, or None for an alarm at normal with nothing to remember."""
        if self.state is AlarmState.NORMAL:
            return None
        return SavedAlarm(self.active, self.acknowledged, self.latched, self.activated_at, self.acknowledged_at,
                          self.acknowledged_by, self.message, self.shelved_until, self.shelved_by,
                          self.shelve_reason, self.out_of_service_reason, self.comment)

    def restore(self, saved: SavedAlarm, now: float) -> None:
        """Take the state from before a restart (before any sample). An alarm that was active is still taken
        as active until a sample says otherwise: no new activation if it is, a normal clear if it is not."""
        self.active = self.condition = saved.active
        self.acknowledged = saved.acknowledged
        self.latched = saved.latched and self.spec.latching
        self.activated_at, self.acknowledged_at = saved.activated_at, saved.acknowledged_at
        self.acknowledged_by, self.message, self.comment = saved.acknowledged_by, saved.message, saved.comment
        if saved.shelved_until is not None and saved.shelved_until > now:
            self.shelved_until, self.shelved_by, self.shelve_reason = (saved.shelved_until, saved.shelved_by,
                                                                       saved.shelve_reason)
        if self.spec.in_service:  # the site may have taken it out of service since
            self.out_of_service_reason = saved.out_of_service_reason
        self._snapshot = None

    # -- presentation ------------------------------------------------------------------------------------

    def render(self, value: Any) -> str:
        """The alarm's message with its value substituted (a template that cannot take the value falls back
        to the default text rather than losing the alarm)."""
        tag = self.tag_spec
        fields = {"tag": tag.name, "description": tag.description or tag.name, "value": value,
                  "limit": self.limit, "units": tag.units, "priority": self.priority.label, "area": self.area,
                  "name": self.spec.alarm_name, "setpoint": self._setpoints.get(self.spec.setpoint or "")}
        if self.spec.message:
            try:
                return self.spec.message.format(**fields)
            except (ValueError, TypeError, KeyError, AttributeError, IndexError):
                pass
        text = f"{tag.description or tag.name} {DEFAULT_TEXT[self.spec.type]}"
        if self.limit is not None and isinstance(value, int | float) and not isinstance(value, bool):
            units = f" {tag.units}" if tag.units else ""
            text += f": {value:.{tag.decimals}f}{units} (limit {self.limit:g}{units})"
        return text

    def snapshot(self, now: float) -> AlarmSnapshot:
        if self._snapshot is None:
            self._snapshot = AlarmSnapshot(
                id=self.id, tag=self.tag, name=self.spec.alarm_name, kind=self.spec.type, priority=self.priority,
                area=self.area, message=self.message or self.render(self.value), state=self.state,
                active=self.active, acknowledged=self.acknowledged, latching=self.spec.latching, value=self.value,
                limit=self.limit, activated_at=self.activated_at, cleared_at=self.cleared_at,
                acknowledged_at=self.acknowledged_at, acknowledged_by=self.acknowledged_by,
                shelved_until=self.shelved_until, shelved_by=self.shelved_by, shelve_reason=self.shelve_reason,
                out_of_service_reason=self.out_of_service_reason, comment=self.comment, group=self.spec.group,
                first_out=self.first_out, changed_at=now)
        return self._snapshot


__all__ = ["AlarmPoint", "Emit", "Priority"]
