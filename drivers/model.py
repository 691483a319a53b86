"""The records every driver produces and the protocol every driver implements.

This module is the seam between acquisition and the rest of Linewise: it has no
third-party imports so that `hmi` can use these types without pulling in a protocol
library.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable


class Quality(enum.IntEnum):
    """Quality of a value, ordered from best to worst."""

    GOOD = 0
    UNCERTAIN = 1
    BAD = 2
    COMM_LOST = 3

    @property
    def is_good(self) -> bool:
        return self is Quality.GOOD


class ConnectionState(enum.Enum):
    """Connection state of one PLC connection as shown to operators."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DOWN = "down"
    CLOSED = "closed"


class TagUpdate(NamedTuple):
    """One sample of one tag (immutable; a NamedTuple because one is built per notification and
    that is three times cheaper than a frozen dataclass: see bench_opcua_throughput).

    `tag` is the tag's name in the site project. `source_ts` is when the PLC says
    the value was measured (or when it was polled), `server_ts` when the server or
    driver stamped it; both are float epoch seconds. `detail` keeps the protocol's
    own status text (an OPC UA StatusCode name, a Modbus exception) for display.
    """

    tag: str
    value: Any
    quality: Quality
    source_ts: float
    server_ts: float
    replayed: bool = False
    detail: str = ""


def comm_lost(tag: str, detail: str, value: Any = None) -> TagUpdate:
    """The update that replaces silence when a connection is lost."""
    now = time.time()
    return TagUpdate(tag, value, Quality.COMM_LOST, now, now, detail=detail)


@dataclass(frozen=True, slots=True)
class Point:
    """A tag as a driver sees it: its name and its parsed address."""

    tag: str
    address: Any


@dataclass(slots=True)
class DriverCounters:
    """Counters shown in diagnostics; mutated only on the io loop."""

    connects: int = 0
    disconnects: int = 0
    reads: int = 0
    writes: int = 0
    errors: int = 0
    notifications: int = 0
    last_error: str = ""
    extra: dict[str, float] = field(default_factory=dict)


class DriverError(Exception):
    """A driver operation failed; the message is meant for a technician."""


class WriteError(DriverError):
    """A write was refused by the device or could not be delivered."""


class TrustError(DriverError):
    """The peer's certificate is not trusted (or not valid); the message says how to trust it.
    `certificate` holds what a technician needs to decide (subject, thumbprint, validity...)."""

    def __init__(self, message: str, certificate: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.certificate = certificate or {}


UpdateSink = Callable[[Sequence[TagUpdate]], None]
StateSink = Callable[[str, ConnectionState, str], None]


@runtime_checkable
class Driver(Protocol):
    """What the runtime needs from a protocol driver. All methods run on the io loop.

    `start` returns at once; the driver connects in the background, reconnects with
    back-off on loss, and reports through `on_updates` / `on_state`. Losing the
    connection must produce COMM_LOST updates for every point, never silence.
    """

    name: str
    state: ConnectionState
    counters: DriverCounters

    async def start(self, points: Sequence[Point], on_updates: UpdateSink, on_state: StateSink) -> None: ...

    async def read(self, point: Point) -> TagUpdate: ...

    async def write(self, point: Point, value: Any) -> None: ...

    async def close(self) -> None: ...

    def diagnostics(self) -> dict[str, Any]:
        """A snapshot of state and counters for the Connections window."""
        ...
