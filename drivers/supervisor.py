"""Connection supervision shared by the drivers: state, back-off reconnect, COMM_LOST.

A driver subclasses `SupervisedDriver` and implements `_serve()`: connect, call
`_mark_connected()`, then run until the connection is lost (return or raise). The
supervisor turns every loss into COMM_LOST on every point, reconnects with bounded
exponential back-off with jitter, and calls `_serve()` again, which resubscribes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from drivers.model import (
    ConnectionState,
    DriverCounters,
    DriverError,
    Point,
    StateSink,
    TagUpdate,
    UpdateSink,
    comm_lost,
)
from drivers.waiting import raise_if_cancelling, wait_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 0.5
    maximum_s: float = 15.0
    jitter: float = 0.2  # +/- fraction, so many clients do not reconnect in lock-step

    def next_delay(self, current: float) -> float:
        return min(current * 2, self.maximum_s)

    def jittered(self, delay: float) -> float:
        return delay * (1 + random.uniform(-self.jitter, self.jitter))


def describe_error(exc: BaseException) -> str:
    """A one-line reason a technician can act on (never an empty string)."""
    text = str(exc).strip()
    name = type(exc).__name__
    if isinstance(exc, DriverError) and text:  # our own messages are already phrased for people
        return text
    if isinstance(exc, TimeoutError):
        return f"timed out ({text})" if text else "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the PLC/server running and the port right?)"
    if type(exc) is ConnectionError and text:  # our own drivers' messages are already phrased for people
        return text
    return f"{name}: {text}" if text else name


class SupervisedDriver:
    """Base class: one connection, supervised. Methods run on the io loop."""

    def __init__(self, name: str, backoff: Backoff | None = None) -> None:
        self.name = name
        self.state = ConnectionState.CLOSED
        self.state_detail = ""
        self.counters = DriverCounters()
        self._backoff = backoff or Backoff()
        self._points: list[Point] = []
        self._on_updates: UpdateSink = lambda updates: None
        self._on_state: StateSink = lambda name, state, detail: None
        self._task: asyncio.Task[None] | None = None
        self._retry_now: asyncio.Event | None = None

    async def start(self, points: Sequence[Point], on_updates: UpdateSink, on_state: StateSink) -> None:
        self._retry_now = asyncio.Event()
        self._points = list(points)
        self._on_updates = on_updates
        self._on_state = on_state
        self._task = asyncio.create_task(self._supervise(), name=f"driver:{self.name}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._disconnect()
        self._set_state(ConnectionState.CLOSED, "closed")

    def retry_now(self) -> None:
        """Skip the rest of the back-off wait (after a technician fixed the cause). io loop."""
        if self._retry_now is not None:
            self._retry_now.set()

    def diagnostics(self) -> dict[str, Any]:
        """A snapshot for the Connections window; subclasses add protocol-specific entries."""
        c = self.counters
        return {"state": self.state.value, "detail": self.state_detail, "connects": c.connects,
                "disconnects": c.disconnects, "reads": c.reads, "writes": c.writes, "errors": c.errors,
                "notifications": c.notifications, "last_error": c.last_error, **c.extra}

    # -- for subclasses ---------------------------------------------------------------

    async def _serve(self) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        """Release the connection; must not raise."""

    def _mark_connected(self, detail: str = "") -> None:
        self.counters.connects += 1
        self._set_state(ConnectionState.CONNECTED, detail)

    def _publish(self, updates: Sequence[TagUpdate]) -> None:
        if updates:
            self._on_updates(updates)

    # -- supervision -------------------------------------------------------------------

    async def _supervise(self) -> None:
        delay = self._backoff.initial_s
        while True:
            if self.state is not ConnectionState.DOWN:  # while down, retries do not flicker "connecting"
                self._set_state(ConnectionState.CONNECTING, self.state_detail)
            try:
                await self._serve()
                reason = "connection closed by peer"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the peer must end in a reconnect, not a crash
                reason = describe_error(exc)
                log.debug("%s: connection error", self.name, exc_info=True)
            if self.state is ConnectionState.CONNECTED:
                delay = self._backoff.initial_s
                self.counters.disconnects += 1
            self.counters.errors += 1
            self.counters.last_error = reason
            wait = self._backoff.jittered(delay)
            self._lose(reason, wait)  # first: closing a session politely to a silent peer takes timeout_s
            await self._disconnect()
            raise_if_cancelling()  # a close() that the library swallowed while disconnecting
            log.info("%s: %s; reconnecting in %.1f s", self.name, reason, wait)
            assert self._retry_now is not None
            self._retry_now.clear()
            await wait_event(self._retry_now, wait)
            delay = self._backoff.next_delay(delay)

    def _lose(self, reason: str, retry_in_s: float) -> None:
        """Report a loss once (COMM_LOST on every point), not again on every failed retry."""
        if self.state is not ConnectionState.DOWN:
            log.warning("%s: connection down: %s", self.name, reason)
            self._publish([comm_lost(p.tag, reason) for p in self._points])
        self.counters.extra["retry_in_s"] = round(retry_in_s, 1)
        self._set_state(ConnectionState.DOWN, reason)

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        if (state, detail) == (self.state, self.state_detail):
            return
        self.state, self.state_detail = state, detail
        self._on_state(self.name, state, detail)


def option(options: dict[str, Any], key: str, default: float, *, low: float, high: float) -> float:
    """A numeric connection option, validated, with a message naming the option."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"option {key!r} must be a number in {low}..{high}, not {value!r}")
    return float(value)
