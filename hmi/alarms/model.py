"""What the rest of Linewise sees of an alarm: its ISA-18.2 state and a frozen snapshot per change."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hmi.site.alarm_schema import Priority


class AlarmState(enum.Enum):
    """ISA-18.2 alarm states, as shown to the operator.

    Shelved, suppressed by design and out of service take precedence (the alarm is not annunciated);
    otherwise the state follows from the condition (active or not), acknowledgement and latching.
    """

    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"  # active, not acknowledged
    ACKNOWLEDGED = "acknowledged"  # active, acknowledged
    RTN_UNACKNOWLEDGED = "returned unacknowledged"  # back to normal, not yet acknowledged
    LATCHED = "latched"  # back to normal and acknowledged, held until reset
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"  # by design: a condition of the plant (unit stopped) makes it meaningless
    OUT_OF_SERVICE = "out of service"

    @property
    def annunciated(self) -> bool:
        """Shown in the banner and summary as needing the operator."""
        return self in (AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED,
                        AlarmState.LATCHED)

    @property
    def unacknowledged(self) -> bool:
        return self in (AlarmState.UNACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED)


class AlarmCommandError(ValueError):
    """An operator command that does not apply to the alarm's state; the message says why."""


@dataclass(frozen=True, slots=True)
class AlarmSnapshot:
    """One alarm at one moment (built on the io loop, read anywhere)."""

    id: str  # "tag.NAME", or "connection:condition" for an OPC UA condition
    tag: str
    name: str
    kind: str  # hi, lolo, deviation, state, ... or "opcua"
    priority: Priority
    area: str
    message: str  # rendered with the value at activation
    state: AlarmState
    active: bool
    acknowledged: bool
    latching: bool
    value: object  # the value that activated it (or the last one seen while active)
    limit: float | None
    activated_at: float | None  # epoch s of the current or last activation
    cleared_at: float | None
    acknowledged_at: float | None
    acknowledged_by: str
    shelved_until: float | None
    shelved_by: str
    shelve_reason: str
    out_of_service_reason: str
    comment: str
    group: str | None
    first_out: bool
    source: str = "local"  # "local" (Linewise evaluates it) or the OPC UA connection's name
    changed_at: float = 0.0
