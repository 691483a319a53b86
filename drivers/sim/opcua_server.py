"""OPC UA face of the demo plant: an asyncua server exposing the model under ``urn:linewise:demo-plant``.

The node ids are a contract with the site file (``ns=<urn:linewise:demo-plant>;s=Line1.Tank.Level``
and so on), so they live in one table, :data:`NODES`. Analog values are AnalogItemType
instances carrying the standard EURange and EngineeringUnits properties, so generic OPC UA
clients can scale and label them without Linewise-specific knowledge.

Client writes reach the model through asyncua's per-attribute value setter; the model validates
them, and a refusal travels back as a per-operation ``BadOutOfRange`` (or ``BadTypeMismatch``)
status in the Write response. Given a PKI folder the server is secured as a PLC should be
(:mod:`drivers.sim.opcua_security`: SignAndEncrypt only, trusted client certificates only);
without one it offers the None policy, for tests that exercise other things. Logins are
anonymous either way: there is no user database.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asyncua import Node, Server, ua

from drivers.opcua.pki import PkiStore
from drivers.sim.opcua_security import SECURE_POLICIES, AnonymousOperators, TrustedClients, plant_pki
from drivers.sim.plant_model import FIELDS, PlantModel
from drivers.sim.quiet import logger_silenced

NAMESPACE_URI = "urn:linewise:demo-plant"
APPLICATION_URI = "urn:linewise:demo-plant:server"
ENDPOINT_PATH = "/linewise/demo-plant"
_UNECE_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"
# Model unit -> (UNECE common code, display name), per OPC UA Part 8 EUInformation.
_UNITS: dict[str, tuple[str, str]] = {
    "m": ("MTR", "m"),
    "%": ("P1", "%"),
    "m3/h": ("MQH", "m³/h"),
    "A": ("AMP", "A"),
    "degC": ("CEL", "°C"),
}
_Setter = Callable[[Any, ua.AttributeIds, ua.DataValue], None]
_VARIANTS: dict[type, ua.VariantType] = {
    float: ua.VariantType.Double,
    bool: ua.VariantType.Boolean,
    int: ua.VariantType.UInt32,
}


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One exposed variable: its string node id (also giving its parent object) and model field."""

    node_id: str
    field: str

    @property
    def parent_id(self) -> str:
        return self.node_id.rsplit(".", 1)[0]

    @property
    def browse_name(self) -> str:
        return self.node_id.rsplit(".", 1)[1]


NODES: tuple[NodeSpec, ...] = (
    NodeSpec("Line1.Tank.Level", "level"),
    NodeSpec("Line1.Tank.LevelSP", "level_sp"),
    NodeSpec("Line1.Tank.InletValve", "inlet_valve"),
    NodeSpec("Line1.Tank.InletFlow", "inlet_flow"),
    NodeSpec("Line1.Pump.RunCmd", "pump_run_cmd"),
    NodeSpec("Line1.Pump.Running", "pump_running"),
    NodeSpec("Line1.Pump.SpeedSP", "pump_speed_sp"),
    NodeSpec("Line1.Pump.Speed", "pump_speed"),
    NodeSpec("Line1.Pump.OutletFlow", "outlet_flow"),
    NodeSpec("Line1.Pump.MotorCurrent", "motor_current"),
    NodeSpec("Line1.Pump.MotorTemp", "motor_temp"),
    NodeSpec("Line1.Pump.Tripped", "pump_tripped"),
    NodeSpec("Line1.Pump.Reset", "pump_reset"),
    NodeSpec("Line1.Pump.FaultInject", "fault_inject"),
    NodeSpec("Line1.ProductCount", "product_count"),
)


def unece_unit_id(code: str) -> int:
    """UnitId of a UNECE common code as OPC UA Part 8 defines it (the code's ASCII bytes)."""
    unit_id = 0
    for char in code:
        unit_id = (unit_id << 8) | ord(char)
    return unit_id


class PlantOpcUaServer:
    """Serves a :class:`PlantModel` over OPC UA; call :meth:`publish` after each model step."""

    def __init__(self, model: PlantModel, host: str = "127.0.0.1", port: int = 4840,
                 pki_dir: Path | None = None, trusted_clients: Sequence[Path] = ()) -> None:
        self._model = model
        self._pki_dir = pki_dir
        self._trusted_clients = list(trusted_clients)
        self._host = host
        self._port = port
        self._server: Server | None = None
        self._namespace_index = 0
        self._variables: list[tuple[ua.NodeId, str, ua.VariantType]] = []
        # ids of the DataValues publish() is writing right now: the value setter must not feed
        # these back into the model (a stale echo could undo a client write).
        self._own_writes: set[int] = set()

    @property
    def url(self) -> str:
        return f"opc.tcp://{self._host}:{self._port}{ENDPOINT_PATH}"

    @property
    def port(self) -> int:
        """The listening port (the real one once started, also when 0 was requested)."""
        return self._port

    @property
    def namespace_index(self) -> int:
        return self._namespace_index

    async def start(self) -> None:
        """Build the address space and listen; ``OSError`` naming the port if it is taken."""
        if self._port:
            self._check_port_free()  # fail in milliseconds, before the ~2 s of address-space loading
        server = Server(user_manager=AnonymousOperators()) if self._pki_dir else Server()
        server.name = "Linewise demo plant"
        server.manufacturer_name = "Linewise"
        server.product_uri = NAMESPACE_URI
        server.application_type = ua.ApplicationType.Server
        await server.init()
        await server.set_application_uri(APPLICATION_URI)
        server.set_endpoint(self.url)
        if self._pki_dir is not None:
            await self._secure(server, self._pki_dir)
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        # No user database exists yet: offer anonymous only rather than a username token that
        # would travel in clear text, and refuse the built-in "admin" login that bypasses access levels.
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        server.allow_remote_admin(False)
        self._namespace_index = await server.register_namespace(NAMESPACE_URI)
        await self._build_address_space(server)
        _report_write_refusals_per_operation(server)
        try:
            with logger_silenced("asyncua.server.server"):
                await server.start()
        except OSError as exc:
            # asyncio's message repeats the address; keep just the reason after it
            raise self._port_unavailable((exc.strerror or str(exc)).rsplit(": ", 1)[-1]) from exc
        if server.bserver is not None and server.bserver.port:
            self._port = server.bserver.port
        self._server = server
        await self.publish()

    @property
    def certificate_path(self) -> Path | None:
        """The server's certificate (DER), for clients to trust; None when unsecured."""
        return None if self._pki_dir is None else PkiStore(self._pki_dir).own_certificate_path

    async def _secure(self, server: Server, pki_dir: Path) -> None:
        pki = plant_pki(pki_dir, self._trusted_clients)
        cert_path, key_path = pki.ensure_own_certificate(APPLICATION_URI, "Linewise demo plant")
        await server.load_certificate(str(cert_path))
        await server.load_private_key(str(key_path))
        server.set_security_policy(SECURE_POLICIES)
        server.set_certificate_validator(TrustedClients(pki))

    def _check_port_free(self) -> None:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's create_server does
            try:
                probe.bind((self._host, self._port))
            except OSError as exc:
                raise self._port_unavailable(exc.strerror or str(exc)) from exc

    def _port_unavailable(self, reason: str) -> OSError:
        return OSError(f"OPC UA port {self._port} on {self._host} is not available: {reason}")

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def publish(self) -> None:
        """Copy every model value to its node with a fresh source timestamp."""
        server = self._server
        if server is None:
            return
        now = datetime.now(UTC)
        for node_id, field, variant_type in self._variables:
            value = ua.DataValue(
                ua.Variant(self._model.read(field), variant_type), SourceTimestamp=now, ServerTimestamp=now
            )
            self._own_writes.add(id(value))
            try:
                await server.write_attribute_value(node_id, value)
            finally:
                self._own_writes.discard(id(value))

    # ---- address space ------------------------------------------------------------------------

    def _node_id(self, identifier: str) -> ua.NodeId:
        return ua.NodeId(identifier, self._namespace_index)

    async def _build_address_space(self, server: Server) -> None:
        objects: dict[str, Node] = {"": server.get_objects_node()}
        for spec in NODES:
            await self._add_variable(server, await self._object(objects, spec.parent_id), spec)

    async def _object(self, objects: dict[str, Node], identifier: str) -> Node:
        """The folder-like object ``identifier`` (e.g. ``Line1.Tank``), created with its parents."""
        if identifier not in objects:
            parent_id, _, name = identifier.rpartition(".")
            parent = await self._object(objects, parent_id)
            objects[identifier] = await parent.add_object(
                self._node_id(identifier), ua.QualifiedName(name, self._namespace_index)
            )
        return objects[identifier]

    async def _add_variable(self, server: Server, parent: Node, spec: NodeSpec) -> None:
        """Add one variable with all its attributes in a single AddNodes call.

        Analog values are AnalogItemType instances with their mandatory EURange property and an
        EngineeringUnits property; the rest are plain BaseDataVariableType variables.
        """
        field = FIELDS[spec.field]
        variant_type = _VARIANTS[field.kind]
        node_id = self._node_id(spec.node_id)
        access = ua.AccessLevel.CurrentRead.mask
        if field.writable:
            access |= ua.AccessLevel.CurrentWrite.mask
        attrs = ua.VariableAttributes(
            DisplayName=ua.LocalizedText(spec.browse_name),
            Description=ua.LocalizedText(field.description),
            Value=ua.Variant(self._model.read(spec.field), variant_type),
            DataType=ua.NodeId(variant_type.value),  # builtin VariantType values equal the DataType ids
            ValueRank=ua.ValueRank.Scalar,
            AccessLevel=access,
            UserAccessLevel=access,
            MinimumSamplingInterval=0.0,
            Historizing=False,
        )
        analog = bool(field.unit)
        item = ua.AddNodesItem(
            ParentNodeId=parent.nodeid,
            ReferenceTypeId=ua.NodeId(ua.ObjectIds.HasComponent),
            RequestedNewNodeId=node_id,
            BrowseName=ua.QualifiedName(spec.browse_name, self._namespace_index),
            NodeClass=ua.NodeClass.Variable,
            NodeAttributes=attrs,
            TypeDefinition=ua.NodeId(
                ua.ObjectIds.AnalogItemType if analog else ua.ObjectIds.BaseDataVariableType
            ),
        )
        (result,) = await parent.session.add_nodes([item])
        result.StatusCode.check()
        node = server.get_node(node_id)
        if analog:
            await self._add_analog_properties(node, spec.node_id, field.unit, field.low, field.high)
        if field.writable:
            server.set_attribute_value_setter(node_id, self._make_setter(spec.field, variant_type))
        self._variables.append((node_id, spec.field, variant_type))

    async def _add_analog_properties(
        self, node: Node, identifier: str, unit: str, low: float | None, high: float | None
    ) -> None:
        if low is None or high is None:
            raise ValueError(f"analog field {identifier} needs an engineering range")
        await node.add_property(
            self._node_id(f"{identifier}.EURange"),
            ua.QualifiedName("EURange", 0),
            ua.Range(Low=low, High=high),
            datatype=ua.ObjectIds.Range,
        )
        code, display = _UNITS[unit]
        await node.add_property(
            self._node_id(f"{identifier}.EngineeringUnits"),
            ua.QualifiedName("EngineeringUnits", 0),
            ua.EUInformation(
                NamespaceUri=_UNECE_NAMESPACE,
                UnitId=unece_unit_id(code),
                DisplayName=ua.LocalizedText(display),
                Description=ua.LocalizedText(display),
            ),
            datatype=ua.ObjectIds.EUInformation,
        )

    def _make_setter(self, field: str, variant_type: ua.VariantType) -> _Setter:
        """Value setter applying a client write to the model, refusing it with a status code."""

        def setter(node_data: Any, attr: ua.AttributeIds, value: ua.DataValue) -> None:
            if id(value) not in self._own_writes:
                requested = value.Value.Value if value.Value is not None else None
                try:
                    self._model.write(field, requested)
                except ValueError as exc:
                    raise ua.UaStatusCodeError(ua.StatusCodes.BadOutOfRange) from exc
                except TypeError as exc:
                    raise ua.UaStatusCodeError(ua.StatusCodes.BadTypeMismatch) from exc
                # Store what the model now holds (a momentary Reset reads back False at once).
                value = ua.DataValue(
                    ua.Variant(self._model.read(field), variant_type),
                    SourceTimestamp=value.SourceTimestamp or datetime.now(UTC),
                    ServerTimestamp=value.ServerTimestamp or datetime.now(UTC),
                )
            node_data.attributes[attr].value = value

        return setter


def _report_write_refusals_per_operation(server: Server) -> None:
    """Make a setter's refusal the status of its own write operation, not a fault of the request.

    asyncua lets a value setter refuse a write only by raising; left alone, that aborts the whole
    Write service with a ServiceFault (and skips the remaining nodes of a multi-node write). OPC UA
    Part 4 wants one status per node, so the attribute service's write is run one operation at a
    time and a raised status code becomes that operation's result. Permission checks and data
    change notifications are untouched because each operation still goes through asyncua.
    """
    service = server.iserver.attribute_service
    write_all = service.write

    async def write_each(params: ua.WriteParameters, *args: Any, **kwargs: Any) -> list[ua.StatusCode]:
        results: list[ua.StatusCode] = []
        for item in params.NodesToWrite:
            try:
                results.extend(await write_all(ua.WriteParameters(NodesToWrite=[item]), *args, **kwargs))
            except ua.UaStatusCodeError as exc:
                results.append(ua.StatusCode(exc.code))
        return results

    service.write = write_each  # type: ignore[method-assign]
