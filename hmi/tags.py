"""The tag registry: engineering units, last values, write checks, and fan-out.

Drivers deliver raw values; the registry scales them to engineering units once and
hands the same batch to every listener (historian, bridge, later the alarm engine).
Runs on the io loop; Qt-free.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from drivers.model import Point, Quality, TagUpdate
from drivers.values import DataType, coerce
from hmi.site import Site, TagSpec

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[TagUpdate]], None]

__all__ = ["Listener", "Quality", "TagRegistry", "TagUpdate", "WriteRejected"]


class WriteRejected(ValueError):
    """An operator write was refused before reaching the PLC; the message says why."""


class TagRegistry:
    def __init__(self, site: Site) -> None:
        self._specs: dict[str, TagSpec] = site.tags
        self._points = {name: Point(name, site.addresses[name].address) for name in self._specs}
        self._last: dict[str, TagUpdate] = {}
        self._listeners: list[Listener] = []

    @property
    def specs(self) -> dict[str, TagSpec]:
        return self._specs

    def point(self, tag: str) -> Point:
        return self._points[tag]

    def points_for(self, tags: Iterable[str]) -> list[Point]:
        return [self._points[t] for t in tags]

    def last(self, tag: str) -> TagUpdate | None:
        return self._last.get(tag)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    # -- inbound ------------------------------------------------------------------------

    def ingest(self, raw_updates: Sequence[TagUpdate]) -> None:
        """Scale a driver's batch, remember it, and hand it to every listener."""
        updates = [self._to_engineering(u) for u in raw_updates if u.tag in self._specs]
        for update in updates:
            self._last[update.tag] = update
        for listener in self._listeners:
            try:
                listener(updates)
            except Exception:  # one failing consumer must not starve the others
                log.exception("tag listener %r failed", listener)

    def _to_engineering(self, update: TagUpdate) -> TagUpdate:
        spec = self._specs.get(update.tag)
        if spec is None or update.value is None:
            return update
        if spec.data_type is DataType.BOOL and not isinstance(update.value, list):
            return update._replace(value=bool(update.value))
        if spec.scaling is not None and isinstance(update.value, int | float):
            return update._replace(value=spec.scaling.to_eng(float(update.value)))
        return update

    # -- outbound -----------------------------------------------------------------------

    def prepare_write(self, tag: str, value: Any) -> Any:
        """Check an operator write and convert it to the raw value the driver writes.

        Raises WriteRejected naming the tag and the reason: unknown or read-only tag,
        a value of the wrong type, or a value outside the tag's write limits.
        """
        spec = self._specs.get(tag)
        if spec is None:
            raise WriteRejected(f"unknown tag {tag!r}")
        if not spec.writable:
            raise WriteRejected(f"{tag} is read-only")
        if spec.data_type in (DataType.BOOL, DataType.STRING):
            try:
                return coerce(value, spec.data_type)
            except ValueError as exc:
                raise WriteRejected(f"{tag}: {exc}") from None
        try:
            eng = float(value)
        except (TypeError, ValueError):
            raise WriteRejected(f"{tag}: {value!r} is not a number") from None
        if not math.isfinite(eng):
            raise WriteRejected(f"{tag}: {value!r} is not a finite number")
        if spec.limits is not None and not spec.limits.contains(eng):
            raise WriteRejected(f"{tag}: {eng:g} {spec.units} is outside the allowed range "
                                f"{spec.limits.low:g}..{spec.limits.high:g} {spec.units}".replace("  ", " "))
        raw = spec.scaling.to_raw(eng) if spec.scaling is not None else eng
        if spec.data_type.is_integer:
            raw = round(raw)
        try:
            return coerce(raw, spec.data_type)
        except ValueError as exc:
            raise WriteRejected(f"{tag}: {exc}") from None
