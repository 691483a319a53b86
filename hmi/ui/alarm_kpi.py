"""The alarm summary's third tab, Performance: how the alarm system performed over the last 1 h, 8 h, 24 h or
7 days (ISA-18.2 section 16, EEMUA 191), on the screen and as the same report `linewise alarms report` writes.

The figures are computed from the journal on the tab's own worker thread (hmi.alarms.report.read_kpis, as the
command does); the alarms as they are now come from the window's alarm list. ISA-101: grey and calm; a figure
beyond its benchmark is marked in amber, and the words beside it say which benchmark and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.alarms.kpi import AlarmKpis
from hmi.alarms.report import (
    PRIORITY_AIM,
    average_verdict,
    flood_time_verdict,
    format_report,
    high_share,
    load_verdict,
    peak_verdict,
    priority_verdict,
    read_kpis,
    stale_verdict,
    write_csv,
)
from hmi.bridge import Bridge
from hmi.site.alarm_schema import Priority
from hmi.ui.alarm_history import RANGES
from hmi.ui.alarm_table import format_when
from hmi.ui.journal_worker import JournalWorker
from widgets.alarm_list import AlarmList
from widgets.alarm_priority import NAMES, priority_icon, priority_pixmap
from widgets.style import ABNORMAL, EDGE, PRIORITY_COLORS, TEXT

DEFAULT_RANGE = 2  # the last 24 h
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
BEYOND_STYLE = f"background: {ABNORMAL.name()}; color: black; font-weight: bold; padding: 0 4px;"
VALUE_STYLE = "font-weight: bold; padding: 0 4px;"
AIMS = {Priority.CRITICAL: "counted with high", Priority.HIGH: "aim ~5 % with critical",
        Priority.MEDIUM: "aim ~15 %", Priority.LOW: "aim ~80 %"}
TRACK = QColor("#e8e8e8")
TICKS = {Priority.HIGH: PRIORITY_AIM[Priority.HIGH], Priority.MEDIUM: PRIORITY_AIM[Priority.MEDIUM],
         Priority.LOW: PRIORITY_AIM[Priority.LOW]}


def clock(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


class ShareBar(QWidget):
    """A share (0..1) as a bar in the priority's colour on a light track, with a dark tick at the aim."""

    def __init__(self, priority: Priority, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.priority = priority
        self.share = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(220, 14)

    def minimumSizeHint(self) -> QSize:
        return QSize(100, 14)

    def set_share(self, share: float) -> None:
        self.share = min(max(share, 0.0), 1.0)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        track = QRectF(0.5, 2.5, self.width() - 1.0, self.height() - 5.0)
        painter.setPen(QPen(EDGE, 1))
        painter.fillRect(track, TRACK)
        if self.share > 0:
            painter.fillRect(QRectF(track.left(), track.top(), max(1.0, track.width() * self.share), track.height()),
                             PRIORITY_COLORS[self.priority])
        painter.drawRect(track)
        aim = TICKS.get(self.priority)
        if aim is not None:
            x = round(track.left() + track.width() * aim)
            painter.setPen(QPen(TEXT, 2))
            painter.drawLine(x, 0, x, self.height())
        painter.end()


class PriorityShares(QGroupBox):
    """The priority distribution of the alarms shown: icon, name, bar, share (count) and the aim per row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Priorities of the alarms shown (ISA-18.2: about 80 % low, 15 % medium, 5 % high)", parent)
        grid = QGridLayout(self)
        grid.setColumnStretch(2, 1)
        grid.setHorizontalSpacing(8)
        self.bars: dict[Priority, ShareBar] = {}
        self.shares: dict[Priority, QLabel] = {}
        for row, priority in enumerate(sorted(Priority, reverse=True)):
            icon = QLabel(self)
            icon.setPixmap(priority_pixmap(priority, 16))
            self.bars[priority] = ShareBar(priority, self)
            self.shares[priority] = QLabel("—", self)
            self.shares[priority].setMinimumWidth(80)
            self.shares[priority].setAlignment(RIGHT)
            aim = QLabel(AIMS[priority], self)
            aim.setObjectName("caption")
            for column, widget in enumerate((icon, QLabel(NAMES[priority], self), self.bars[priority],
                                             self.shares[priority], aim)):
                grid.addWidget(widget, row, column)
        row = len(Priority)
        self.high = QLabel("—", self)
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        aim = QLabel("aim ~5 %", self)
        aim.setObjectName("caption")
        grid.addWidget(QLabel("High and critical together", self), row, 1, 1, 2)
        grid.addWidget(self.high, row, 3, RIGHT)
        grid.addWidget(aim, row, 4)
        grid.addWidget(self.verdict, row + 1, 1, 1, 4)

    def show_kpis(self, k: AlarmKpis) -> None:
        for priority, bar in self.bars.items():
            share = k.priority_distribution[priority]
            bar.set_share(share)
            self.shares[priority].setText(f"{share:.0%}  ({round(share * k.activations)})")
        verdict = priority_verdict(k)
        self.high.setText(f"{high_share(k):.0%}")
        self.high.setStyleSheet(BEYOND_STYLE if verdict.beyond else VALUE_STYLE)
        self.verdict.setText(f"{verdict.words[0].upper()}{verdict.words[1:]}.")


class AlarmPerformance(QWidget):
    """The Performance tab. GUI thread; the journal is read on the tab's own worker."""

    def __init__(self, bridge: Bridge, alarms: AlarmList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.alarms = alarms
        runtime = bridge.runtime
        self.site_name = runtime.site.project.name
        self.settings = runtime.site.project.alarms
        self.target = runtime.journal.target
        # the site's own alarms (fixed once the engine is built); a PLC's conditions get theirs from the list
        self.configured = {alarm_id: point.priority for alarm_id, point in runtime.alarms.points.items()}
        self.kpis: AlarmKpis | None = None
        self.loaded = False  # figures are shown
        self.worker = JournalWorker(bridge, "alarm-kpi")
        self._build()

    # -- layout --------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.range = QComboBox(self)
        for seconds, text in RANGES:
            self.range.addItem(text, seconds)
        self.range.setCurrentIndex(DEFAULT_RANGE)
        self.refresh_button = QPushButton("Refresh", self)
        self.copy_button = QPushButton("Copy as text", self)
        self.copy_button.setToolTip("The report as `linewise alarms report` prints it, for an e-mail or a log")
        self.export_button = QPushButton("Export report…", self)
        self.export_button.setToolTip("The figures as CSV, the same file as `linewise alarms report --csv`")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Period", self))
        controls.addWidget(self.range)
        controls.addWidget(self.refresh_button)
        controls.addStretch(1)
        controls.addWidget(self.copy_button)
        controls.addWidget(self.export_button)
        self.headline = QLabel("Reading the journal…", self)
        self.headline.setObjectName("kpiHeadline")
        self.headline.setStyleSheet("font-size: 11pt; font-weight: bold;")
        self.headline.setWordWrap(True)
        self.values: dict[str, QLabel] = {}
        self.words: dict[str, QLabel] = {}
        rate = self._figures("Alarm rate (EEMUA 191: about 1 per 10 min very likely acceptable, 2 manageable, "
                             "over 10 a flood)",
                             [("shown", "Alarms shown"), ("average", "Average per 10 min"),
                              ("peak", "Worst 10 min"), ("flood", "Time in flood")])
        now = self._figures("Now", [("standing", "Standing"), ("stale", "Stale"), ("shelved", "Shelved"),
                                    ("suppressed", "Suppressed by design"), ("out_of_service", "Out of service")])
        self.priorities = PriorityShares(self)
        chattering_box = self._figures(f"Chattering ({self.settings.chattering_per_min} or more activations in "
                                       "1 min; the aim is none)", [("chattering", "Chattering alarms")])
        actors_box = QGroupBox("Top 10 bad actors (most activations)", self)
        self.actors = QTableWidget(0, 3, actors_box)
        self.actors.setHorizontalHeaderLabels(["Alarm", "Activations", "Share"])
        self.actors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.actors.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.actors.setAlternatingRowColors(True)
        self.actors.verticalHeader().setVisible(False)
        self.actors.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.actors.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.actors_note = QLabel(actors_box)
        self.actors_note.setObjectName("caption")
        self.actors_note.setWordWrap(True)
        actors_layout = QVBoxLayout(actors_box)
        actors_layout.addWidget(self.actors, 1)
        actors_layout.addWidget(self.actors_note)
        self.status = QLabel(self)
        self.status.setObjectName("caption")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QVBoxLayout()
        for box in (rate, self.priorities, chattering_box):
            left.addWidget(box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(actors_box, 1)
        right.addWidget(now)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.headline)
        layout.addLayout(columns, 1)
        layout.addWidget(self.status)
        self.range.currentIndexChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.copy_button.clicked.connect(self.copy_text)
        self.export_button.clicked.connect(self._ask_export)
        self._enable_report(False)

    def _figures(self, title: str, rows: list[tuple[str, str]]) -> QGroupBox:
        """A box of figures: name, value (amber when beyond its benchmark) and the words that judge it."""
        box = QGroupBox(title, self)
        grid = QGridLayout(box)
        grid.setColumnStretch(2, 1)
        grid.setColumnMinimumWidth(1, 60)
        grid.setHorizontalSpacing(10)
        for row, (key, name) in enumerate(rows):
            value = QLabel("—", box)
            value.setStyleSheet(VALUE_STYLE)
            value.setAlignment(RIGHT)
            words = QLabel(box)
            words.setWordWrap(True)
            words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key], self.words[key] = value, words
            grid.addWidget(QLabel(name, box), row, 0)
            grid.addWidget(value, row, 1, RIGHT)  # hugs its text: amber marks the figure, not the cell
            grid.addWidget(words, row, 2)
        return box

    def _enable_report(self, enabled: bool) -> None:
        self.copy_button.setEnabled(enabled)
        self.export_button.setEnabled(enabled)

    # -- reading -------------------------------------------------------------------------------------------

    def close_panel(self) -> None:
        self.worker.close()

    def refresh(self) -> None:
        """Compute the figures of the chosen period again, up to now (the answer replaces what is shown)."""
        now = time.time()
        start = now - float(self.range.currentData())
        current = list(self.alarms.alarms.values())
        priorities = {a.id: a.priority for a in current}
        priorities.update(self.configured)
        target, settings = self.target, self.settings
        self.status.setText("Reading the journal…")
        self.worker.read(lambda: read_kpis(target, start, now, priorities, current, settings, now), self._show)

    def _show(self, kpis: AlarmKpis | None, error: Exception | None) -> None:
        if error is not None or kpis is None:
            self.status.setText(f"The journal could not be read: {error}")
            return
        self.kpis = kpis
        self.loaded = True
        self._enable_report(True)
        self.headline.setText(load_verdict(kpis))
        self._show_rate(kpis)
        self.priorities.show_kpis(kpis)
        self._show_chattering(kpis)
        self._show_actors(kpis)
        self._show_now(kpis)
        self.status.setText(f"{kpis.hours:g} h from {clock(kpis.start)} to {clock(kpis.end)} (local time), "
                            f"read at {time.strftime('%H:%M:%S', time.localtime(kpis.end))}; "
                            "Refresh to read again")

    def _set(self, key: str, value: str, words: str, beyond: bool = False) -> None:
        """A figure, amber when beyond its benchmark, and the words that judge it."""
        self.values[key].setText(value)
        self.values[key].setStyleSheet(BEYOND_STYLE if beyond else VALUE_STYLE)
        self.words[key].setText(words)

    def _show_rate(self, k: AlarmKpis) -> None:
        self._set("shown", str(k.activations), f"in {k.hours:g} h, annunciated to the operator")
        average = average_verdict(k.per_10_min_average)
        self._set("average", f"{k.per_10_min_average:.2f}", average.words, average.beyond)
        peak = peak_verdict(k.per_10_min_peak)
        since = (f", from {format_when(k.peak_window_start, k.end)}"
                 if k.peak_window_start is not None and k.per_10_min_peak else "")
        self._set("peak", str(k.per_10_min_peak), peak.words + since, peak.beyond)
        flood = flood_time_verdict(k.flood_fraction)
        share = "< 0.1%" if 0 < k.flood_fraction < 0.001 else f"{k.flood_fraction:.1%}"
        self._set("flood", share, flood.words, flood.beyond)

    def _show_chattering(self, k: AlarmKpis) -> None:
        names = ", ".join(f"{alarm} ({n} in 1 min)" for alarm, n in k.chattering)
        self._set("chattering", str(len(k.chattering)),
                  f"{names}: beyond the aim of none; look at their deadband and on/off delays" if names else "none",
                  bool(names))

    def _show_actors(self, k: AlarmKpis) -> None:
        priorities = {a.id: a.priority for a in self.alarms.alarms.values()} | self.configured
        self.actors.setRowCount(len(k.bad_actors))
        for row, actor in enumerate(k.bad_actors):
            name = QTableWidgetItem(actor.alarm)
            priority = priorities.get(actor.alarm)
            if priority is not None:
                name.setIcon(priority_icon(priority))
                name.setToolTip(f"Priority {priority.label}")
            count = QTableWidgetItem(str(actor.activations))
            share = QTableWidgetItem(f"{actor.share:.0%}")
            for item in (count, share):
                item.setTextAlignment(RIGHT)
            for column, item in enumerate((name, count, share)):
                self.actors.setItem(row, column, item)
        if k.bad_actors:
            total = sum(actor.share for actor in k.bad_actors)
            self.actors_note.setText(f"These {len(k.bad_actors)} caused {total:.0%} of the {k.activations} alarms "
                                     "shown: fixing them first lightens the load most.")
        else:
            self.actors_note.setText("No alarms were shown in this period.")

    def _show_now(self, k: AlarmKpis) -> None:
        self._set("standing", str(k.standing), "active and annunciated")
        stale = stale_verdict(len(k.stale))
        after = f"active over {self.settings.stale_after_h:g} h"
        self._set("stale", str(len(k.stale)),
                  f"{after}: {', '.join(k.stale)} ({stale.words})" if k.stale else f"none {after}", stale.beyond)
        self._set("shelved", str(k.shelved), "by an operator, for a set time")
        self._set("suppressed", str(k.suppressed), "by a plant condition")
        self._set("out_of_service", str(k.out_of_service), "by an operator, until returned")

    # -- the report ----------------------------------------------------------------------------------------

    def report_text(self) -> str:
        return "" if self.kpis is None else format_report(self.site_name, self.kpis)

    def copy_text(self) -> None:
        if self.kpis is not None:
            QGuiApplication.clipboard().setText(self.report_text())
            self.status.setText("The report is on the clipboard.")

    def _ask_export(self) -> None:
        name = f"alarm-report-{time.strftime('%Y%m%d-%H%M')}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export the alarm performance report", name,
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path, on_done: Callable[[None, Exception | None], None] | None = None) -> None:
        """Write the figures shown as `linewise alarms report --csv` does, on the worker thread."""
        kpis = self.kpis
        if kpis is None:
            return
        self.status.setText(f"Writing {path}…")

        def done(result: None, error: Exception | None) -> None:
            if not self.worker.closed:
                self.status.setText(f"Export failed: {error}" if error is not None else f"Report written to {path}")
            if on_done is not None:
                on_done(result, error)

        self.worker.run(lambda: write_csv(path, kpis), done)
