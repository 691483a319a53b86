"""Runs the Qt application on a started runtime: theme, window, screenshot mode."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.runtime.heap import freeze_startup_heap
from hmi.ui.main_window import MainWindow

log = logging.getLogger(__name__)

THEME = Path(__file__).resolve().parents[2] / "resources" / "theme" / "linewise.qss"


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Linewise")
    app.setStyle("Fusion")
    app.setStyleSheet(THEME.read_text(encoding="utf-8"))
    return app  # type: ignore[return-value]


def run_gui(runtime: Runtime, screenshot: Path | None = None, after_s: float = 3.0,
            open_connections: bool = False, open_trend: str | None = None, open_alarms: bool = False) -> int:
    """Show the main window until it is closed (or, with `screenshot`, save a PNG and quit).
    With `open_connections` the Connections window opens too (and is saved as FILE-connections.png);
    with `open_trend` (a saved trend's name or comma-separated tags) a trend window (FILE-trend.png); with
    `open_alarms` the alarm summary (FILE-alarms.png)."""
    app = application()
    bridge = Bridge(runtime)
    window = MainWindow(bridge)
    window.show()
    if open_connections:
        window.show_connections()
    if open_alarms:
        window.show_alarms()
    trend_window = None
    if open_trend:
        try:
            trend_window = window.trends_menu.open_named(open_trend)
        except ValueError as exc:
            print(f"linewise: --trend: {exc}", file=sys.stderr)
    exit_code = 0
    if screenshot is not None:
        def save() -> None:
            nonlocal exit_code
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            shots = [(window, screenshot)]
            if window.connections_window is not None:
                shots.append((window.connections_window,
                              screenshot.with_name(f"{screenshot.stem}-connections{screenshot.suffix}")))
            if window.alarm_summary is not None and window.alarm_summary.isVisible():
                shots.append((window.alarm_summary,
                              screenshot.with_name(f"{screenshot.stem}-alarms{screenshot.suffix}")))
            if trend_window is not None:
                shots.append((trend_window, screenshot.with_name(f"{screenshot.stem}-trend{screenshot.suffix}")))
            for widget, path in shots:
                if widget.grab().save(str(path)):
                    print(f"screenshot saved to {path}")
                else:
                    print(f"error: could not write {path}", file=sys.stderr)
                    exit_code = 1
            window.close()

        QTimer.singleShot(int(after_s * 1000), save)
    # Let Ctrl-C and SIGTERM close the window cleanly: Python only sees signals when the
    # interpreter runs, so a timer wakes it periodically.
    previous = {sig: signal.signal(sig, lambda *_: window.close()) for sig in (signal.SIGINT, signal.SIGTERM)}
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    freeze_startup_heap()  # the window is built: what is alive now lives to the end
    try:
        app.exec()
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        bridge.close()
        window.deleteLater()
        bridge.deleteLater()
        app.processEvents()
    return exit_code
