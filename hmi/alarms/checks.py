"""Alarm conditions: each check turns one sample into "in alarm" (True), "not" (False) or "hold"
(None, when the sample says nothing about the condition: a limit alarm on a lost value).

Checks are called for every sample of their tag (hundreds of thousands a second on a large site), so
each is one small closure with its parameters bound, and `active` (the current condition) carries the
deadband's hysteresis: a high alarm trips above the limit and clears at or below limit - deadband.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from drivers.model import Quality
from hmi.site.alarm_schema import HIGH_TYPES, LOW_TYPES, AlarmSpec

Check = Callable[[Any, Quality, float, bool], "bool | None"]
BAD = Quality.BAD


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


def make_check(spec: AlarmSpec, values: Mapping[str, Any]) -> Check:
    """The check for one alarm; `values` holds the latest values of other tags (a deviation's setpoint)."""
    kind = spec.type
    if kind in HIGH_TYPES or kind in LOW_TYPES:
        return _limit(spec.limit or 0.0, spec.deadband, kind in HIGH_TYPES)
    if kind == "deviation":
        assert spec.setpoint is not None
        return _deviation(spec.limit or 0.0, spec.deadband, spec.setpoint, values)
    if kind == "rate":
        return _rate(spec.limit or 0.0, spec.deadband, spec.window_s)
    if kind == "state":
        return _state(spec.state)
    if kind == "bad_quality":
        return _bad_quality
    if kind == "comm_loss":
        return _comm_loss
    raise ValueError(f"unknown alarm type {kind!r}")


def _limit(limit: float, deadband: float, high: bool) -> Check:
    clear_at = limit - deadband if high else limit + deadband

    def check(value: Any, quality: Quality, ts: float, active: bool) -> bool | None:
        if quality >= BAD or value is None:
            return None
        try:
            if high:
                return value > clear_at if active else value > limit
            return value < clear_at if active else value < limit
        except TypeError:  # a string or array where a number was configured
            return None

    return check


def _deviation(limit: float, deadband: float, setpoint: str, values: Mapping[str, Any]) -> Check:
    clear_at = limit - deadband

    def check(value: Any, quality: Quality, ts: float, active: bool) -> bool | None:
        sp = _number(values.get(setpoint))
        number = _number(value)
        if quality >= BAD or sp is None or number is None:
            return None
        return abs(number - sp) > (clear_at if active else limit)

    return check


def _rate(limit: float, deadband: float, window_s: float) -> Check:
    """|change| per second between this sample and the one at the start of the window (by source time)."""
    history: deque[tuple[float, float]] = deque()
    clear_at = limit - deadband

    def check(value: Any, quality: Quality, ts: float, active: bool) -> bool | None:
        number = _number(value)
        if quality >= BAD or number is None:
            history.clear()  # a gap: the rate across it means nothing
            return None
        while len(history) > 1 and history[1][0] <= ts - window_s:
            history.popleft()
        if history and ts < history[-1][0]:
            history.clear()  # the source's clock went back
        history.append((ts, number))
        t0, v0 = history[0]
        if ts - t0 <= 0:
            return None
        return abs(number - v0) / (ts - t0) > (clear_at if active else limit)

    return check


def _state(alarm_value: bool | int) -> Check:
    def check(value: Any, quality: Quality, ts: float, active: bool) -> bool | None:
        if quality >= BAD or value is None:
            return None
        if isinstance(alarm_value, bool):
            return bool(value) is alarm_value
        return value == alarm_value

    return check


def _bad_quality(value: Any, quality: Quality, ts: float, active: bool) -> bool | None:
    if quality is Quality.COMM_LOST:
        return None  # the comm_loss alarm's business; the value's own quality is unknown
    return quality is Quality.BAD


def _comm_loss(value: Any, quality: Quality, ts: float, active: bool) -> bool | None:
    return quality is Quality.COMM_LOST
