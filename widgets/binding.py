"""TagBinding: what a widget composes (not inherits) to follow one tag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from hmi.site import TagSpec
from widgets.style import QUALITY_BADGE


class TagBinding:
    """Subscribes a widget to one tag; GUI thread only. Call `release()` when done."""

    def __init__(self, bridge: Bridge, tag: str, on_update: Callable[[TagUpdate], None]) -> None:
        self.bridge = bridge
        self.tag = tag
        self.spec: TagSpec = bridge.spec(tag)
        self._on_update = on_update
        self.last: TagUpdate | None = bridge.subscribe(tag, self._update)

    def _update(self, update: TagUpdate) -> None:
        self.last = update
        self._on_update(update)

    def release(self) -> None:
        self.bridge.unsubscribe(self.tag, self._update)

    @property
    def label(self) -> str:
        return self.spec.description or self.tag

    def format(self, value: Any) -> str:
        return format_value(self.spec, value)


def format_value(spec: TagSpec, value: Any) -> str:
    if value is None:
        return "----"
    if isinstance(value, bool):
        return spec.on_text if value else spec.off_text
    if isinstance(value, int | float):
        return f"{value:.{spec.decimals}f}" if spec.data_type.is_numeric and not spec.data_type.is_integer \
            else f"{value:.0f}"
    return str(value)


def quality_text(update: TagUpdate | None) -> str:
    """Badge text for non-good quality, with the protocol's reason when it has one."""
    if update is None:
        return "COMM"
    badge = QUALITY_BADGE[update.quality]
    return badge if update.quality is Quality.GOOD or not update.detail else f"{badge}: {update.detail}"
