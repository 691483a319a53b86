"""OPC UA tag addresses: `opcua://<connection>/<NodeId>`.

The NodeId uses the standard string form: `ns=2;s=Line1.Speed`, `ns=3;i=1001`, or the
namespace-URI form `nsu=urn:vendor:plc;s=Line1.Speed`, which survives a server that
renumbers its namespaces and is therefore preferred in site files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from drivers.plugins import AddressError

_NODE_ID = re.compile(r"^(?:(?:ns=(?P<ns>\d+)|nsu=(?P<nsu>[^;]+));)?(?P<kind>[isgb])=(?P<ident>.+)$")


@dataclass(frozen=True, slots=True)
class OpcUaAddress:
    node_id: str  # as written; resolved against the server's namespace array on connect
    namespace_uri: str | None
    namespace_index: int | None
    identifier_kind: str
    identifier: str

    def with_index(self, index: int) -> str:
        """The NodeId string with a numeric namespace index (what asyncua parses)."""
        return f"ns={index};{self.identifier_kind}={self.identifier}"


def parse_opcua_address(path: str, query: Mapping[str, str]) -> OpcUaAddress:
    if query:
        raise AddressError(f"OPC UA addresses take no options, found {', '.join(sorted(query))}")
    match = _NODE_ID.match(path)
    if match is None:
        raise AddressError(f"{path!r} is not an OPC UA NodeId (expected e.g. ns=2;s=Line1.Speed or "
                           "nsu=urn:plc;i=1001)")
    kind, ident = match["kind"], match["ident"]
    if kind == "i" and not ident.isdigit():
        raise AddressError(f"numeric NodeId identifier {ident!r} is not a number")
    ns = match["ns"]
    return OpcUaAddress(path, match["nsu"], int(ns) if ns is not None else (None if match["nsu"] else 0),
                        kind, ident)
