"""The main window: header (site, screen title, clock), the alarm banner, the screen, connection status bar."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hmi.bridge import Bridge
from hmi.ui.alarm_summary import AlarmSummary
from hmi.ui.connections import ConnectionsWindow
from hmi.ui.screen import Screen
from hmi.ui.trend_window import TrendsMenu
from widgets.alarm_banner import AlarmBanner
from widgets.alarm_horn import AlarmHorn
from widgets.alarm_list import AlarmList
from widgets.connection_status import ConnectionStatus
from widgets.historian_status import HistorianStatus


class MainWindow(QMainWindow):
    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.bridge = bridge
        project = bridge.runtime.site.project
        self.setWindowTitle(f"Linewise — {project.name}")
        self.resize(1366, 768)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QWidget(central)
        header.setObjectName("header")
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(10, 4, 10, 4)
        self.site_label = QLabel(project.name, header)
        self.site_label.setObjectName("siteName")
        self.title_label = QLabel(header)
        self.title_label.setObjectName("screenTitle")
        self.clock = QLabel(header)
        self.clock.setObjectName("clock")
        header_layout.addWidget(self.site_label)
        header_layout.addStretch(1)
        header_layout.addWidget(self.title_label)
        header_layout.addStretch(1)
        header_layout.addWidget(self.clock)
        layout.addWidget(header)
        self.alarm_list = AlarmList(bridge, self)  # what the banner, the summary and the horn show
        self.horn = AlarmHorn(self.alarm_list, enabled=project.alarms.sound, parent=self)
        self.alarm_banner = AlarmBanner(bridge, self.alarm_list, self.horn, central)
        self.alarm_banner.open_summary.connect(self.show_alarms)
        layout.addWidget(self.alarm_banner)
        self.alarm_summary: AlarmSummary | None = None
        self.stack = QStackedWidget(central)
        # A screen taller than what the header, the banner and the status bar leave of a small display
        # scrolls rather than pushing the window off it (1366x768 is the smallest the screens are made for).
        self.screen_area = QScrollArea(central)
        self.screen_area.setFrameShape(QFrame.Shape.NoFrame)
        self.screen_area.setWidgetResizable(True)
        self.screen_area.setWidget(self.stack)
        layout.addWidget(self.screen_area, 1)
        self.setCentralWidget(central)
        self.screens: dict[str, Screen] = {}
        for spec in project.screens:
            screen = Screen(bridge, spec, self.stack)
            self.screens[spec.name] = screen
            self.stack.addWidget(screen)
        if project.screens:
            self.show_screen(project.screens[0].name)
        self.connection_status = ConnectionStatus(bridge, self)
        self.statusBar().addPermanentWidget(self.connection_status)
        self.historian_status = HistorianStatus(bridge, self)  # recording, or why not
        self.statusBar().addPermanentWidget(self.historian_status)
        self.connections_window: ConnectionsWindow | None = None
        connections_action = QAction("&Connections…", self)
        connections_action.setShortcut(QKeySequence("Ctrl+K"))
        connections_action.triggered.connect(self.show_connections)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(connections_action)
        self.alarms_action = QAction("&Alarms…", self)
        self.alarms_action.setShortcut(QKeySequence("Ctrl+Shift+A"))  # Ctrl+A stays "select all" in tables
        self.alarms_action.triggered.connect(lambda: self.show_alarms())
        view_menu.addAction(self.alarms_action)
        self.trends_menu = TrendsMenu(bridge, self)  # new trend with a tag picker; the site's saved trends
        self.menuBar().addMenu(self.trends_menu)
        self.connection_status.clicked.connect(self.show_connections)
        self.historian_status.clicked.connect(self.show_connections)
        self._offered_thumbprints: set[str] = set()
        bridge.connection_changed.connect(self._on_connection_changed)
        bridge.diagnostics_ready.connect(self._offer_trust)
        bridge.request_diagnostics()  # a certificate refused before this window existed is offered too
        self.statusBar().showMessage(f"Site: {bridge.runtime.site.folder}   History: {bridge.runtime.data_dir}")
        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start(1000)
        self._tick()

    def show_connections(self) -> ConnectionsWindow:
        if self.connections_window is None:
            self.connections_window = ConnectionsWindow(self.bridge, self)
        self.connections_window.show()
        self.connections_window.raise_()
        return self.connections_window

    def show_alarms(self, area: str = "") -> AlarmSummary:
        """The alarm summary (and history), on one area if given."""
        if self.alarm_summary is None:
            self.alarm_summary = AlarmSummary(self.bridge, self.alarm_list, self)
        if area:
            self.alarm_summary.show_area(area)
        self.alarm_summary.show()
        self.alarm_summary.raise_()
        return self.alarm_summary

    def _on_connection_changed(self, _name: str, state: str, _detail: str) -> None:
        if state == "down":  # a refusal may carry a server certificate that is waiting for a decision
            self.bridge.request_diagnostics()

    def _offer_trust(self, snapshot: dict) -> None:
        """Open the Connections window on a server certificate that is new and untrusted, once per
        certificate: the technician sees subject, thumbprint and validity and decides there."""
        for name, info in snapshot.items():
            thumbprint = (info.get("untrusted_certificate") or {}).get("thumbprint")
            if thumbprint and thumbprint not in self._offered_thumbprints:
                self._offered_thumbprints.add(thumbprint)
                window = self.show_connections()
                window.show_snapshot(snapshot)
                window.select_connection(name)
                return

    def show_screen(self, name: str) -> None:
        screen = self.screens[name]
        self.stack.setCurrentWidget(screen)
        self.title_label.setText(screen.spec.title)

    def _tick(self) -> None:
        self.clock.setText(time.strftime("%Y-%m-%d  %H:%M:%S"))

    def closeEvent(self, event) -> None:
        if self.connections_window is not None:
            self.connections_window.timer.stop()
            self.connections_window.close()
        if self.alarm_summary is not None:
            self.alarm_summary.close_window()
        self.horn.stop()
        self.alarm_list.close()
        self._clock_timer.stop()
        self.historian_status.stop()
        self.trends_menu.close_windows()
        for screen in self.screens.values():
            screen.release()
        super().closeEvent(event)
