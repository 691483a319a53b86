"""The trend's toolbar: live/pause, time-range presets and a custom range, value view, cursor, export.

It only emits what the operator asked for; TrendWidget decides and then calls `show_state` so the
buttons always tell the truth (a drag on the plot pauses the trend, and the Live button shows it).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from hmi.site.trend_config import PRESETS_S

STYLE = """
QToolButton { background: #e0e0e0; border: 1px solid #8c8c8c; padding: 2px 7px; }
QToolButton:hover { background: #ececec; }
QToolButton:checked { background: #9a9a9a; color: #000000; border-color: #5a5a5a; font-weight: bold; }
QToolButton#live:checked { background: #4a4a4a; color: #ffffff; }
QLabel#trendRange { color: #333333; }
QLabel#trendLoading { color: #5a5a5a; font-style: italic; }
"""


def format_span(seconds: float) -> str:
    if seconds >= 86400 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


def format_range(t0: float, t1: float) -> str:
    same_day = time.strftime("%Y-%m-%d", time.localtime(t0)) == time.strftime("%Y-%m-%d", time.localtime(t1))
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0))
    end = time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", time.localtime(t1))
    return f"{start} – {end}"


class CustomRangeDialog(QDialog):
    """From/to with calendar pop-ups; OK only for a range that ends after it starts."""

    def __init__(self, t0: float, t1: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Custom time range")
        form = QFormLayout(self)
        self.start_edit = self._editor(t0)
        self.end_edit = self._editor(t1)
        form.addRow("From", self.start_edit)
        form.addRow("To", self.end_edit)
        self.problem = QLabel(self)
        self.problem.setStyleSheet("color: #b0007a;")
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.start_edit.dateTimeChanged.connect(self._check)
        self.end_edit.dateTimeChanged.connect(self._check)
        self._check()

    def _editor(self, t: float) -> QDateTimeEdit:
        editor = QDateTimeEdit(QDateTime.fromMSecsSinceEpoch(int(t * 1000)), self)
        editor.setCalendarPopup(True)
        editor.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        return editor

    def time_range(self) -> tuple[float, float]:
        start, end = self.start_edit.dateTime(), self.end_edit.dateTime()
        return start.toMSecsSinceEpoch() / 1000, end.toMSecsSinceEpoch() / 1000

    def _check(self) -> None:
        t0, t1 = self.time_range()
        ok = t1 - t0 >= 1.0
        self.problem.setText("" if ok else "“To” must be after “From”.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


class TrendToolbar(QFrame):
    live_toggled = Signal(bool)
    span_chosen = Signal(float)  # a preset, seconds
    custom_requested = Signal()
    normalised_toggled = Signal(bool)
    autoscale_toggled = Signal(bool)
    scales_reset = Signal()
    cursor_toggled = Signal(bool)
    csv_requested = Signal()
    png_requested = Signal()
    open_requested = Signal()  # compact trends: open this trend in a window of its own

    def __init__(self, compact: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trendToolbar")
        self.setStyleSheet(STYLE)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(3)
        self.live_button = self._button(
            "Live",
            "Follow now at the right edge; off: the view stays where it is (data keeps being recorded)",
            checkable=True,
        )
        self.live_button.setObjectName("live")
        self.live_button.toggled.connect(self._live_clicked)
        layout.addWidget(self.live_button)
        layout.addSpacing(6)
        self.presets: dict[float, QToolButton] = {}
        self._preset_group = QButtonGroup(self)
        self._preset_group.setExclusive(False)
        for text, seconds in PRESETS_S.items():
            button = self._button(text, f"Show the last {text}", checkable=True)
            button.clicked.connect(lambda _=False, s=seconds: self.span_chosen.emit(s))
            self._preset_group.addButton(button)
            self.presets[seconds] = button
            layout.addWidget(button)
        self.custom_button = self._button("Custom…", "Choose a from/to time range")
        self.custom_button.clicked.connect(self.custom_requested)
        layout.addWidget(self.custom_button)
        layout.addSpacing(6)
        self.normalised_button = self._button(
            "0–100 %",
            "Normalised: every pen at 0-100 % of its range on one axis (values in the table stay real)",
            checkable=True,
        )
        self.normalised_button.toggled.connect(self._relay(self.normalised_toggled))
        self.autoscale_button = self._button(
            "Autoscale", "Scale the value axes to what is visible (off: the engineering ranges)", checkable=True
        )
        self.autoscale_button.toggled.connect(self._relay(self.autoscale_toggled))
        self.reset_button = self._button(
            "Reset scales",
            "Back to the engineering ranges after zooming values (Ctrl+wheel, Shift+drag, or drag an axis)",
        )
        self.reset_button.clicked.connect(self.scales_reset)
        self.cursor_button = self._button(
            "Cursor",
            "A time cursor: every pen's value at that time in the table "
            "(click the plot to place it, drag it to move it)",
            checkable=True,
        )
        self.cursor_button.toggled.connect(self._relay(self.cursor_toggled))
        self.csv_button = self._button("CSV…", "Export every sample of the visible range to CSV")
        self.csv_button.clicked.connect(self.csv_requested)
        self.png_button = self._button("PNG…", "Save the trend as an image")
        self.png_button.clicked.connect(self.png_requested)
        for button in (self.normalised_button, self.autoscale_button, self.reset_button, self.cursor_button):
            layout.addWidget(button)
        layout.addSpacing(6)
        layout.addWidget(self.csv_button)
        layout.addWidget(self.png_button)
        if compact:  # on an overview screen: time only; the rest is in the trend window
            for button in (
                self.custom_button,
                self.normalised_button,
                self.autoscale_button,
                self.reset_button,
                self.csv_button,
                self.png_button,
                *self.presets.values(),
            ):
                button.hide()
            for seconds in (600.0, 3600.0):
                self.presets[seconds].show()
        self.open_button = self._button(
            "Open ↗", "Open this trend in a window of its own: every tool, and it can be saved"
        )
        self.open_button.clicked.connect(self.open_requested)
        layout.addWidget(self.open_button)
        self.open_button.setVisible(compact)
        layout.addStretch(1)
        self.loading_label = QLabel("", self)
        self.loading_label.setObjectName("trendLoading")
        layout.addWidget(self.loading_label)
        self.range_label = QLabel("", self)
        self.range_label.setObjectName("trendRange")
        layout.addWidget(self.range_label)
        self._updating = False

    def _button(self, text: str, tip: str, checkable: bool = False) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        return button

    def _relay(self, signal) -> object:
        def relay(checked: bool) -> None:
            if not self._updating:
                signal.emit(checked)

        return relay

    def _live_clicked(self, checked: bool) -> None:
        if not self._updating:
            self.live_toggled.emit(checked)

    def show_state(self, live: bool, t0: float, t1: float, normalised: bool, autoscale: bool, cursor: bool) -> None:
        """Make every button tell the truth, without emitting anything."""
        self._updating = True
        try:
            self.live_button.setChecked(live)
            self.live_button.setText("Live" if live else "Paused")
            span = t1 - t0
            for seconds, button in self.presets.items():
                button.setChecked(live and abs(span - seconds) < 0.5)
            self.normalised_button.setChecked(normalised)
            self.autoscale_button.setChecked(autoscale)
            self.cursor_button.setChecked(cursor)
            self.range_label.setText(f"last {format_span(span)}" if live else format_range(t0, t1))
        finally:
            self._updating = False

    def show_loading(self, text: str) -> None:
        if self.loading_label.text() != text:
            self.loading_label.setText(text)
