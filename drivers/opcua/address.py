"""OPC UA tag addresses: `opcua://<connection>/<NodeId>`.

The NodeId uses the standard string form: `ns=2;s=Line1.Speed`, `ns=3;i=1001`, or the
namespace-URI form `nsu=urn:vendor:plc;s=Line1.Speed`, which survives a server that
renumbers its namespaces and is therefore preferred in site files.

Per-tag monitoring options go in the query: `sampling_ms` (how often the server samples),
`queue` (samples the server keeps between publishes), `deadband` with `deadband_type`
absolute or percent (of the EURange), and `publishing_ms` (tags with the same publishing
interval share one subscription; the connection's interval is the default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from drivers.plugins import AddressError

_NODE_ID = re.compile(r"^(?:(?:ns=(?P<ns>\d+)|nsu=(?P<nsu>[^;]+));)?(?P<kind>[isgb])=(?P<ident>.+)$")


@dataclass(frozen=True, slots=True)
class Monitoring:
    sampling_ms: float | None = None  # None: the connection's default
    queue_size: int = 1
    deadband: float = 0.0
    deadband_type: str = "none"  # none | absolute | percent
    publishing_ms: float | None = None


@dataclass(frozen=True, slots=True)
class OpcUaAddress:
    node_id: str  # as written; resolved against the server's namespace array on connect
    namespace_uri: str | None
    namespace_index: int | None
    identifier_kind: str
    identifier: str
    monitoring: Monitoring = Monitoring()

    def with_index(self, index: int) -> str:
        """The NodeId string with a numeric namespace index (what asyncua parses)."""
        return f"ns={index};{self.identifier_kind}={self.identifier}"


def parse_opcua_address(path: str, query: Mapping[str, str]) -> OpcUaAddress:
    match = _NODE_ID.match(path)
    if match is None:
        raise AddressError(f"{path!r} is not an OPC UA NodeId (expected e.g. ns=2;s=Line1.Speed or "
                           "nsu=urn:plc;i=1001)")
    kind, ident = match["kind"], match["ident"]
    if kind == "i" and not ident.isdigit():
        raise AddressError(f"numeric NodeId identifier {ident!r} is not a number")
    ns = match["ns"]
    return OpcUaAddress(path, match["nsu"], int(ns) if ns is not None else (None if match["nsu"] else 0),
                        kind, ident, _monitoring(query))


_OPTIONS = {"sampling_ms", "queue", "deadband", "deadband_type", "publishing_ms"}


def _monitoring(query: Mapping[str, str]) -> Monitoring:
    unknown = set(query) - _OPTIONS
    if unknown:
        known = ", ".join(sorted(_OPTIONS))
        raise AddressError(f"unknown OPC UA option(s) {', '.join(sorted(unknown))} (known: {known})")

    def number(key: str, low: float, high: float) -> float | None:
        if key not in query:
            return None
        try:
            value = float(query[key])
        except ValueError:
            raise AddressError(f"{key}={query[key]!r} is not a number") from None
        if not low <= value <= high:
            raise AddressError(f"{key}={query[key]} must be in {low:g}..{high:g}")
        return value

    deadband = number("deadband", 0, 1e12) or 0.0
    kind = query.get("deadband_type", "absolute" if deadband else "none")
    if kind not in ("none", "absolute", "percent"):
        raise AddressError(f"deadband_type={kind!r} must be absolute or percent")
    if kind == "percent" and deadband > 100:
        raise AddressError(f"a percent deadband must be 0..100, not {deadband:g}")
    queue = number("queue", 1, 10_000)
    return Monitoring(sampling_ms=number("sampling_ms", 0, 3_600_000), queue_size=int(queue or 1),
                      deadband=deadband, deadband_type=kind, publishing_ms=number("publishing_ms", 10, 3_600_000))
