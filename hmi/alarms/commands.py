"""Operator alarm commands for both kinds of alarm in the list, and the PLCs' own alarms.

Local alarms (evaluated by the engine) are commanded in the engine. OPC UA Alarms & Conditions are the
server's: acknowledging one calls the condition's Acknowledge method on the server with the EventId of the
state the operator saw (OPC UA Part 9), and the list changes when the server reports the new state, so the
screen never shows an acknowledgement the PLC did not take. Runs on the io loop.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from hmi.alarms.engine import AlarmEngine
from hmi.alarms.model import AlarmCommandError, AlarmSnapshot, AlarmState
from hmi.site.alarm_schema import Priority
from hmi.storage.journal import Category, Journal, JournalEntry

log = logging.getLogger(__name__)

LOCAL_COMMANDS = {"acknowledge", "reset", "shelve", "unshelve", "remove_from_service", "return_to_service",
                  "comment"}


def priority_of(severity: int) -> Priority:
    """OPC UA severity (1..1000) in four bands, the usual mapping of servers that expose four priorities."""
    if severity > 800:
        return Priority.CRITICAL
    if severity > 600:
        return Priority.HIGH
    if severity > 400:
        return Priority.MEDIUM
    return Priority.LOW


def condition_state(event: Any) -> AlarmState:
    if event.out_of_service:
        return AlarmState.OUT_OF_SERVICE
    if event.shelved:
        return AlarmState.SHELVED
    if event.suppressed:
        return AlarmState.SUPPRESSED
    if event.active:
        return AlarmState.ACKNOWLEDGED if event.acked else AlarmState.UNACKNOWLEDGED
    if event.acked is False:
        return AlarmState.RTN_UNACKNOWLEDGED
    return AlarmState.NORMAL


class AlarmCommands:
    def __init__(self, engine: AlarmEngine, journal: Journal, drivers: dict[str, Any]) -> None:
        self.engine = engine
        self.journal = journal
        self.drivers = drivers  # the runtime's, by connection name
        self._events: dict[str, Any] = {}  # alarm id -> the latest ConditionEvent (its EventId is acknowledged)

    async def run(self, command: str, ids: list[str], user: str, **arguments: Any) -> Any:
        if command not in LOCAL_COMMANDS:
            raise AlarmCommandError(f"unknown alarm command {command!r}")
        external = [i for i in ids if i in self._events]
        local = [i for i in ids if i not in self._events]
        result: Any = None
        if external:
            if command != "acknowledge":
                raise AlarmCommandError(f"{', '.join(external)}: a PLC's own alarm can only be acknowledged here "
                                        f"({command.replace('_', ' ')} it on the PLC)")
            result = [i for i in external if await self._acknowledge_on_server(i, user, arguments.get("comment", ""))]
        if local:
            done = getattr(self.engine, command)(local, user, **arguments)
            result = (result or []) + (done or []) if command == "acknowledge" else done
        return result

    async def _acknowledge_on_server(self, alarm_id: str, user: str, comment: str) -> bool:
        event = self._events[alarm_id]
        if event.acked is not False:
            return False
        driver = self.drivers.get(event.connection)
        if driver is None:
            raise AlarmCommandError(f"{alarm_id}: connection {event.connection!r} is not running")
        try:
            await driver.acknowledge(event.condition_id, event.event_id, comment or f"acknowledged by {user}")
        except Exception as exc:
            self._record(alarm_id, "acknowledge", user, event, comment, "failed", str(exc))
            raise AlarmCommandError(f"{alarm_id}: the server refused the acknowledgement: {exc}") from exc
        self._record(alarm_id, "acknowledge", user, event, comment, "ok", event.message)
        return True

    # -- condition events from OPC UA drivers (io loop) ---------------------------------------------------

    def condition_event(self, alarm_id: str) -> Any:
        """The latest ConditionEvent of a PLC's alarm (None once it left the list)."""
        return self._events.get(alarm_id)

    def conditions_received(self, events: list[Any]) -> None:
        for event in events:
            try:
                self._condition(event)
            except Exception:  # one odd event must not stop the others
                log.exception("condition event from %s could not be taken", getattr(event, "connection", "?"))

    def _condition(self, event: Any) -> None:
        alarm_id = f"{event.connection}:{event.condition_id}"
        previous = self._events.get(alarm_id)
        self._events[alarm_id] = event
        state = condition_state(event)
        old = condition_state(previous) if previous is not None else AlarmState.NORMAL
        if state is AlarmState.NORMAL and not event.retain:
            self._events.pop(alarm_id, None)
        now = event.time or time.time()
        was_active = previous is not None and bool(previous.active)
        snapshot = AlarmSnapshot(
            id=alarm_id, tag=event.source or event.source_node, name=event.condition_name or "condition",
            kind="opcua", priority=priority_of(event.severity), area=event.source or event.connection,
            message=event.message, state=state, active=bool(event.active), acknowledged=event.acked is not False,
            latching=False, value=None, limit=None, activated_at=now if event.active else None,
            cleared_at=None if event.active else now, acknowledged_at=None, acknowledged_by="", shelved_until=None,
            shelved_by="", shelve_reason=event.shelving, out_of_service_reason="out of service on the PLC"
            if event.out_of_service else "", comment="", group=None, first_out=False, source=event.connection,
            changed_at=now)
        self.engine.external_changed(snapshot, newly_active=bool(event.active) and not was_active
                                     and state is AlarmState.UNACKNOWLEDGED)
        if state is not old:
            self._record(alarm_id, "condition", "", event, "", "ok", event.message, old, state)

    def _record(self, alarm_id: str, what: str, user: str, event: Any, reason: str, result: str, message: str,
                old: AlarmState | None = None, new: AlarmState | None = None) -> None:
        self.journal.record(JournalEntry(
            ts=time.time(), category=Category.OPERATOR if user else Category.ALARM, event=what, source=alarm_id,
            user=user, old_value=old.value if old else "", new_value=new.value if new else "", reason=reason,
            message=message, result=result))
