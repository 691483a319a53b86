"""Alarm definitions in the site project (ISA-18.2 / IEC 62682), per tag under ``alarms:``.

```yaml
tags:
  - name: tank_level
    area: Tank T-101
    alarms:
      - {type: hihi, limit: 4.7, priority: critical, latching: true}
      - {type: hi, limit: 4.5, deadband: 0.05, on_delay_s: 2, message: "Level high: {value:.2f} {units}"}
      - {type: deviation, setpoint: tank_level_sp, limit: 0.5, suppress_when: "not pump_running"}
      - {type: rate, limit: 0.05, window_s: 10}            # |change| per second over 10 s
  - name: pump_tripped
    alarms: [{type: state, state: true, priority: high, group: pump}]
```

Conventions: a high alarm is active while the value is above ``limit`` and clears at or below
``limit - deadband``; a low alarm is active below ``limit`` and clears at or above ``limit + deadband``;
deviation and rate compare the absolute difference or rate the same way. Limit, deviation and rate
alarms hold their state while the value is bad or lost (the ``bad_quality`` and ``comm_loss`` types
say so on their own).
"""

from __future__ import annotations

import enum
import string
from typing import Literal

from pydantic import Field, model_validator

from hmi.site.schema_base import NAME_PATTERN, Strict


class Priority(enum.IntEnum):
    """Four priorities (ISA-18.2 recommends three or four); the value orders them."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()


AlarmType = Literal["hihi", "hi", "lo", "lolo", "deviation", "rate", "state", "bad_quality", "comm_loss"]
PRIORITY_NAMES = Literal["low", "medium", "high", "critical"]
NEEDS_LIMIT = {"hihi", "hi", "lo", "lolo", "deviation", "rate"}
HIGH_TYPES = {"hihi", "hi"}
LOW_TYPES = {"lo", "lolo"}
DEFAULT_NAMES = {"hihi": "HIHI", "hi": "HI", "lo": "LO", "lolo": "LOLO", "deviation": "DEV", "rate": "ROC",
                 "state": "STATE", "bad_quality": "BAD", "comm_loss": "COMM"}
DEFAULT_TEXT = {"hihi": "very high", "hi": "high", "lo": "low", "lolo": "very low", "deviation": "deviation",
                "rate": "changing too fast", "state": "alarm", "bad_quality": "bad value",
                "comm_loss": "communication lost"}
MESSAGE_FIELDS = {"tag", "description", "value", "limit", "units", "setpoint", "priority", "area", "name"}


class AlarmSpec(Strict):
    type: AlarmType
    name: str | None = Field(default=None, pattern=NAME_PATTERN)  # default: HI, LOLO, DEV...; id = tag.name
    limit: float | None = Field(default=None, allow_inf_nan=False)
    setpoint: str | None = None  # deviation: the tag the value is compared with
    state: bool | int = True  # state: the value that is the alarm
    window_s: float = Field(default=10.0, gt=0, le=3600, allow_inf_nan=False)  # rate: over how long
    priority: PRIORITY_NAMES = "medium"
    deadband: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    on_delay_s: float = Field(default=0.0, ge=0, le=3600, allow_inf_nan=False)
    off_delay_s: float = Field(default=0.0, ge=0, le=3600, allow_inf_nan=False)
    message: str = ""  # str.format fields: tag, description, value, limit, units, setpoint, priority, area, name
    area: str = ""  # default: the tag's area
    latching: bool = False  # stays in alarm after it clears until an operator resets it
    suppress_when: str | None = None  # suppressed by design while this expression is true
    group: str | None = None  # first-out group
    in_service: bool = True  # false: out of service from the start (commissioning)

    @model_validator(mode="after")
    def _consistent(self) -> AlarmSpec:
        if self.type in NEEDS_LIMIT and self.limit is None:
            raise ValueError(f"a {self.type} alarm needs 'limit' (a number)")
        if self.type not in NEEDS_LIMIT and self.limit is not None:
            raise ValueError(f"a {self.type} alarm has no 'limit'")
        if (self.type == "deviation") != (self.setpoint is not None):
            raise ValueError("'setpoint' (a tag name) is what a deviation alarm needs, and only it")
        if self.type in ("deviation", "rate") and self.limit is not None and self.limit <= 0:
            raise ValueError(f"a {self.type} alarm's limit is a size and must be above 0")
        if self.message:
            check_message(self.message)
        return self

    @property
    def alarm_name(self) -> str:
        return self.name or DEFAULT_NAMES[self.type]

    @property
    def priority_level(self) -> Priority:
        return Priority[self.priority.upper()]


def check_message(text: str) -> None:
    """ValueError unless `text` is a str.format template over MESSAGE_FIELDS."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValueError(f"message {text!r}: {exc}") from None
    for field in fields:
        base = field.split(".")[0].split("[")[0]
        if base not in MESSAGE_FIELDS:
            known = ", ".join(sorted(MESSAGE_FIELDS))
            raise ValueError(f"message {text!r}: unknown field {{{field}}} (known: {known})")


class AlarmSettings(Strict):
    """Site-wide alarm handling (site.yaml ``alarms:``); defaults follow EEMUA 191 / ISA-18.2."""

    flood_alarms: int = Field(default=10, ge=1)  # more than this many new alarms in flood_window_s is a flood
    flood_window_s: float = Field(default=600.0, gt=0, le=86400, allow_inf_nan=False)
    max_shelve_h: float = Field(default=8.0, gt=0, le=24 * 30, allow_inf_nan=False)
    chattering_per_min: int = Field(default=3, ge=2)
    stale_after_h: float = Field(default=24.0, gt=0, allow_inf_nan=False)
    sound: bool = True  # a distinct tone per priority for unacknowledged alarms
