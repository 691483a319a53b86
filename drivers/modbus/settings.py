"""Settings of one Modbus TCP connection, validated when the site loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.plugins import AddressError
from drivers.supervisor import Backoff, option

_KNOWN = {"timeout_s", "poll_interval_ms", "max_gap", "reconnect_max_s"}


@dataclass(frozen=True)
class ModbusSettings:
    host: str
    port: int = 502
    timeout_s: float = 1.0
    poll_interval_s: float = 0.5
    max_gap: int = 8  # unused registers a block read may span to save a request
    backoff: Backoff = field(default_factory=Backoff)


def modbus_settings(url: str, options: Mapping[str, Any], site_folder: Path | None = None) -> ModbusSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("modbus", "modbus+tcp") or not parts.hostname:
        raise AddressError(f"Modbus connection URL {url!r} must look like modbus://host:502")
    try:
        port = parts.port or 502
    except ValueError:
        raise AddressError(f"Modbus connection URL {url!r} has an invalid port") from None
    unknown = set(options) - _KNOWN
    if unknown:
        raise ValueError(f"unknown Modbus option(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(sorted(_KNOWN))})")
    opts = dict(options)
    return ModbusSettings(
        host=parts.hostname,
        port=port,
        timeout_s=option(opts, "timeout_s", 1.0, low=0.05, high=60),
        poll_interval_s=option(opts, "poll_interval_ms", 500, low=10, high=3_600_000) / 1000,
        max_gap=int(option(opts, "max_gap", 8, low=0, high=100)),
        backoff=Backoff(maximum_s=option(opts, "reconnect_max_s", 15.0, low=0.5, high=600)),
    )
