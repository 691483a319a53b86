"""A Modbus TCP gateway in front of a real device that never answers for some unit ids, as a
serial gateway does when a drop on its line is dead (its frames parsed by MBAP header)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tests.support import free_port


class SilentUnitGateway:
    def __init__(self, device_port: int, silent_units: set[int]) -> None:
        self.device_port = device_port
        self.silent_units = silent_units
        self.port = free_port()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        device_reader, device_writer = await asyncio.open_connection("127.0.0.1", self.device_port)
        answers = asyncio.create_task(self._pump(device_reader, writer))
        self._tasks.add(answers)
        try:
            while True:
                header = await reader.readexactly(7)  # transaction, protocol, length, unit
                body = await reader.readexactly(int.from_bytes(header[4:6], "big") - 1)
                if header[6] not in self.silent_units:
                    device_writer.write(header + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            answers.cancel()
            await asyncio.gather(answers, return_exceptions=True)
            self._tasks.discard(answers)
            device_writer.close()
            writer.close()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()


@contextlib.asynccontextmanager
async def silent_unit_gateway(device_port: int, silent_units: set[int]) -> AsyncIterator[SilentUnitGateway]:
    gateway = SilentUnitGateway(device_port, silent_units)
    server = await asyncio.start_server(gateway._serve, "127.0.0.1", gateway.port)
    try:
        yield gateway
    finally:
        server.close()
        for task in list(gateway._tasks):
            task.cancel()
        await asyncio.gather(*gateway._tasks, return_exceptions=True)
        await server.wait_closed()
