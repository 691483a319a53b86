"""OPC UA Alarms & Conditions (Part 9): the event filter we ask for, and condition records.

We build our own EventFilter rather than the library's default one because a client must
select the ConditionId explicitly (a clause on ConditionType with an empty browse path and
the NodeId attribute); without it an Acknowledge cannot name the condition. Fields are read by
position, so any conformant server works, whatever its event type hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from asyncua import ua

_BASE = ua.NodeId(ua.ObjectIds.BaseEventType)
_CONDITION = ua.NodeId(ua.ObjectIds.ConditionType)
_ACKABLE = ua.NodeId(ua.ObjectIds.AcknowledgeableConditionType)
_ALARM = ua.NodeId(ua.ObjectIds.AlarmConditionType)

# (key, event type that defines it, browse path); key None = the ConditionId clause
_SELECT: list[tuple[str, ua.NodeId, tuple[str, ...]]] = [
    ("condition_id", _CONDITION, ()),
    ("event_id", _BASE, ("EventId",)),
    ("source_node", _BASE, ("SourceNode",)),
    ("source", _BASE, ("SourceName",)),
    ("time", _BASE, ("Time",)),
    ("message", _BASE, ("Message",)),
    ("severity", _BASE, ("Severity",)),
    ("condition_name", _CONDITION, ("ConditionName",)),
    ("retain", _CONDITION, ("Retain",)),
    ("enabled", _CONDITION, ("EnabledState", "Id")),
    ("acked", _ACKABLE, ("AckedState", "Id")),
    ("confirmed", _ACKABLE, ("ConfirmedState", "Id")),
    ("active", _ALARM, ("ActiveState", "Id")),
    ("active_text", _ALARM, ("ActiveState",)),
    # ISA-18.2 / IEC 62682 states an alarm list must show: absent fields (older servers) stay None
    ("shelving", _ALARM, ("ShelvingState", "CurrentState")),
    ("suppressed", _ALARM, ("SuppressedState", "Id")),
    ("out_of_service", _ALARM, ("OutOfServiceState", "Id")),
]


def condition_filter() -> ua.EventFilter:
    event_filter = ua.EventFilter()
    for _key, type_id, path in _SELECT:
        operand = ua.SimpleAttributeOperand()
        operand.TypeDefinitionId = type_id
        operand.BrowsePath = [ua.QualifiedName(name, 0) for name in path]
        operand.AttributeId = ua.AttributeIds.Value if path else ua.AttributeIds.NodeId
        event_filter.SelectClauses.append(operand)
    return event_filter


@dataclass(frozen=True)
class ConditionEvent:
    """One state of one condition as the server reported it (an alarm engine takes these)."""

    connection: str
    condition_id: str  # NodeId string of the condition instance
    event_id: bytes  # what Acknowledge/Confirm must quote: the state being acknowledged
    source: str
    source_node: str
    time: float
    message: str
    severity: int  # 1..1000 (OPC UA)
    condition_name: str
    active: bool | None
    active_text: str  # e.g. "High", "HighHigh", "Active"
    acked: bool | None
    confirmed: bool | None
    retain: bool
    enabled: bool | None
    shelving: str = ""  # "" (not shelvable or unshelved), "TimedShelved", "OneShotShelved", ...
    suppressed: bool | None = None
    out_of_service: bool | None = None

    @property
    def shelved(self) -> bool:
        return self.shelving not in ("", "Unshelved")


def to_condition(connection: str, fields: list[ua.Variant]) -> ConditionEvent | None:
    """A record from the event's fields; None for an event that is not a condition."""
    raw: dict[str, Any] = {key: (fields[i].Value if i < len(fields) else None)
                           for i, (key, _t, _p) in enumerate(_SELECT)}
    condition_id = raw["condition_id"]
    if not isinstance(condition_id, ua.NodeId) or condition_id.is_null():
        return None
    stamp = raw["time"]
    if stamp is not None and stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return ConditionEvent(
        connection=connection,
        condition_id=condition_id.to_string(),
        event_id=bytes(raw["event_id"] or b""),
        source=str(raw["source"] or ""),
        source_node=raw["source_node"].to_string() if isinstance(raw["source_node"], ua.NodeId) else "",
        time=stamp.timestamp() if stamp is not None else 0.0,
        message=_text(raw["message"]),
        severity=int(raw["severity"] or 0),
        condition_name=str(raw["condition_name"] or ""),
        active=_bool(raw["active"]),
        active_text=_text(raw["active_text"]),
        acked=_bool(raw["acked"]),
        confirmed=_bool(raw["confirmed"]),
        retain=bool(raw["retain"]),
        enabled=_bool(raw["enabled"]),
        shelving=_text(raw["shelving"]),
        suppressed=_bool(raw["suppressed"]),
        out_of_service=_bool(raw["out_of_service"]),
    )


def _text(value: Any) -> str:
    if isinstance(value, ua.LocalizedText):
        return value.Text or ""
    return "" if value is None else str(value)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)
