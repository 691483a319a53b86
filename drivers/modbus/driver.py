"""Modbus TCP driver over pymodbus: block polling, writes, quality, reconnect.

One request is in flight per connection (pymodbus serialises them anyway); devices on
separate connections are polled concurrently because each driver has its own task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from drivers.modbus.address import ModbusAddress, Table
from drivers.modbus.blocks import Block, plan_blocks
from drivers.modbus.codec import decode_registers, encode_value
from drivers.modbus.settings import ModbusSettings
from drivers.model import Point, Quality, TagUpdate, WriteError
from drivers.supervisor import SupervisedDriver
from drivers.values import coerce
from drivers.waiting import wait_event

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


def exception_text(code: int) -> str:
    return f"exception {code} ({EXCEPTION_NAMES.get(code, 'unknown')})"


class ModbusDriver(SupervisedDriver):
    def __init__(self, name: str, settings: ModbusSettings) -> None:
        super().__init__(name, settings.backoff)
        self.settings = settings
        self._client: AsyncModbusTcpClient | None = None
        self._blocks: list[Block] = []
        self._lock = asyncio.Lock()
        self._poll_now = asyncio.Event()

    # -- connection ---------------------------------------------------------------------

    async def _serve(self) -> None:
        self._blocks = plan_blocks(self._points, self.settings.max_gap)
        # reconnect_delay=0 turns pymodbus' own reconnect off: the supervisor owns it.
        client = AsyncModbusTcpClient(self.settings.host, port=self.settings.port,
                                      timeout=self.settings.timeout_s, retries=0, reconnect_delay=0)
        self._client = client
        if not await client.connect():
            raise ConnectionError(f"cannot connect to {self.settings.host}:{self.settings.port} "
                                  "(is the device on, the address and port right, the network up?)")
        self._mark_connected(f"{self.settings.host}:{self.settings.port}")
        await self._poll_forever()

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _poll_forever(self) -> None:
        period = self.settings.poll_interval_s
        next_due = time.monotonic()
        while True:
            for block in self._blocks:
                self._publish(await self._read_block(block))
            next_due += period
            now = time.monotonic()
            if next_due < now:  # overrun: do not try to catch up with a burst of polls
                self.counters.extra["overruns"] = self.counters.extra.get("overruns", 0) + 1
                next_due = now
            self._poll_now.clear()
            await wait_event(self._poll_now, next_due - now)

    # -- reads ------------------------------------------------------------------------------

    async def _request(self, call: Any, **kwargs: Any) -> ModbusPDU:
        client = self._client
        if client is None or not client.connected:
            raise ConnectionError("not connected")
        async with self._lock:
            return await call(**kwargs)

    async def _read_block(self, block: Block) -> list[TagUpdate]:
        client = self._client
        if client is None:
            raise ConnectionError("not connected")
        reader = {
            Table.COILS: client.read_coils,
            Table.DISCRETE_INPUTS: client.read_discrete_inputs,
            Table.INPUT_REGISTERS: client.read_input_registers,
            Table.HOLDING_REGISTERS: client.read_holding_registers,
        }[block.table]
        self.counters.reads += 1
        response = await self._request(reader, address=block.start, count=block.count, device_id=block.unit)
        now = time.time()
        if response.isError():
            self.counters.errors += 1
            detail = exception_text(response.exception_code)
            self.counters.last_error = f"unit {block.unit} {block.table} {block.start}: {detail}"
            return [TagUpdate(p.tag, None, Quality.BAD, now, now, detail=detail) for p in block.points]
        words = response.bits if block.table.is_bits else response.registers
        updates = []
        for point in block.points:
            address: ModbusAddress = point.address
            part = words[block.slice_for(address)]
            value = bool(part[0]) if block.table.is_bits else decode_registers(address, part)
            updates.append(TagUpdate(point.tag, value, Quality.GOOD, now, now))
        return updates

    async def read(self, point: Point) -> TagUpdate:
        address: ModbusAddress = point.address
        block = Block(address.unit, address.table, address.offset, address.count, [point])
        return (await self._read_block(block))[0]

    # -- writes -----------------------------------------------------------------------------

    async def write(self, point: Point, value: Any) -> None:
        address: ModbusAddress = point.address
        if not address.table.is_writable:
            raise WriteError(f"{point.tag}: {address.table.name.lower().replace('_', ' ')} are read-only")
        client = self._client
        if client is None:
            raise WriteError(f"{point.tag}: not connected to {self.settings.host}:{self.settings.port}")
        try:
            typed = coerce(value, address.data_type)
        except ValueError as exc:
            raise WriteError(f"{point.tag}: {exc}") from None
        self.counters.writes += 1
        try:
            if address.table is Table.COILS:
                response = await self._request(client.write_coil, address=address.offset, value=typed,
                                               device_id=address.unit)
            elif address.count == 1:
                (word,) = encode_value(address, typed)
                response = await self._request(client.write_register, address=address.offset, value=word,
                                               device_id=address.unit)
            else:
                response = await self._request(client.write_registers, address=address.offset,
                                               values=encode_value(address, typed), device_id=address.unit)
        except (ModbusException, ConnectionError, TimeoutError) as exc:
            self.counters.errors += 1
            raise WriteError(f"{point.tag}: write not delivered: {exc}") from exc
        if response.isError():
            self.counters.errors += 1
            raise WriteError(f"{point.tag}: device refused the write: {exception_text(response.exception_code)}")
        self._poll_now.set()  # show the written value back without waiting a whole poll period
