"""Builds a screen from its ScreenSpec: panels in columns, widgets bound to tags."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QVBoxLayout, QWidget

from hmi.bridge import Bridge
from hmi.site import ScreenSpec, WidgetSpec
from widgets.level_bar import LevelBar
from widgets.setpoint_entry import SetpointEntry
from widgets.state_indicator import StateIndicator
from widgets.trend import TrendWidget
from widgets.value_display import ValueDisplay


def create_widget(bridge: Bridge, spec: WidgetSpec, parent: QWidget) -> QWidget:
    tag = spec.tag or ""
    if spec.type == "value":
        return ValueDisplay(bridge, tag, spec.label, parent)
    if spec.type == "level":
        return LevelBar(bridge, tag, spec.label, parent)
    if spec.type == "state":
        return StateIndicator(bridge, tag, spec.label, spec.abnormal_when, parent)
    if spec.type == "setpoint":
        return SetpointEntry(bridge, tag, spec.label, parent)
    if spec.type == "trend":
        return TrendWidget(bridge, spec.tags, span_s=spec.span_s, compact=True, parent=parent)
    raise ValueError(f"unknown widget type {spec.type!r}")  # the schema makes this unreachable


class Screen(QWidget):
    def __init__(self, bridge: Bridge, spec: ScreenSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.spec = spec
        self.widgets: list[QWidget] = []
        columns: dict[int, QVBoxLayout] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 8)
        for column in sorted({p.column for p in spec.panels}):
            columns[column] = QVBoxLayout()
            row.addLayout(columns[column], 3 if any(w.type == "trend" for p in spec.panels
                                                     if p.column == column for w in p.widgets) else 1)
        for panel in spec.panels:
            box = QGroupBox(panel.title, self)
            layout = QVBoxLayout(box)
            layout.setSpacing(4)
            for widget_spec in panel.widgets:
                widget = create_widget(bridge, widget_spec, box)
                self.widgets.append(widget)
                layout.addWidget(widget, 1 if widget_spec.type in ("trend", "level") else 0)
            columns[panel.column].addWidget(box, 1 if any(w.type in ("trend", "level") for w in panel.widgets)
                                            else 0)
        for layout in columns.values():
            layout.addStretch(0)

    def release(self) -> None:
        for widget in self.widgets:
            release = getattr(widget, "release", None)
            if release is not None:
                release()
            elif hasattr(widget, "binding"):
                widget.binding.release()
