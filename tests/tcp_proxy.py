"""A loopback TCP proxy that tests can cut, to break a live connection without stopping the server."""

from __future__ import annotations

import asyncio
import contextlib

from tests.support import free_port


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to a target. `cut()` drops every open connection (like a pulled
    cable with RST); `refuse(True)` makes new connections fail until `refuse(False)`; `delay_s`
    holds every answer from the server back that long (a slow or congested peer); `stall(True)`
    stops forwarding in both directions without closing anything (a cable pulled with no RST,
    a hung PLC) until `stall(False)`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._refusing = False
        self.delay_s = 0.0
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def __aenter__(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        self.stall(False)  # wake pumps held by a stall: they find their transports closed and end
        await self._server.wait_closed()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def refuse(self, refusing: bool) -> None:
        self._refusing = refusing

    def stall(self, stalled: bool) -> None:
        if stalled:
            self._flowing.clear()
        else:
            self._flowing.set()

    def cut(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections += 1
        self._writers.update((client_writer, server_writer))
        pumps = [asyncio.create_task(self._pump(client_reader, server_writer)),
                 asyncio.create_task(self._pump(server_reader, client_writer, slow=True))]
        self._tasks.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)
        self._tasks.difference_update(pumps)
        for writer in (client_writer, server_writer):
            self._writers.discard(writer)
            writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slow: bool = False) -> None:
        try:
            while data := await reader.read(65536):
                if slow and self.delay_s:
                    await asyncio.sleep(self.delay_s)
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
