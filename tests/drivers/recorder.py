"""Collects what a driver reports, for driver tests."""

from __future__ import annotations

from collections.abc import Sequence

from drivers.model import ConnectionState, Point, TagUpdate
from drivers.plugins import parse_tag_address


class Recorder:
    def __init__(self) -> None:
        self.updates: list[TagUpdate] = []
        self.states: list[tuple[ConnectionState, str]] = []

    def on_updates(self, updates: Sequence[TagUpdate]) -> None:
        self.updates.extend(updates)

    def on_state(self, _name: str, state: ConnectionState, detail: str) -> None:
        self.states.append((state, detail))

    @property
    def state(self) -> ConnectionState | None:
        return self.states[-1][0] if self.states else None

    def last(self, tag: str) -> TagUpdate | None:
        return next((u for u in reversed(self.updates) if u.tag == tag), None)

    def values(self, tag: str) -> list[object]:
        return [u.value for u in self.updates if u.tag == tag]


def point(tag: str, uri: str) -> Point:
    return Point(tag, parse_tag_address(uri).address)
