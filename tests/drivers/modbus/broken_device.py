"""A Modbus TCP device that answers wrongly in one chosen way, byte for byte, to prove the driver
survives it: garbage, a wrong transaction id, another unit's answer, or a short answer."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

from tests.support import free_port

MODES = ("garbage", "wrong_transaction", "wrong_unit", "short")


class BrokenDevice:
    def __init__(self, mode: str) -> None:
        assert mode in MODES
        self.mode = mode
        self.port = free_port()
        self.requests = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                header = await reader.readexactly(7)
                pdu = await reader.readexactly(int.from_bytes(header[4:6], "big") - 1)
                self.requests += 1
                writer.write(self.answer(header, pdu))
                await writer.drain()
        writer.close()

    def answer(self, header: bytes, pdu: bytes) -> bytes:
        transaction, _protocol, _length, unit = struct.unpack(">HHHB", header)
        function, _start, count = struct.unpack(">BHH", pdu[:5])
        registers = list(range(1, count + 1))
        if self.mode == "short":  # claims all registers, carries half of them
            body = struct.pack(">BB", function, count * 2) + struct.pack(f">{count // 2}H", *registers[:count // 2])
        else:
            body = struct.pack(">BB", function, count * 2) + struct.pack(f">{count}H", *registers)
        if self.mode == "garbage":
            return b"\xde\xad\xbe\xef" * 5
        if self.mode == "wrong_transaction":
            transaction = (transaction + 1000) & 0xFFFF
        if self.mode == "wrong_unit":
            unit = (unit + 1) & 0xFF
        return struct.pack(">HHHB", transaction, 0, len(body) + 1, unit) + body


@contextlib.asynccontextmanager
async def broken_device(mode: str) -> AsyncIterator[BrokenDevice]:
    device = BrokenDevice(mode)
    server = await asyncio.start_server(device.serve, "127.0.0.1", device.port)
    try:
        yield device
    finally:
        server.close()
        await server.wait_closed()
