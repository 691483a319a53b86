"""The alarm summary window (View → Alarms…, Ctrl+Shift+A, or the banner): the alarms that need the operator,
and on request the shelved, suppressed and out-of-service ones, with every operator command; and in a second
tab the alarm history from the journal, in a third the alarm system's performance (ISA-18.2 / EEMUA 191 KPIs).
Active and historical alarms in one window.

Commands go through the bridge and never wait: their answer comes back to the status line, where a command
that does not apply says why in the engine's words (no message box to click away in the middle of an upset).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hmi.alarms.model import AlarmCommandError, AlarmSnapshot
from hmi.bridge import Bridge
from hmi.site.alarm_schema import Priority
from hmi.ui.alarm_dialogs import ReasonDialog, ShelveDialog
from hmi.ui.alarm_history import AlarmHistory
from hmi.ui.alarm_kpi import AlarmPerformance
from hmi.ui.alarm_table import ALARM_ROLE, COLUMNS, ID_ROLE, PRIORITY, AlarmFilter, AlarmTableModel, StateFilter
from widgets.alarm_list import AlarmList
from widgets.alarm_priority import NAMES, priority_icon

ALL_AREAS = "All areas"
WIDTHS = [95, 160, 136, 90, 90, 70, 300, 80, 130, 120, 85]  # a time of another day shows its date
STYLE = "QTabWidget::pane { border: 1px solid #a0a0a0; }"  # tables and buttons: the theme (linewise.qss)
ERROR_STYLE = "color: #8b0000; font-weight: bold;"


def plural(n: int, word: str = "alarm") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class AlarmSummary(QDialog):
    """A window of its own (not modal): the operator keeps the screens in view while working the list."""

    def __init__(self, bridge: Bridge, alarms: AlarmList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(STYLE)
        self.bridge = bridge
        self.alarms = alarms
        self.settings = bridge.runtime.site.project.alarms
        self.setWindowTitle(f"Alarms — {bridge.runtime.site.project.name}")
        self.resize(1340, 660)
        self.dialog: ReasonDialog | None = None  # the one open (tests reach it here)
        self._closed = False
        self.model = AlarmTableModel(bridge.runtime.site.tags, self)
        self.proxy = AlarmFilter(self)
        self.proxy.setSourceModel(self.model)
        self.tabs = QTabWidget(self)
        self.active_tab = QWidget(self.tabs)
        self._build_active(self.active_tab)
        self.history = AlarmHistory(bridge, self.tabs)
        self.tabs.addTab(self.active_tab, "Active alarms")
        self.performance = AlarmPerformance(bridge, alarms, self.tabs)
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self.performance, "Performance")
        self.tabs.currentChanged.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.tabs)
        self.model.apply(alarms.alarms.values())
        self._update_areas()
        alarms.changed.connect(self._on_changed)
        self.table.sortByColumn(PRIORITY, Qt.SortOrder.DescendingOrder)
        self._selection_changed()

    def _build_active(self, tab: QWidget) -> None:
        self.area = QComboBox(tab)
        self.area.addItem(ALL_AREAS, "")
        self.priority = QComboBox(tab)
        self.priority.addItem("All priorities", None)
        for p in sorted(Priority, reverse=True):
            self.priority.addItem(priority_icon(p), NAMES[p], p)
        self.states = QComboBox(tab)
        for state_filter in StateFilter:
            self.states.addItem(state_filter.value, state_filter)
        self.search = QLineEdit(tab)
        self.search.setPlaceholderText("Filter: tag, alarm, message, area, comment…")
        self.search.setClearButtonEnabled(True)
        self.area.currentIndexChanged.connect(lambda: self.proxy.set_filter(area=self.area.currentData() or ""))
        self.priority.currentIndexChanged.connect(lambda: self.proxy.set_filter(priority=self.priority.currentData()))
        self.states.currentIndexChanged.connect(lambda: self.proxy.set_filter(states=self.states.currentData()))
        self.search.textChanged.connect(lambda text: self.proxy.set_filter(search=text))
        self.table = QTableView(tab)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COLUMNS.index("Message"), QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate(WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.proxy.rowsInserted.connect(self._selection_changed)
        self.proxy.rowsRemoved.connect(self._selection_changed)
        self.proxy.modelReset.connect(self._selection_changed)
        self.buttons: dict[str, QPushButton] = {}
        actions: list[tuple[str, str, Callable[[], Any]]] = [
            ("acknowledge", "Acknowledge", self.acknowledge),
            ("acknowledge_page", "Acknowledge page", self.acknowledge_page),
            ("reset", "Reset", self.reset),
            ("shelve", "Shelve…", self.shelve),
            ("unshelve", "Unshelve", self.unshelve),
            ("comment", "Comment…", self.comment),
            ("remove_from_service", "Remove from service…", self.remove_from_service),
            ("return_to_service", "Return to service", self.return_to_service),
        ]
        action_row = QHBoxLayout()
        for key, text, slot in actions:
            button = QPushButton(text, tab)
            button.clicked.connect(slot)
            self.buttons[key] = button
            action_row.addWidget(button)
        action_row.addStretch(1)
        self.buttons["acknowledge_page"].setToolTip("Acknowledge the alarms on the rows in view (not the ones "
                                                    "scrolled out of sight)")
        self.buttons["reset"].setToolTip("Reset latched alarms whose condition has cleared")
        self.status = QLabel(tab)
        self.status.setObjectName("alarmStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        filters = QHBoxLayout()
        for label, widget in (("Area", self.area), ("Priority", self.priority), ("Show", self.states)):
            filters.addWidget(QLabel(label, tab))
            filters.addWidget(widget)
        filters.addWidget(self.search, 1)
        layout = QVBoxLayout(tab)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(action_row)
        layout.addWidget(self.status)

    # -- following the alarms ------------------------------------------------------------------------------

    def _on_changed(self, changed: list[AlarmSnapshot], gone: list[str]) -> None:
        self.model.apply(changed, gone)
        self._update_areas()

    def _update_areas(self) -> None:
        areas = sorted({a.area for a in self.alarms.alarms.values() if a.area})
        known = {self.area.itemData(i) for i in range(self.area.count())}
        for area in areas:
            if area not in known:
                self.area.addItem(area, area)

    def show_area(self, area: str) -> None:
        """Filter on one area ("" for all), e.g. from a banner line."""
        self._update_areas()
        index = self.area.findData(area) if area else 0
        if area and index < 0:
            self.area.addItem(area, area)
            index = self.area.count() - 1
        self.area.setCurrentIndex(index)
        self.tabs.setCurrentWidget(self.active_tab)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.history and not self.history.loaded:
            self.history.refresh()
        elif self.tabs.widget(index) is self.performance and not self.performance.loaded:
            self.performance.refresh()

    # -- selection -----------------------------------------------------------------------------------------

    def visible_alarms(self) -> list[AlarmSnapshot]:
        """The rows as the operator sees them, top to bottom (tests and the page)."""
        return [self.proxy.index(r, 0).data(ALARM_ROLE) for r in range(self.proxy.rowCount())]

    def selected_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.proxy.index(r, 0).data(ID_ROLE) for r in rows]

    def page_ids(self) -> list[str]:
        """The alarms on the rows wholly in view."""
        height = self.table.viewport().height()
        first = self.table.rowAt(0)
        ids = []
        for row in range(max(first, 0), self.proxy.rowCount()):
            top = self.table.rowViewportPosition(row)
            if top < 0:
                continue
            if top + self.table.rowHeight(row) > height:
                break
            ids.append(self.proxy.index(row, 0).data(ID_ROLE))
        return ids

    def select_ids(self, ids: list[str]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(ID_ROLE) in ids:
                selection.select(self.proxy.index(row, 0), flags)

    def _selection_changed(self, *_: object) -> None:
        selected = self.table.selectionModel().hasSelection()
        for key, button in self.buttons.items():
            button.setEnabled(self.proxy.rowCount() > 0 if key == "acknowledge_page" else selected)

    # -- commands ------------------------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def _command(self, command: str, ids: list[str], done: Callable[[Any], str], **arguments: Any) -> None:
        if not ids:
            self._say("Select one or more alarms first.", error=True)
            return

        def finished(result: Any, error: Exception | None) -> None:
            if not shiboken6.isValid(self.status):  # the window was closed meanwhile
                return
            if isinstance(error, AlarmCommandError):
                self._say(f"Not done: {error}", error=True)
            elif error is not None:
                self._say(f"Failed: {error!r}", error=True)
            else:
                self._say(done(result))

        self._say("…")
        self.bridge.alarm_command(command, ids, on_done=finished, **arguments)

    def _acknowledged(self, result: Any) -> str:
        return f"Acknowledged {plural(len(result))}." if result else "Nothing to acknowledge there."

    def acknowledge(self) -> None:
        self._command("acknowledge", self.selected_ids(), self._acknowledged)

    def acknowledge_page(self) -> None:
        self._command("acknowledge", self.page_ids(), self._acknowledged)

    def reset(self) -> None:
        ids = self.selected_ids()
        self._command("reset", ids, lambda _: f"Reset {plural(len(ids))}.")

    def unshelve(self) -> None:
        ids = self.selected_ids()
        self._command("unshelve", ids, lambda _: f"Unshelved {plural(len(ids))}.")

    def return_to_service(self) -> None:
        ids = self.selected_ids()
        self._command("return_to_service", ids, lambda _: f"Returned {plural(len(ids))} to service.")

    def shelve(self) -> ShelveDialog | None:
        ids = self.selected_ids()
        if not ids:
            self._say("Select the alarms to shelve first.", error=True)
            return None
        dialog = ShelveDialog(ids, self.settings.max_shelve_h, self)

        def accepted() -> None:
            text = dialog.duration.currentText()
            self._command("shelve", ids, lambda _: f"Shelved {plural(len(ids))} for {text}.",
                          reason=dialog.text(), duration_s=dialog.duration_s())

        return self._open(dialog, accepted)

    def comment(self) -> ReasonDialog | None:
        return self._ask("comment", "Comment on alarms", "Comment:", "text", "A comment cannot be empty.",
                         lambda ids: f"Comment added to {plural(len(ids))}.")

    def remove_from_service(self) -> ReasonDialog | None:
        return self._ask("remove_from_service", "Remove alarms from service", "Reason:", "reason",
                         "A reason is required: an alarm out of service stays out until someone returns it.",
                         lambda ids: f"Removed {plural(len(ids))} from service.")

    def _ask(self, command: str, title: str, prompt: str, argument: str, note: str,
             done: Callable[[list[str]], str]) -> ReasonDialog | None:
        ids = self.selected_ids()
        if not ids:
            self._say("Select one or more alarms first.", error=True)
            return None
        dialog = ReasonDialog(title, prompt, ids, self, required_note=note)
        return self._open(dialog, lambda: self._command(command, ids, lambda _: done(ids),
                                                        **{argument: dialog.text()}))

    def _open(self, dialog: ReasonDialog, accepted: Callable[[], None]) -> ReasonDialog:
        dialog.accepted.connect(accepted)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _dialog_closed(self, dialog: ReasonDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def close_window(self) -> None:
        """For good (the main window closes): the workers of the history and the performance tabs end, the
        list is no longer followed."""
        if not self._closed:
            self._closed = True
            self.alarms.changed.disconnect(self._on_changed)
            self.history.close_panel()
            self.performance.close_panel()
        if self.dialog is not None:
            self.dialog.reject()
        self.close()

