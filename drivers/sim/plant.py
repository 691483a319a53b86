"""The demo plant as one unit: the process model stepped in real time, served over OPC UA and Modbus TCP.

Everything runs on the caller's asyncio loop (no threads), so the model is only ever touched
from that loop and needs no locking. Tests start it in-process on free ports; ``python -m
drivers.sim`` starts it as the child process that ``make run`` talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from drivers.sim.modbus_server import PlantModbusServer
from drivers.sim.opcua_server import PlantOpcUaServer
from drivers.sim.plant_model import PlantModel

_log = logging.getLogger(__name__)


class DemoPlant:
    """Run a :class:`PlantModel` at a fixed time step behind an OPC UA and a Modbus TCP server.

    Port 0 picks a free port; the chosen ones are in :attr:`opcua_url` and :attr:`modbus_port`
    once :meth:`start` has returned.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        opcua_port: int = 4840,
        modbus_port: int = 5020,  # unprivileged stand-in for 502
        dt: float = 0.1,
        model: PlantModel | None = None,
        pki_dir: Path | None = None,  # secures OPC UA (SignAndEncrypt, trusted clients only)
        trusted_clients: Sequence[Path] = (),
    ) -> None:
        if not dt > 0:
            raise ValueError(f"dt must be positive, got {dt!r}")
        self._host = host
        self._dt = dt
        self._model = model if model is not None else PlantModel()
        self._opcua = PlantOpcUaServer(self._model, host, opcua_port, pki_dir, trusted_clients)
        self._modbus = PlantModbusServer(self._model, host, modbus_port)
        self._ticker: asyncio.Task[None] | None = None

    @property
    def model(self) -> PlantModel:
        return self._model

    @property
    def host(self) -> str:
        return self._host

    @property
    def opcua_url(self) -> str:
        return self._opcua.url

    @property
    def opcua_certificate(self) -> Path | None:
        return self._opcua.certificate_path

    @property
    def opcua_namespace_index(self) -> int:
        """Index of ``urn:linewise:demo-plant`` in this server's namespace array (valid once started)."""
        return self._opcua.namespace_index

    @property
    def modbus_port(self) -> int:
        return self._modbus.port

    @property
    def running(self) -> bool:
        return self._ticker is not None

    async def start(self) -> None:
        """Start both servers and the simulation; ``OSError`` naming the port if one is taken.

        On failure nothing is left running.
        """
        if self._ticker is not None:
            raise RuntimeError("DemoPlant is already running")
        await self._modbus.start()  # first: it binds in milliseconds, OPC UA takes a second or two
        try:
            await self._opcua.start()
        except BaseException:
            await self._modbus.stop()
            raise
        self._ticker = asyncio.create_task(self._run(), name="linewise-demo-plant")

    async def stop(self) -> None:
        """Stop the simulation and close both servers (and their client connections). Idempotent."""
        ticker, self._ticker = self._ticker, None
        try:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker  # re-raises here if the simulation had crashed
        finally:
            await self._modbus.stop()
            await self._opcua.stop()

    async def __aenter__(self) -> DemoPlant:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        """Step at a fixed rate against the loop clock; after a stall, resynchronise instead of racing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline += self._dt
            delay = deadline - loop.time()
            if delay < -5 * self._dt:
                _log.info("demo plant fell %.2f s behind real time; skipping ahead", -delay)
                deadline = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))
            try:
                self._model.step(self._dt)
            except Exception:
                _log.exception("the demo plant model failed; its values are frozen from now on")
                raise
            try:
                await self._opcua.publish()
            except Exception:  # a failed publish must not stop the plant
                _log.exception("publishing to OPC UA failed")
