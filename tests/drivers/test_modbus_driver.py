"""The Modbus driver against a real pymodbus server (the demo plant) on a free loopback port."""

from __future__ import annotations

import asyncio

import pytest

from drivers.modbus.driver import ModbusDriver
from drivers.modbus.settings import modbus_settings
from drivers.model import ConnectionState, Quality, WriteError
from drivers.sim.plant import DemoPlant
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until, free_port

RUN_CMD = point("run_cmd", "modbus://d/1/co/0")
RUNNING = point("running", "modbus://d/1/di/0")
SPEED_SP = point("speed_sp", "modbus://d/1/hr/40001?type=float32")
LEVEL_SP_CM = point("level_sp_cm", "modbus://d/1/hr/2?type=uint16")
FLOW = point("flow", "modbus://d/1/ir/30001?type=float32")
TEMP = point("temp", "modbus://d/1/ir/4?type=int16")
COUNT = point("count", "modbus://d/1/ir/6?type=uint32")
UNMAPPED = point("unmapped", "modbus://d/1/ir/900")


def make_driver(port: int) -> ModbusDriver:
    return ModbusDriver("d", modbus_settings(f"modbus://127.0.0.1:{port}", {"poll_interval_ms": 50,
                                                                           "timeout_s": 0.5}))


def test_poll_write_and_exception_quality():
    async def scenario() -> None:
        async with DemoPlant(opcua_port=0, modbus_port=0) as plant:
            rec = Recorder()
            driver = make_driver(plant.modbus_port)
            points = [RUN_CMD, RUNNING, SPEED_SP, LEVEL_SP_CM, FLOW, TEMP, COUNT, UNMAPPED]
            await driver.start(points, rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("flow") is not None, message="first poll")
                assert rec.last("running").value is True
                assert rec.last("speed_sp").value == pytest.approx(plant.model.pump_speed_sp)
                assert rec.last("level_sp_cm").value == round(plant.model.level_sp * 100)
                assert rec.last("flow").value > 0
                assert rec.last("temp").quality is Quality.GOOD
                unmapped = rec.last("unmapped")
                assert unmapped.quality is Quality.BAD
                assert unmapped.detail == "exception 2 (illegal data address)"
                # float32 over two registers, coil, and uint16 writes reach the plant
                await driver.write(SPEED_SP, 75.5)
                await driver.write(LEVEL_SP_CM, 310)
                await driver.write(RUN_CMD, False)
                await async_wait_until(lambda: rec.last("running").value is False, message="pump stops")
                assert plant.model.pump_speed_sp == pytest.approx(75.5)
                assert plant.model.level_sp == pytest.approx(3.10)
                await async_wait_until(lambda: rec.last("flow").value < 1.0, timeout=20, message="flow drops")
                with pytest.raises(WriteError, match=r"exception 3 \(illegal data value\)"):
                    await driver.write(SPEED_SP, 150.0)
                with pytest.raises(WriteError, match="input registers are read-only"):
                    await driver.write(FLOW, 1.0)
                with pytest.raises(WriteError, match="does not fit in uint16"):
                    await driver.write(LEVEL_SP_CM, 70000)
                # the good blocks keep being read although one block answers with an exception
                before = len(rec.values("flow"))
                await async_wait_until(lambda: len(rec.values("flow")) > before + 3, message="polling goes on")
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_unreachable_device_is_down_then_recovers():
    port = free_port()

    async def scenario() -> None:
        rec = Recorder()
        driver = make_driver(port)
        await driver.start([FLOW, RUNNING], rec.on_updates, rec.on_state)
        try:
            await async_wait_until(lambda: rec.state is ConnectionState.DOWN, message="state DOWN")
            assert {rec.last("flow").quality, rec.last("running").quality} == {Quality.COMM_LOST}
            async with DemoPlant(opcua_port=0, modbus_port=port):
                await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, timeout=20,
                                       message="reconnect")
                await async_wait_until(lambda: rec.last("flow").quality is Quality.GOOD, message="good value")
            await async_wait_until(lambda: rec.last("flow").quality is Quality.COMM_LOST,
                                   message="COMM_LOST after the device goes away")
            with pytest.raises(WriteError, match=r"not connected|write not delivered"):
                await driver.write(RUN_CMD, True)
        finally:
            await driver.close()
        assert driver.state is ConnectionState.CLOSED

    asyncio.run(scenario())
