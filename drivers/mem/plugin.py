"""Registers the in-memory driver under the `mem` tag scheme (`mem://local/<name>`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drivers.mem.driver import MemDriver, parse_mem_address
from drivers.model import Driver
from drivers.plugins import AddressError, DriverPlugin


def _settings(url: str, options: Mapping[str, Any], site_folder: Path) -> None:
    if not url.startswith("mem://"):
        raise AddressError(f"memory connection URL {url!r} must start with mem://")
    if options:
        raise ValueError(f"memory connections take no options, found {', '.join(sorted(options))}")


def _create(name: str, settings: Any) -> Driver:
    return MemDriver(name)


PLUGIN = DriverPlugin(scheme="mem", url_schemes=("mem",), parse_address=parse_mem_address,
                      settings=_settings, create=_create)
