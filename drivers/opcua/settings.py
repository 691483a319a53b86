"""Settings of one OPC UA connection, validated when the site loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from drivers.plugins import AddressError
from drivers.supervisor import Backoff, option

_KNOWN = {"publishing_interval_ms", "sampling_interval_ms", "timeout_s", "watchdog_s", "reconnect_max_s"}


@dataclass(frozen=True)
class OpcUaSettings:
    url: str
    publishing_interval_ms: float = 250.0
    sampling_interval_ms: float = 100.0
    timeout_s: float = 4.0
    watchdog_s: float = 1.0  # how often the session is probed: bounds loss detection time
    backoff: Backoff = field(default_factory=Backoff)


def opcua_settings(url: str, options: Mapping[str, Any]) -> OpcUaSettings:
    parts = urlsplit(url)
    if parts.scheme != "opc.tcp" or not parts.hostname:
        raise AddressError(f"OPC UA endpoint URL {url!r} must look like opc.tcp://host:4840")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise AddressError(f"OPC UA endpoint URL {url!r} has an invalid port") from None
    unknown = set(options) - _KNOWN
    if unknown:
        raise ValueError(f"unknown OPC UA option(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(sorted(_KNOWN))})")
    opts = dict(options)
    return OpcUaSettings(
        url=url,
        publishing_interval_ms=option(opts, "publishing_interval_ms", 250, low=10, high=600_000),
        sampling_interval_ms=option(opts, "sampling_interval_ms", 100, low=0, high=600_000),
        timeout_s=option(opts, "timeout_s", 4.0, low=0.1, high=120),
        watchdog_s=option(opts, "watchdog_s", 1.0, low=0.1, high=60),
        backoff=Backoff(maximum_s=option(opts, "reconnect_max_s", 15.0, low=0.5, high=600)),
    )
