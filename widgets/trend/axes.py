"""Which value axis each pen is drawn against, and how those axes scale.

One axis per distinct unit (or per configured axis name), on the engineering range of its tags when every
one of them has a range (ISA-101: magnitude reads at a glance), else following the data; on/off pens share
one axis with a band each; or, normalised, one 0-100 % axis for everything that is not on/off.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF

import ext
from widgets.trend.pens import STATE_BAND, STATES_AXIS, TrendPen
from widgets.trend.plot import Scale, ValueAxis
from widgets.trend.series import Reading

NORMALISED = "\x00normalised"  # the key of the one normalised axis (never a unit or an axis name)
Visible = tuple[np.ndarray, np.ndarray, np.ndarray]


def group_axes(pens: list[TrendPen], normalised: bool, autoscale: bool) -> list[ValueAxis]:
    """The value axes for these pens, in order (the first left, the second right, ...)."""
    groups: dict[str, list[TrendPen]] = {}
    for pen in pens:
        pen.offset = 0.0
        key = NORMALISED if normalised and pen.axis_key != STATES_AXIS else pen.axis_key
        groups.setdefault(key, []).append(pen)
    axes = []
    for index, (key, members) in enumerate(groups.items()):
        side = "left" if index % 2 == 0 else "right"
        single = members[0].color if len(members) == 1 else None
        if key == NORMALISED:
            axis = ValueAxis(key, "% of range", None, side, (0.0, 100.0), False)
        elif key == STATES_AXIS:
            axis = states_axis(members, side, single)
        else:
            ranges = [p.engineering_range() for p in members]
            fixed = (min(r[0] for r in ranges if r), max(r[1] for r in ranges if r)) if all(ranges) else None
            first = members[0]
            label = first.units if first.units and not first.config.axis else (first.config.axis or first.label)
            axis = ValueAxis(key, label, single, side, fixed, autoscale)
        axis.pens = members
        axes.append(axis)
    return axes


def states_axis(pens: list[TrendPen], side: str, color) -> ValueAxis:
    """On/off pens, each in a band of its own stacked from the bottom, ticks saying OFF/ON."""
    ticks = []
    for place, pen in enumerate(pens):
        pen.offset = place * STATE_BAND
        spec = pen.binding.spec
        ticks += [(pen.offset, spec.off_text), (pen.offset + 1.0, spec.on_text)]
    top = max(5.0, len(pens) * STATE_BAND + 1.0)  # one pen takes the bottom fifth of the plot
    axis = ValueAxis(STATES_AXIS, pens[0].label if len(pens) == 1 else "on/off", color, side, (-0.3, top), False)
    axis.axis.setTicks([ticks, []])
    return axis


def scalable(axis: ValueAxis) -> bool:
    """Whether autoscale applies (the normalised and the on/off axes keep their scale)."""
    return axis.key not in (NORMALISED, STATES_AXIS)


def extent(visible: Visible, latest: Reading | None, t1: float) -> tuple[float, float]:
    """Min and max of what is drawn (good and flagged), including a held last value."""
    _t, good, flagged = visible
    low, high = math.inf, -math.inf
    for series in (good, flagged):
        if len(series):
            lo, hi = ext.nan_aware_minmax(series)
            if lo <= hi:
                low, high = min(low, lo), max(high, hi)
    if latest is not None and math.isfinite(latest.value) and latest.t <= t1:
        low, high = min(low, latest.value), max(high, latest.value)
    return low, high


def normalised_scale(pen: TrendPen, visible: Visible, autoscale: bool) -> Scale:
    """What 0-100 % means for a pen in the normalised view: its range, or what is visible of it."""
    fixed = pen.engineering_range()
    if fixed is not None and not autoscale:
        return fixed
    low, high = extent(visible, pen.series.latest(), math.inf)
    if not low <= high:
        return fixed or (0.0, 1.0)
    if high - low < 1e-9 * max(1.0, abs(high)):
        return low - 1.0, high + 1.0
    return low, high


def scale_text(axis: ValueAxis, pen: TrendPen, autoscale: bool) -> str:
    """The Scale column of the pen table."""
    fixed = pen.engineering_range()
    if axis.key == STATES_AXIS:
        return f"{pen.binding.spec.off_text}/{pen.binding.spec.on_text}"
    if axis.key == NORMALISED:
        return f"{fixed[0]:g} – {fixed[1]:g} = 0–100 %" if fixed and not autoscale else "auto = 0–100 %"
    if axis.mode == "auto":
        return "auto"
    low, high = axis.y_range() if axis.mode == "manual" else (fixed or axis.y_range())
    return f"{low:.4g} – {high:.4g}" + (" (zoomed)" if axis.mode == "manual" else "")


def zoom_values(axes: list[ValueAxis], factor: float, scene_pos: QPointF) -> None:
    """Scale every value axis by `factor` (<1 zooms in) around the mouse (Ctrl+wheel)."""
    for axis in axes:
        axis.view.scaleBy(y=factor, center=axis.view.mapSceneToView(scene_pos))
        axis.mode = "manual"


def pan_values(axes: list[ValueAxis], scene_dy: float) -> None:
    """Move every value axis with the mouse (Shift+drag)."""
    for axis in axes:
        low, high = axis.view.viewRange()[1]
        axis.view.translateBy(y=scene_dy * (high - low) / max(1.0, axis.view.height()))
        axis.mode = "manual"
