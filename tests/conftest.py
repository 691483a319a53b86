"""Test-wide setup: offscreen Qt, and a check that no test leaks threads, windows or timers."""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.support import running_timers

pytest_plugins = ["tests.postgres"]  # the postgres_url fixture

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test leaked threads: {[t.name for t in leaked]}"


@pytest.fixture(autouse=True)
def no_leaked_qt_objects(request):
    yield
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for _ in range(3):
        app.processEvents()
    visible = [w for w in app.topLevelWidgets() if w.isVisible()]
    assert not visible, f"test left windows open: {[type(w).__name__ for w in visible]}"
    assert not running_timers(app), "test left QTimer(s) running"

