"""The leak checks in conftest must be able to fail: they find what a test leaves running."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from tests.support import running_timers


def test_running_timers_finds_parentless_and_child_timers(qapp):
    loose = QTimer()
    loose.start(1000)
    widget = QWidget()
    child = QTimer(widget)
    child.start(1000)
    try:
        found = running_timers(qapp)
        assert loose in found
        assert child in found
    finally:
        loose.stop()
        child.stop()
        widget.deleteLater()
    assert running_timers(qapp) == []
