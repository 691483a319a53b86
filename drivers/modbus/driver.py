"""Modbus TCP driver over pymodbus: block polling per scan class, writes, quality, reconnect.

One request is in flight per connection (pymodbus serialises them anyway); devices on
separate connections are polled concurrently because each driver has its own tasks. Each
scan class has its own poll task and period, and counts its own overruns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from drivers.modbus.address import DEFAULT_SCAN, ModbusAddress, Table
from drivers.modbus.blocks import Block, plan_blocks, split_block
from drivers.modbus.codec import bit_masks, decode_registers, encode_value
from drivers.modbus.diagnostics import CommLog, DeviceStats
from drivers.modbus.scanner import MAX_SCAN
from drivers.modbus.settings import ModbusSettings
from drivers.modbus.transport import describe, new_client, unreachable
from drivers.model import Point, Quality, TagUpdate, WriteError, comm_lost
from drivers.supervisor import SupervisedDriver
from drivers.values import coerce
from drivers.waiting import raise_if_cancelling, wait_event

log = logging.getLogger(__name__)

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


ILLEGAL_FUNCTION, ILLEGAL_ADDRESS = 1, 2
UNIT_REST_S = 5.0  # a silent unit behind a gateway is skipped this long, then tried again


class NoAnswer(TimeoutError):
    def __init__(self, unit: int, timeout_s: float, garbled: bool = False) -> None:
        super().__init__(f"unit {unit}: no valid answer within {timeout_s:g} s; frames arrived that match no "
                         "request (garbled, another transaction or unit id, or too short): see the "
                         "communications log" if garbled else f"unit {unit} did not answer within {timeout_s:g} s")


def exception_text(code: int) -> str:
    return f"exception {code} ({EXCEPTION_NAMES.get(code, 'unknown')})"


class ModbusDriver(SupervisedDriver):
    def __init__(self, name: str, settings: ModbusSettings) -> None:
        super().__init__(name, settings.backoff)
        self.settings = settings
        self._client: ModbusBaseClient | None = None
        self._blocks: dict[str, list[Block]] = {}  # scan class -> its block reads
        self._lock = asyncio.Lock()
        self._poll_now: dict[str, asyncio.Event] = {}  # scan class -> wakes its poller early (after a write)
        self.devices: dict[int, DeviceStats] = {}  # unit id -> counters
        self.comm_log = CommLog()
        self._readers: dict[Table, Any] = {}  # the client's read function per table, bound once per connection
        self._resting_until: dict[int, float] = {}  # unit id -> not polled before (it stopped answering)

    # -- connection ---------------------------------------------------------------------

    async def _serve(self) -> None:
        by_class: dict[str, list[Point]] = {}
        for point in self._points:
            by_class.setdefault(point.address.scan, []).append(point)
        self._blocks = {name: plan_blocks(points, self.settings.max_gap) for name, points in by_class.items()}
        client = new_client(self.settings, self.comm_log.trace)
        self._resting_until.clear()
        self._client = client
        self._readers = {Table.COILS: client.read_coils, Table.DISCRETE_INPUTS: client.read_discrete_inputs,
                         Table.INPUT_REGISTERS: client.read_input_registers,
                         Table.HOLDING_REGISTERS: client.read_holding_registers}
        if not await client.connect():
            raise ConnectionError(unreachable(self.settings))
        self._mark_connected(describe(self.settings))
        pollers = [asyncio.create_task(self._poll_forever(name, blocks), name=f"modbus-scan:{self.name}:{name}")
                   for name, blocks in self._blocks.items()]
        try:
            done, _ = await asyncio.wait(pollers, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # a poller only ends by failing: re-raise its error for the supervisor
        finally:
            for task in pollers:
                task.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        self._readers = {}
        if client is not None:
            client.close()

    async def _poll_forever(self, scan_class: str, blocks: list[Block]) -> None:
        period = self.settings.scan_period_s(scan_class)
        poll_now = self._poll_now.setdefault(scan_class, asyncio.Event())
        next_due = time.monotonic()
        while True:
            await self._scan(blocks)
            next_due += period
            now = time.monotonic()
            if next_due < now:  # overrun: do not try to catch up with a burst of polls
                key = "overruns" if scan_class == DEFAULT_SCAN else f"overruns_{scan_class}"
                self.counters.extra[key] = self.counters.extra.get(key, 0) + 1
                next_due = now
            poll_now.clear()
            await wait_event(poll_now, next_due - now)

    async def _scan(self, blocks: list[Block]) -> None:
        """Read every block once. A block refused with 'illegal data address' is split (for good:
        the plan keeps the halves) until the tag whose register does not exist stands alone."""
        i = 0
        while i < len(blocks):
            block = blocks[i]
            if self._unit_resting(block.unit):
                i += 1
                continue
            updates, code = await self._read_block(block)
            raise_if_cancelling()
            if code == ILLEGAL_ADDRESS and len(block.points) > 1:
                blocks[i:i + 1] = split_block(block)
                self.counters.extra["blocks_split"] = self.counters.extra.get("blocks_split", 0) + 1
                continue
            self._publish(updates)
            i += 1

    # -- reads ------------------------------------------------------------------------------

    async def _request(self, call: Any, *, device_id: int, **kwargs: Any) -> ModbusPDU:
        client = self._client
        if client is None or not client.connected:
            raise ConnectionError("not connected")
        stats = self.devices.get(device_id)
        if stats is None:
            stats = self.devices[device_id] = DeviceStats()
        async with self._lock:  # one request in flight: what an RTU line (and pymodbus) allows
            sent_at = time.time()
            for attempt in range(self.settings.retries + 1):
                stats.requests += 1
                began = time.monotonic()
                try:
                    response = await call(device_id=device_id, **kwargs)
                    break
                except (ModbusIOException, TimeoutError) as exc:
                    stats.timeouts += 1
                    if attempt == self.settings.retries:
                        garbled = self.comm_log.received_since(sent_at)
                        raise NoAnswer(device_id, self.settings.timeout_s, garbled) from exc
            stats.answer(time.monotonic() - began)
            if self.settings.inter_frame_s:
                await asyncio.sleep(self.settings.inter_frame_s)
        if response.isError():
            stats.errors += 1
        return response

    def _unit_resting(self, unit: int) -> bool:
        return time.monotonic() < self._resting_until.get(unit, 0.0)

    async def _read_block(self, block: Block) -> tuple[list[TagUpdate], int]:
        """The block's updates, and the exception code if the device refused it (0 if not)."""
        reader = self._readers.get(block.table)
        if reader is None:
            raise ConnectionError("not connected")
        self.counters.reads += 1
        try:
            response = await self._request(reader, address=block.start, count=block.count, device_id=block.unit)
        except NoAnswer as exc:
            return self._unit_silent(block, exc), 0
        now = time.time()
        if response.isError():
            self.counters.errors += 1
            detail = exception_text(response.exception_code)
            self.counters.last_error = f"unit {block.unit} {block.table} {block.start}: {detail}"
            return [TagUpdate(p.tag, None, Quality.BAD, now, now, detail=detail) for p in block.points], \
                response.exception_code
        bits = block.table.is_bits
        words = response.bits if bits else response.registers
        if len(words) < block.count:  # a short answer: never decode past what arrived
            self.counters.errors += 1
            self.devices[block.unit].errors += 1
            detail = f"short response: {len(words)} of {block.count} {'bits' if bits else 'registers'}"
            self.counters.last_error = f"unit {block.unit} {block.table} {block.start}: {detail}"
            return [TagUpdate(p.tag, None, Quality.BAD, now, now, detail=detail) for p in block.points], 0
        updates = []
        for point in block.points:
            address: ModbusAddress = point.address
            part = words[block.slice_for(address)]
            value = bool(part[0]) if bits else decode_registers(address, part)
            updates.append(TagUpdate(point.tag, value, Quality.GOOD, now, now))
        return updates, 0

    def _unit_silent(self, block: Block, exc: NoAnswer) -> list[TagUpdate]:
        """No answer from one unit: its tags are lost and it rests a while, so a dead unit behind a
        gateway does not hold up the others. When every unit on the connection is silent, the
        connection itself is gone and the supervisor reconnects."""
        self._resting_until[block.unit] = time.monotonic() + UNIT_REST_S
        units = {b.unit for b in self._all_blocks()}
        if all(self._unit_resting(unit) for unit in units):
            raise ConnectionError(str(exc)) from exc
        self.counters.errors += 1
        self.counters.last_error = str(exc)
        log.warning("%s: %s; trying it again in %.0f s", self.name, exc, UNIT_REST_S)
        unit_points = [p for b in self._all_blocks() if b.unit == block.unit for p in b.points]
        return [comm_lost(p.tag, str(exc)) for p in unit_points]

    def _all_blocks(self) -> list[Block]:
        return [b for blocks in self._blocks.values() for b in blocks]

    async def read(self, point: Point) -> TagUpdate:
        address: ModbusAddress = point.address
        block = Block(address.unit, address.table, address.offset, address.count, [point])
        updates, _code = await self._read_block(block)
        return updates[0]

    async def scan_registers(self, unit: int, table: str, start: int, count: int) -> list[int]:
        """Read a raw range from any unit, for the register scanner (holding or input registers)."""
        kind = Table(table)
        if kind.is_bits:
            raise ValueError("the register scanner reads holding (hr) or input (ir) registers")
        if not 0 <= unit <= 247 or not 1 <= count <= MAX_SCAN or not 0 <= start <= 65536 - count:
            raise ValueError(f"unit 0..247, count 1..{MAX_SCAN} and start 0..{65536 - count} expected")
        reader = self._readers.get(kind)
        if reader is None:
            raise ConnectionError(f"not connected to {describe(self.settings)}")
        response = await self._request(reader, address=start, count=count, device_id=unit)
        if response.isError():
            raise ValueError(f"unit {unit} refused {table} {start}..{start + count - 1}: "
                             f"{exception_text(response.exception_code)}")
        return list(response.registers[:count])

    def diagnostics(self) -> dict[str, Any]:
        snapshot = super().diagnostics()
        snapshot["devices"] = {unit: stats.snapshot() for unit, stats in sorted(self.devices.items())}
        snapshot["comm_log"] = self.comm_log.lines()
        return snapshot

    # -- writes -----------------------------------------------------------------------------

    async def write(self, point: Point, value: Any) -> None:
        address: ModbusAddress = point.address
        if not address.table.is_writable:
            raise WriteError(f"{point.tag}: {address.table.name.lower().replace('_', ' ')} are read-only")
        if self._client is None:
            raise WriteError(f"{point.tag}: not connected to {describe(self.settings)}")
        try:
            typed = coerce(value, address.data_type)
            words = [] if address.table.is_bits or address.bit is not None else encode_value(address, typed)
        except ValueError as exc:
            raise WriteError(f"{point.tag}: {exc}") from None
        self.counters.writes += 1
        try:
            response = await self._send_write(address, typed, words)
            if not response.isError() and self.settings.verify_writes:
                await self._verify(point, typed, words)
        except (ModbusException, ConnectionError, TimeoutError) as exc:
            self.counters.errors += 1
            raise WriteError(f"{point.tag}: write not delivered: {exc}") from exc
        if response.isError():
            self.counters.errors += 1
            raise WriteError(f"{point.tag}: device refused the write: {exception_text(response.exception_code)}")
        if (poll_now := self._poll_now.get(address.scan)) is not None:
            poll_now.set()  # show the written value back without waiting for the tag's scan class

    async def _send_write(self, address: ModbusAddress, value: Any, words: list[int]) -> ModbusPDU:
        client = self._client
        assert client is not None
        unit, offset = address.unit, address.offset
        if address.table is Table.COILS:
            if address.write_multiple:
                return await self._request(client.write_coils, address=offset, values=[value], device_id=unit)
            return await self._request(client.write_coil, address=offset, value=value, device_id=unit)
        if address.bit is not None:
            return await self._write_bit(address, value)
        if len(words) == 1 and not address.write_multiple:
            return await self._request(client.write_register, address=offset, value=words[0], device_id=unit)
        return await self._request(client.write_registers, address=offset, values=words, device_id=unit)

    async def _write_bit(self, address: ModbusAddress, value: bool) -> ModbusPDU:
        """One bit of a register: function 22 changes it atomically; a device without 22 gets a
        read-modify-write (the other bits could change between the two, as on any such device)."""
        client = self._client
        assert client is not None
        assert address.bit is not None
        and_mask, or_mask = bit_masks(address.bit, value)
        response = await self._request(client.mask_write_register, address=address.offset, and_mask=and_mask,
                                       or_mask=or_mask, device_id=address.unit)
        if not response.isError() or response.exception_code != ILLEGAL_FUNCTION:
            return response
        current = await self._request(client.read_holding_registers, address=address.offset, count=1,
                                      device_id=address.unit)
        if current.isError():
            return current
        word = (current.registers[0] & and_mask) | or_mask
        return await self._request(client.write_register, address=address.offset, value=word,
                                   device_id=address.unit)

    async def _verify(self, point: Point, value: Any, words: list[int]) -> None:
        """Read the value back: a device may accept a write and keep something else (clamped,
        read-only in its current mode). Registers are compared, not decoded floats."""
        address: ModbusAddress = point.address
        block = Block(address.unit, address.table, address.offset, address.count, [point])
        client = self._client
        assert client is not None
        reader = client.read_coils if address.table is Table.COILS else client.read_holding_registers
        response = await self._request(reader, address=block.start, count=block.count, device_id=block.unit)
        if response.isError():
            raise WriteError(f"{point.tag}: written, but the read-back failed: "
                             f"{exception_text(response.exception_code)}")
        if address.table is Table.COILS or address.bit is not None:
            held: Any = bool(response.bits[0]) if address.table is Table.COILS else bool(
                (response.registers[0] >> address.bit) & 1)
            matches = held == bool(value)
        else:
            held = decode_registers(address, response.registers)
            matches = list(response.registers[: address.count]) == words
        if not matches:
            self.counters.errors += 1
            raise WriteError(f"{point.tag}: the device accepted {value!r} but holds {held!r} (read back)")
