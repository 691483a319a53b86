"""Settings of one Modbus TCP connection, validated when the site loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.modbus.address import DEFAULT_SCAN
from drivers.plugins import AddressError
from drivers.supervisor import Backoff, option

_KNOWN = {"timeout_s", "poll_interval_ms", "max_gap", "reconnect_max_s", "scan_classes", "verify_writes"}


@dataclass(frozen=True)
class ModbusSettings:
    host: str
    port: int = 502
    timeout_s: float = 1.0
    poll_interval_s: float = 0.5
    max_gap: int = 8  # unused registers a block read may span to save a request
    backoff: Backoff = field(default_factory=Backoff)
    scan_classes_s: dict[str, float] = field(default_factory=dict)  # name -> period; "default" = poll_interval
    verify_writes: bool = False  # read back every write and refuse it if the device holds something else

    def scan_period_s(self, scan_class: str) -> float:
        return self.scan_classes_s.get(scan_class, self.poll_interval_s)


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
    poll_interval_s = option(opts, "poll_interval_ms", 500, low=10, high=3_600_000) / 1000
    return ModbusSettings(
        host=parts.hostname,
        port=port,
        timeout_s=option(opts, "timeout_s", 1.0, low=0.05, high=60),
        poll_interval_s=poll_interval_s,
        max_gap=int(option(opts, "max_gap", 8, low=0, high=100)),
        backoff=Backoff(maximum_s=option(opts, "reconnect_max_s", 15.0, low=0.5, high=600)),
        scan_classes_s=_scan_classes(opts.get("scan_classes", {})) | {DEFAULT_SCAN: poll_interval_s},
        verify_writes=_flag(opts, "verify_writes"),
    )


def _scan_classes(value: Any) -> dict[str, float]:
    """`scan_classes: {fast: 100, slow: 10000}`: periods in ms per class name."""
    if not isinstance(value, Mapping):
        raise ValueError(f"option 'scan_classes' must map class names to periods in ms, e.g. {{fast: 100}}, "
                         f"not {value!r}")
    if DEFAULT_SCAN in value:
        raise ValueError(f"scan class {DEFAULT_SCAN!r} is poll_interval_ms; give the other classes other names")
    return {str(name): option(dict(value), name, 0, low=10, high=3_600_000) / 1000 for name in value}


def _flag(options: Mapping[str, Any], key: str) -> bool:
    value = options.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"option {key!r} must be true or false, not {value!r}")
    return value
