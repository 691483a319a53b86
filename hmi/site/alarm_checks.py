"""Cross-checks of alarm definitions that need the whole site: tags named by deviation alarms and
suppression expressions exist, limits are ordered, names are unique. Problems go to `report(loc, message)`
so that the loader attaches file and line."""

from __future__ import annotations

from collections.abc import Callable

from drivers.values import DataType
from hmi.site.expressions import ExpressionError, parse_expression
from hmi.site.schema import SiteProject, TagSpec

Report = Callable[[tuple[str | int, ...], str], None]
NUMERIC_ONLY = {"hihi", "hi", "lo", "lolo", "deviation", "rate"}
NOT_NUMERIC = {DataType.BOOL, DataType.STRING}


def check_alarms(project: SiteProject, report: Report) -> None:
    tags = {t.name: t for t in project.tags}
    for i, tag in enumerate(project.tags):
        names: set[str] = set()
        for j, alarm in enumerate(tag.alarms):
            loc = ("tags", i, "alarms", j)
            if alarm.alarm_name in names:
                report((*loc, "name"), f"{tag.name} has two alarms named {alarm.alarm_name!r}: give one a 'name'")
            names.add(alarm.alarm_name)
            if alarm.type in NUMERIC_ONLY and tag.data_type in NOT_NUMERIC:
                report((*loc, "type"), f"a {alarm.type} alarm needs a number, but {tag.name} is {tag.data_type.value}")
            if alarm.setpoint is not None:
                _check_setpoint(alarm.setpoint, tags, (*loc, "setpoint"), report)
            if alarm.suppress_when is not None:
                try:
                    parse_expression(alarm.suppress_when, known_tags=tags)
                except ExpressionError as exc:
                    report((*loc, "suppress_when"), str(exc))
        _check_limit_order(tag, i, report)


def _check_setpoint(name: str, tags: dict[str, TagSpec], loc: tuple[str | int, ...], report: Report) -> None:
    setpoint = tags.get(name)
    if setpoint is None:
        report(loc, f"unknown tag {name!r}")
    elif setpoint.data_type in NOT_NUMERIC:
        report(loc, f"the setpoint {name!r} must be a number, not {setpoint.data_type.value}")


def _check_limit_order(tag: TagSpec, index: int, report: Report) -> None:
    """hihi >= hi > lo >= lolo: a very-high limit below the high one is a typo that hides an alarm."""
    limits = {a.type: (j, a.limit) for j, a in enumerate(tag.alarms) if a.type in ("hihi", "hi", "lo", "lolo")}
    order = [("hihi", "hi", False), ("hi", "lo", True), ("lo", "lolo", False), ("hihi", "lo", True),
             ("hi", "lolo", True), ("hihi", "lolo", True)]
    for upper, lower, strict in order:
        if upper in limits and lower in limits:
            (j, high), (_, low) = limits[upper], limits[lower]
            assert high is not None
            assert low is not None
            if high < low or (strict and high == low):
                report(("tags", index, "alarms", j, "limit"),
                       f"the {upper} limit ({high:g}) must be {'above' if strict else 'at or above'} the {lower} "
                       f"limit ({low:g})")
                return
