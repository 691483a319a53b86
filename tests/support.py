"""Helpers shared by tests: free loopback ports and polling for a condition."""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from collections.abc import Callable


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> None:
    """Poll `condition` (blocking) until it is truthy; fail with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


async def async_wait_until(condition: Callable[[], object], timeout: float = 10.0,  # noqa: ASYNC109
                           message: str = "condition") -> None:
    """The asyncio twin of `wait_until`; fails with `message` instead of a bare TimeoutError."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")
        await asyncio.sleep(0.05)


def running_timers(app: object) -> list:
    """Active timers, found without touching a wrapper whose C++ object Qt already deleted
    (that would be a use-after-free): timers in the live widget tree and on the app, plus
    parentless timers owned by Python, which shiboken knows the validity of."""
    import shiboken6
    from PySide6.QtCore import QTimer

    timers = set(app.findChildren(QTimer))
    for widget in app.allWidgets():
        timers.update(widget.findChildren(QTimer))
    gc.collect()
    for obj in gc.get_objects():
        if type(obj) is QTimer and shiboken6.isValid(obj) and shiboken6.ownedByPython(obj):
            timers.add(obj)
    return [t for t in timers if t.isActive()]
