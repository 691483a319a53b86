"""The OPC UA driver against a real asyncua.Server (the demo plant) on a free loopback port."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from drivers.model import ConnectionState, Quality, WriteError
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from drivers.sim.plant import DemoPlant
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until, free_port

NS = "nsu=urn:linewise:demo-plant"
LEVEL = point("level", f"opcua://plc/{NS};s=Line1.Tank.Level")
LEVEL_SP = point("level_sp", f"opcua://plc/{NS};s=Line1.Tank.LevelSP")
RUNNING = point("running", f"opcua://plc/{NS};s=Line1.Pump.Running")
MISSING = point("missing", f"opcua://plc/{NS};s=Line1.NoSuchNode")
OTHER_NS = point("other", "opcua://plc/nsu=urn:not-here;s=X")


def make_driver(url: str) -> OpcUaDriver:
    options = {"publishing_interval_ms": 50, "watchdog_s": 0.5, "security_mode": "None"}
    return OpcUaDriver("plc", opcua_settings(url, options, Path("unused-site")))


def test_subscribe_read_write_and_quality():
    async def scenario() -> None:
        async with DemoPlant(opcua_port=0, modbus_port=0) as plant:
            rec = Recorder()
            driver = make_driver(plant.opcua_url)
            await driver.start([LEVEL, LEVEL_SP, RUNNING, MISSING, OTHER_NS], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: len(set(rec.values("level"))) >= 3, message="level changing")
                level = rec.last("level")
                assert level.quality is Quality.GOOD
                assert 0 < level.value < 5
                assert level.source_ts > 1e9  # real timestamps, epoch seconds
                assert rec.last("running").value is True
                assert rec.last("missing").quality is Quality.BAD
                assert "BadNodeIdUnknown" in rec.last("missing").detail
                assert "not on server" in rec.last("other").detail
                await driver.write(LEVEL_SP, 3.25)  # a Python float to a Double node
                await async_wait_until(lambda: rec.last("level_sp").value == 3.25, message="setpoint echo")
                assert plant.model.level_sp == 3.25
                with pytest.raises(WriteError, match="BadOutOfRange"):
                    await driver.write(LEVEL_SP, 99.0)
                with pytest.raises(WriteError, match="level: server refused the write"):
                    await driver.write(LEVEL, 1.0)
                assert (await driver.read(LEVEL_SP)).value == 3.25
            finally:
                await driver.close()
            assert driver.state is ConnectionState.CLOSED

    asyncio.run(scenario())


def test_unreachable_server_is_down_then_recovers_when_it_appears():
    port = free_port()

    async def scenario() -> None:
        rec = Recorder()
        driver = make_driver(f"opc.tcp://127.0.0.1:{port}")
        await driver.start([LEVEL], rec.on_updates, rec.on_state)
        try:
            await async_wait_until(lambda: rec.state is ConnectionState.DOWN, message="state DOWN")
            assert rec.last("level").quality is Quality.COMM_LOST
            assert "refused" in rec.last("level").detail
            async with DemoPlant(opcua_port=port, modbus_port=0):
                await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, timeout=20,
                                       message="reconnect")
                await async_wait_until(lambda: rec.last("level").quality is Quality.GOOD, message="good value")
            # the server goes away: every tag must turn COMM_LOST, never fall silent
            await async_wait_until(lambda: rec.last("level").quality is Quality.COMM_LOST,
                                   message="COMM_LOST after server stop")
            assert driver.counters.disconnects == 1
        finally:
            await driver.close()

    asyncio.run(scenario())
