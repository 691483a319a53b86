"""The `mem` driver: tags held in memory, written by operators or other components."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.model import (
    ConnectionState,
    DriverCounters,
    Point,
    Quality,
    StateSink,
    TagUpdate,
    UpdateSink,
)
from drivers.plugins import AddressError
from drivers.values import DataType, coerce


@dataclass(frozen=True, slots=True)
class MemAddress:
    name: str
    data_type: DataType
    initial: Any


def parse_mem_address(path: str, query: Mapping[str, str]) -> MemAddress:
    unknown = set(query) - {"type", "initial"}
    if unknown:
        raise AddressError(f"unknown mem option(s) {', '.join(sorted(unknown))} (known: initial, type)")
    try:
        data_type = DataType(query.get("type", "float64"))
    except ValueError:
        raise AddressError(f"mem type {query['type']!r} must be one of {', '.join(DataType)}") from None
    try:
        initial = coerce(query.get("initial", "0" if data_type is not DataType.STRING else ""), data_type)
    except ValueError as exc:
        raise AddressError(f"mem initial value: {exc}") from None
    return MemAddress(path, data_type, initial)


class MemDriver:
    """Always connected. Methods run on the io loop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = ConnectionState.CLOSED
        self.counters = DriverCounters()
        self._values: dict[str, TagUpdate] = {}
        self._on_updates: UpdateSink = lambda updates: None

    async def start(self, points: Sequence[Point], on_updates: UpdateSink, on_state: StateSink) -> None:
        self._on_updates = on_updates
        now = time.time()
        self._values = {p.tag: TagUpdate(p.tag, p.address.initial, Quality.GOOD, now, now) for p in points}
        self.state = ConnectionState.CONNECTED
        on_state(self.name, self.state, "in memory")
        on_updates(list(self._values.values()))

    async def read(self, point: Point) -> TagUpdate:
        return self._values[point.tag]

    async def write(self, point: Point, value: Any) -> None:
        now = time.time()
        update = TagUpdate(point.tag, coerce(value, point.address.data_type), Quality.GOOD, now, now)
        self._values[point.tag] = update
        self.counters.writes += 1
        self._on_updates([update])

    def diagnostics(self) -> dict[str, Any]:
        return {"state": self.state.value, "detail": "in memory", "writes": self.counters.writes}

    async def close(self) -> None:
        self.state = ConnectionState.CLOSED
