"""OPC UA client driver over asyncua: subscription, read, write, quality, reconnect.

Loss is detected by the transport closing (asyncua reports it at once) and, for a peer that
goes silent without closing (cable pulled, PLC hung), by `_watch_liveness`: when nothing has
arrived for `watchdog_s` it reads ServerState with a `watchdog_s` timeout. The supervisor then
reports COMM_LOST and reconnects, and `_serve` re-creates the session and subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from asyncua import Client, Node, ua
from asyncua.common.subscription import DataChangeEvent, OpcEvent, Subscription

from drivers.model import ConnectionState, DriverError, Point, Quality, TagUpdate, TrustError, WriteError
from drivers.opcua.address import OpcUaAddress, parse_opcua_address
from drivers.opcua.browse import AddressSpace
from drivers.opcua.conditions import ConditionEvent, condition_filter, to_condition
from drivers.opcua.monitoring import group_by_publishing_interval, item_request
from drivers.opcua.pki import PkiStore
from drivers.opcua.session import authenticate, explain_refusal, new_client, secure
from drivers.opcua.settings import OpcUaSettings
from drivers.opcua.types import VARIANT_TO_TYPE
from drivers.plugins import AddressError
from drivers.supervisor import SupervisedDriver, describe_error
from drivers.values import coerce

log = logging.getLogger(__name__)



def _epoch(stamp: datetime) -> float:
    return stamp.timestamp() if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC).timestamp()  # UTC per spec


def quality_of(status: ua.StatusCode | None) -> tuple[Quality, str]:
    """Map an OPC UA StatusCode to Quality, keeping the code's name for display."""
    if status is None or status.value == 0 or status.is_good():  # value 0 is Good: skip decoding it
        return Quality.GOOD, ""
    return (Quality.UNCERTAIN if status.is_uncertain() else Quality.BAD), status.name


def to_update(tag: str, data_value: ua.DataValue, replayed: bool = False) -> TagUpdate:
    """This runs once per notification: keep it lean (no clock read unless a stamp is missing;
    asyncua decodes DateTime as an aware UTC datetime, so .timestamp() is exact)."""
    status = data_value.StatusCode
    if status is None or status.value == 0:  # Good: skip decoding the code
        quality, detail = Quality.GOOD, ""
    else:
        quality, detail = quality_of(status)
    variant = data_value.Value
    server, source = data_value.ServerTimestamp, data_value.SourceTimestamp
    server_ts = _epoch(server) if server is not None else time.time()
    return TagUpdate(tag, None if variant is None else variant.Value, quality,
                     server_ts if source is None else _epoch(source), server_ts, replayed, detail)


class OpcUaDriver(SupervisedDriver):
    def __init__(self, name: str, settings: OpcUaSettings) -> None:
        super().__init__(name, settings.backoff)
        self.settings = settings
        self._client: Client | None = None
        self.security = ""  # the endpoint in use, e.g. "Basic256Sha256/SignAndEncrypt"
        self.untrusted: dict[str, str] = {}  # the server certificate waiting for a technician's decision
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._node_ids: dict[str, str] = {}  # tag -> resolved NodeId string
        self._variant_types: dict[str, ua.VariantType] = {}
        self._pending: list[TagUpdate] = []
        self._last_source_ts: dict[str, float] = {}
        self._flush_scheduled = False
        self.conditions: dict[str, ConditionEvent] = {}  # latest state per condition id
        self.on_conditions: Callable[[list[ConditionEvent]], None] = lambda records: None

    # -- connection ---------------------------------------------------------------------

    async def _serve(self) -> None:
        client = new_client(self.settings)
        client.connection_lost_callback = self._on_connection_lost
        self._client = client
        self._lost.clear()
        try:
            self.security = await secure(client, self.settings)
        except TrustError as exc:
            self.untrusted = exc.certificate
            raise
        self.untrusted = {}
        await authenticate(client, self.settings)
        try:
            await client.connect()
        except ua.UaStatusCodeError as exc:
            raise explain_refusal(exc, self.settings) from exc
        self._mark_connected(f"{self.settings.url} ({self.security})")
        subscriptions = await self._subscribe(client)
        tasks = {asyncio.create_task(self._consume(s, tags), name=f"opcua-consume:{self.name}")
                 for s, tags in subscriptions}
        if self.settings.conditions:
            events = await self._subscribe_conditions(client)
            tasks.add(asyncio.create_task(self._consume_conditions(events), name=f"opcua-conditions:{self.name}"))
        tasks.add(asyncio.create_task(self._watch_liveness(client), name=f"opcua-liveness:{self.name}"))
        tasks.add(asyncio.create_task(self._lost.wait()))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        raise ConnectionError(self._lost_reason or "subscription ended")

    async def _watch_liveness(self, client: Client) -> None:
        """Probe the server only when it has gone quiet: any notification proves the session alive.

        asyncua's own watchdog probes on a timer whatever arrives, so a server slowed by a burst
        (10,000 items after a reconnect) missed one probe deadline and was dropped and re-subscribed,
        which made the next burst: a reconnect storm on exactly the plants that can least afford it."""
        heard = -1
        while True:
            await asyncio.sleep(self.settings.watchdog_s)
            if self.counters.notifications != heard:
                heard = self.counters.notifications
                continue
            try:
                async with asyncio.timeout(self.settings.watchdog_s):
                    await client.nodes.server_state.read_value()
            except (TimeoutError, OSError, ua.UaError) as exc:
                await self._on_connection_lost(exc)
                return

    async def _on_connection_lost(self, exc: Exception) -> None:
        self._lost_reason = describe_error(exc)
        self._lost.set()

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            async with asyncio.timeout(self.settings.timeout_s):  # not wait_for: see drivers/waiting.py
                await client.disconnect()
        except Exception:  # the peer may already be gone; the socket is closed either way
            log.debug("%s: disconnect raised", self.name, exc_info=True)

    # -- subscription ---------------------------------------------------------------------

    async def _resolve(self, client: Client) -> list[TagUpdate]:
        """Resolve namespace URIs to this server's indexes; return BAD updates for failures."""
        self._node_ids.clear()
        namespaces: list[str] | None = None
        failures = []
        for point in self._points:
            address: OpcUaAddress = point.address
            index = address.namespace_index
            if address.namespace_uri is not None:
                namespaces = namespaces if namespaces is not None else await client.get_namespace_array()
                if address.namespace_uri not in namespaces:
                    failures.append(self._bad(point, f"namespace {address.namespace_uri} not on server"))
                    continue
                index = namespaces.index(address.namespace_uri)
            self._node_ids[point.tag] = address.with_index(index or 0)
        return failures

    async def _subscribe(self, client: Client) -> list[tuple[Subscription, dict[int, str]]]:
        """One subscription per publishing interval, each item with its own sampling/queue/deadband.
        Returns each subscription with its client handles -> tag (two tags may watch one node)."""
        failures = await self._resolve(client)
        subscriptions = []
        resolved = [p for p in self._points if p.tag in self._node_ids]
        for interval, points in group_by_publishing_interval(resolved, self.settings).items():
            subscription = await client.create_subscription(interval, handler=None, queue_maxsize=100_000)
            subscriptions.append((subscription, {handle: p.tag for handle, p in enumerate(points, start=1)}))
            requests = [item_request(ua.NodeId.from_string(self._node_ids[p.tag]), handle, p.address.monitoring,
                                     self.settings) for handle, p in enumerate(points, start=1)]
            results = await subscription.create_monitored_items(requests)
            for point, result in zip(points, results, strict=True):
                if isinstance(result, ua.StatusCode):
                    failures.append(self._bad_tag(point.tag, result.name))
        self._publish(failures)
        return subscriptions

    def _bad(self, point: Point, detail: str) -> TagUpdate:
        return self._bad_tag(point.tag, detail)

    def _bad_tag(self, tag: str, detail: str) -> TagUpdate:
        now = datetime.now(UTC).timestamp()
        log.warning("%s: %s: %s", self.name, tag, detail)
        return TagUpdate(tag, None, Quality.BAD, now, now, detail=detail)

    async def _consume(self, subscription: Subscription, tags: dict[int, str]) -> None:
        """Turn data-change events into TagUpdates, one batch per burst of notifications.

        This loop runs once per notification (10,000+/s on a big plant): names are bound to locals
        and the re-send check is inlined, so the driver adds little to asyncua's own decoding."""
        loop = asyncio.get_running_loop()
        counters, tag_of, last_source_ts = self.counters, tags.get, self._last_source_ts
        good = Quality.GOOD
        async for event in subscription:
            if event.__class__ is not DataChangeEvent:
                continue
            counters.notifications += 1
            item = event.data.monitored_item
            tag = tag_of(item.ClientHandle)
            if tag is None:
                continue
            update = to_update(tag, item.Value, event.replayed)
            if update.quality is good:  # a value not newer than one delivered is a re-send: flag it
                last = last_source_ts.get(tag)
                if last is not None and update.source_ts <= last:
                    update = update._replace(replayed=True)
                else:
                    last_source_ts[tag] = update.source_ts
            self._pending.append(update)
            if not self._flush_scheduled:  # one batch per burst of notifications
                self._flush_scheduled = True
                loop.call_soon(self._flush)

    # -- alarms & conditions ---------------------------------------------------------------------

    async def _subscribe_conditions(self, client: Client) -> Subscription:
        subscription = await client.create_subscription(self.settings.publishing_interval_ms, handler=None,
                                                        queue_maxsize=100_000)
        notifier = client.get_node(await self._node_id(client, self.settings.condition_notifier))
        await subscription.subscribe_events(notifier, ua.ObjectIds.ConditionType, evfilter=condition_filter())
        try:  # ask for the current state of every condition: events only tell about changes
            await client.get_node(ua.ObjectIds.ConditionType).call_method(
                ua.NodeId(ua.ObjectIds.ConditionType_ConditionRefresh),
                ua.Variant(subscription.subscription_id, ua.VariantType.UInt32))
        except ua.UaStatusCodeError as exc:
            log.info("%s: ConditionRefresh not available (%s)", self.name, ua.StatusCode(exc.code).name)
        return subscription

    async def _consume_conditions(self, subscription: Subscription) -> None:
        async for event in subscription:
            if not isinstance(event, OpcEvent):
                continue
            record = to_condition(self.name, event.event.event_fields or [])
            if record is None:
                continue
            self.conditions[record.condition_id] = record
            try:
                self.on_conditions([record])
            except Exception:  # a consumer's failure must not stop condition delivery
                log.exception("%s: condition consumer failed", self.name)

    async def acknowledge(self, condition_id: str, event_id: bytes, comment: str = "") -> None:
        """Acknowledge the condition state identified by `event_id` (Part 9 Acknowledge)."""
        await self._condition_method(condition_id, ua.ObjectIds.AcknowledgeableConditionType_Acknowledge,
                                     event_id, comment, "acknowledge")

    async def confirm(self, condition_id: str, event_id: bytes, comment: str = "") -> None:
        await self._condition_method(condition_id, ua.ObjectIds.AcknowledgeableConditionType_Confirm,
                                     event_id, comment, "confirm")

    async def _condition_method(self, condition_id: str, method: int, event_id: bytes, comment: str,
                                verb: str) -> None:
        client = self._client
        if client is None or self.state is not ConnectionState.CONNECTED:
            raise DriverError(f"cannot {verb} {condition_id}: not connected to {self.settings.url}")
        try:
            await client.get_node(condition_id).call_method(
                ua.NodeId(method), ua.Variant(event_id, ua.VariantType.ByteString),
                ua.Variant(ua.LocalizedText(comment), ua.VariantType.LocalizedText))
        except ua.UaStatusCodeError as exc:
            raise DriverError(f"the server refused to {verb} {condition_id}: {ua.StatusCode(exc.code).name}") from None

    def diagnostics(self) -> dict[str, Any]:
        return {**super().diagnostics(), "endpoint": self.settings.url, "security": self.security,
                "untrusted_certificate": self.untrusted, "pki": str(self.settings.pki_dir)}

    def trust_certificate(self, thumbprint: str) -> str:
        """A technician trusts the rejected server certificate: move it and reconnect now."""
        info = PkiStore(self.settings.pki_dir).trust(thumbprint)
        self.untrusted = {}
        self.retry_now()
        return info.subject

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        self._publish(pending)

    # -- read / write ------------------------------------------------------------------------

    def _node(self, point: Point) -> Node:
        client = self._client
        node_id = self._node_ids.get(point.tag)
        if client is None or node_id is None:
            raise WriteError(f"{point.tag}: not connected to {self.settings.url}")
        return client.get_node(node_id)

    async def call_method(self, object_id: str, method_id: str, args: Sequence[Any] = ()) -> list[Any]:
        """Call a method with arguments coerced to the types its InputArguments declare.

        `object_id` and `method_id` are NodeIds in the same forms as tag addresses (nsu= works).
        Raises DriverError with the server's status name when the call fails.
        """
        client = self._client
        if client is None or self.state is not ConnectionState.CONNECTED:
            raise DriverError(f"method {method_id}: not connected to {self.settings.url}")
        obj = client.get_node(await self._node_id(client, object_id))
        method = client.get_node(await self._node_id(client, method_id))
        try:
            declared = await method.get_child("0:InputArguments")
            arguments: list[ua.Argument] = await declared.read_value()
        except ua.UaStatusCodeError:
            arguments = []  # the method declares no inputs
        if len(args) != len(arguments):
            names = ", ".join(a.Name for a in arguments) or "none"
            raise DriverError(f"method {method_id} takes {len(arguments)} argument(s) ({names}), got {len(args)}")
        variants = []
        for value, argument in zip(args, arguments, strict=True):
            variant_type = ua.datatype_to_varianttype(argument.DataType)
            data_type = VARIANT_TO_TYPE.get(variant_type)
            try:
                typed = coerce(value, data_type) if data_type is not None else value
            except ValueError as exc:
                raise DriverError(f"method {method_id}, argument {argument.Name}: {exc}") from None
            variants.append(ua.Variant(typed, variant_type))
        try:
            result = await obj.call_method(method.nodeid, *variants)
        except ua.UaStatusCodeError as exc:
            raise DriverError(f"method {method_id} failed: {ua.StatusCode(exc.code).name}") from None
        return result if isinstance(result, list) else ([] if result is None else [result])

    async def _node_id(self, client: Client, text: str) -> str:
        try:
            address = parse_opcua_address(text, {})
        except AddressError as exc:
            raise DriverError(str(exc)) from None
        index = address.namespace_index
        if address.namespace_uri is not None:
            namespaces = await client.get_namespace_array()
            if address.namespace_uri not in namespaces:
                raise DriverError(f"namespace {address.namespace_uri} is not on the server")
            index = namespaces.index(address.namespace_uri)
        return address.with_index(index or 0)

    def address_space(self) -> AddressSpace:
        """Browse the connected server (for the browser dialog). Raises DriverError when down."""
        if self._client is None or self.state is not ConnectionState.CONNECTED:
            raise DriverError(f"cannot browse {self.settings.url}: not connected")
        return AddressSpace(self._client)

    async def read(self, point: Point) -> TagUpdate:
        node = self._node(point)
        self.counters.reads += 1
        return to_update(point.tag, await node.read_data_value())

    async def write(self, point: Point, value: Any) -> None:
        """Write `value` coerced to the node's own DataType (read once, then cached)."""
        node = self._node(point)
        try:
            variant_type = self._variant_types.get(point.tag)
            if variant_type is None:
                variant_type = await node.read_data_type_as_variant_type()
                self._variant_types[point.tag] = variant_type
            data_type = VARIANT_TO_TYPE.get(variant_type)
            if isinstance(value, list | tuple):  # an array node: every element to the node's type
                typed = [coerce(v, data_type) for v in value] if data_type else list(value)
            else:
                typed = coerce(value, data_type) if data_type else value
            self.counters.writes += 1
            await node.write_value(ua.DataValue(ua.Variant(typed, variant_type)))
        except ValueError as exc:
            raise WriteError(f"{point.tag}: {exc}") from None
        except ua.UaStatusCodeError as exc:
            self.counters.errors += 1
            code = ua.StatusCode(exc.code).name if hasattr(exc, "code") else str(exc)
            raise WriteError(f"{point.tag}: server refused the write: {code}") from None
        except (ConnectionError, TimeoutError, OSError) as exc:
            self.counters.errors += 1
            raise WriteError(f"{point.tag}: write not delivered: {describe_error(exc)}") from None
