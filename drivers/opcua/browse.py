"""Browsing a server's address space for engineers: lazy children, attributes, bounded search.

Node ids are returned in the namespace-URI form (`nsu=...;s=...`) so what an engineer adds
to a site keeps working when the server renumbers its namespaces.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from asyncua import Client, Node, ua

from drivers.opcua.types import tag_type_for

OBJECTS_FOLDER = "i=85"


@dataclass(frozen=True)
class BrowseEntry:
    node_id: str  # nsu= form
    browse_name: str
    display_name: str
    node_class: str  # Object, Variable, Method, ...


@dataclass(frozen=True)
class NodeDetails:
    node_id: str
    display_name: str
    node_class: str
    description: str = ""
    data_type: str = ""  # the server's DataType name, e.g. Double
    linewise_type: str | None = None  # the site data_type to use, None if Linewise has no equivalent
    value_rank: int = -1  # -1 scalar, >= 1 array
    readable: bool = False
    writable: bool = False
    units: str = ""
    eu_range: tuple[float, float] | None = None
    value: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class AddressSpace:
    """Browse operations on a connected client. All methods run on the io loop."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._namespaces: list[str] | None = None

    async def _namespace_array(self) -> list[str]:
        if self._namespaces is None:
            self._namespaces = await self.client.get_namespace_array()
        return self._namespaces

    async def portable_id(self, node_id: ua.NodeId) -> str:
        """`nsu=<uri>;s=...` for non-zero namespaces, the plain form for namespace 0."""
        plain = node_id.to_string()
        if node_id.NamespaceIndex == 0:
            return plain
        namespaces = await self._namespace_array()
        identifier = plain.split(";", 1)[1]
        return f"nsu={namespaces[node_id.NamespaceIndex]};{identifier}"

    async def node(self, node_id: str) -> Node:
        if node_id.startswith("nsu="):
            uri, identifier = node_id[4:].split(";", 1)
            namespaces = await self._namespace_array()
            if uri not in namespaces:
                raise KeyError(f"namespace {uri} is not on the server")
            node_id = f"ns={namespaces.index(uri)};{identifier}"
        return self.client.get_node(node_id)

    async def children(self, node_id: str = OBJECTS_FOLDER) -> list[BrowseEntry]:
        node = await self.node(node_id)
        references = await node.get_children_descriptions()
        entries = []
        for ref in references:
            target = ua.NodeId(ref.NodeId.Identifier, ref.NodeId.NamespaceIndex, ref.NodeId.NodeIdType)
            entries.append(BrowseEntry(await self.portable_id(target), ref.BrowseName.to_string(),
                                       ref.DisplayName.Text or ref.BrowseName.Name, ref.NodeClass.name))
        return sorted(entries, key=lambda e: (e.node_class != "Object", e.display_name.lower()))

    async def details(self, node_id: str) -> NodeDetails:
        node = await self.node(node_id)
        attrs = [ua.AttributeIds.DisplayName, ua.AttributeIds.NodeClass, ua.AttributeIds.Description]
        display, node_class, description = await node.read_attributes(attrs)
        base = dict(node_id=node_id, display_name=display.Value.Value.Text or "",
                    node_class=ua.NodeClass(int(node_class.Value.Value)).name,
                    description=(description.Value.Value.Text or "") if description.Value.Value else "")
        if base["node_class"] != "Variable":
            return NodeDetails(**base)
        data_type, rank, access, value = await node.read_attributes(
            [ua.AttributeIds.DataType, ua.AttributeIds.ValueRank, ua.AttributeIds.UserAccessLevel,
             ua.AttributeIds.Value])
        type_name = (await self.client.get_node(data_type.Value.Value).read_browse_name()).Name
        tag_type = tag_type_for(data_type.Value.Value)
        level = access.Value.Value or 0
        units, eu_range = await self._engineering(node)
        shown = value.Value.Value if value.Value is not None else None
        return NodeDetails(
            **base, data_type=type_name, linewise_type=tag_type.value if tag_type else None,
            value_rank=rank.Value.Value, readable=bool(level & ua.AccessLevel.CurrentRead.mask),
            writable=bool(level & ua.AccessLevel.CurrentWrite.mask), units=units, eu_range=eu_range,
            value=_short(shown))

    async def _engineering(self, node: Node) -> tuple[str, tuple[float, float] | None]:
        units, eu_range = "", None
        for prop in await node.get_properties():
            name = (await prop.read_browse_name()).Name
            if name == "EngineeringUnits":
                info = await prop.read_value()
                units = info.DisplayName.Text or "" if isinstance(info, ua.EUInformation) else ""
            elif name == "EURange":
                rng = await prop.read_value()
                if isinstance(rng, ua.Range):
                    eu_range = (rng.Low, rng.High)
        return units, eu_range

    async def search(self, text: str, start: str = OBJECTS_FOLDER, max_nodes: int = 5000,
                     limit: int = 200) -> list[BrowseEntry]:
        """Breadth-first search by display or browse name; bounded so a huge server stays responsive."""
        needle = text.lower()
        found: list[BrowseEntry] = []
        queue: deque[str] = deque([start])
        seen = {start}
        visited = 0
        while queue and visited < max_nodes and len(found) < limit:
            visited += 1
            for entry in await self.children(queue.popleft()):
                if entry.node_id in seen:
                    continue
                seen.add(entry.node_id)
                if needle in entry.display_name.lower() or needle in entry.browse_name.lower():
                    found.append(entry)
                if entry.node_class == "Object":
                    queue.append(entry.node_id)
        return found


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."
