"""Modbus RTU on a serial line (a socat pseudo-terminal pair) and RTU frames over TCP, each
against a real pymodbus server; and what a wrong serial setting says."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus.driver import ModbusDriver
from drivers.modbus.settings import modbus_settings
from drivers.model import ConnectionState, Quality
from drivers.plugins import AddressError
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until, free_port

SETPOINT = point("setpoint", "modbus://line/1/hr/0?type=float32")
COUNTER = point("counter", "modbus://line/1/hr/2?type=uint32&order=CDAB")


def device() -> SimDevice:
    return SimDevice(id=1, simdata=([SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                                    [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                                    [SimData(0, count=16, datatype=DataType.REGISTERS)],
                                    [SimData(0, count=16, datatype=DataType.REGISTERS)]))


@pytest.fixture
def serial_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if shutil.which("socat") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the RTU tests: installer/test-deps.sh should have installed socat")
        pytest.skip("socat is not installed: `make test` installs it (apt-get install socat) for the RTU tests")
    ours, device_end = tmp_path / "ttyLinewise", tmp_path / "ttyDevice"
    process = subprocess.Popen(["socat", f"pty,raw,echo=0,link={ours}", f"pty,raw,echo=0,link={device_end}"],
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while not (ours.exists() and device_end.exists()):
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("socat did not create the pseudo-terminal pair")
        time.sleep(0.05)
    yield str(ours), str(device_end)
    process.terminate()
    process.wait(5)


@contextlib.asynccontextmanager
async def serving(server) -> AsyncIterator[None]:
    await server.serve_forever(background=True)
    try:
        yield
    finally:
        await server.shutdown()


async def exercise(driver: ModbusDriver) -> tuple[Recorder, list[str]]:
    rec = Recorder()
    await driver.start([SETPOINT, COUNTER], rec.on_updates, rec.on_state)
    try:
        await async_wait_until(lambda: rec.last("setpoint") is not None, timeout=10, message="first poll")
        await driver.write(SETPOINT, 42.5)
        await driver.write(COUNTER, 70_000)
        await async_wait_until(lambda: rec.last("setpoint").value == 42.5 and rec.last("counter").value == 70_000,
                               message="values written and read back")
        assert rec.state is ConnectionState.CONNECTED
        return rec, driver.diagnostics()["comm_log"]
    finally:
        await driver.close()


def test_rtu_on_a_serial_line(serial_pair):
    ours, device_end = serial_pair

    async def scenario() -> None:
        # 8N1: a pseudo-terminal refuses parity settings (termios EINVAL); real adapters take the default 8E1
        server = ModbusSerialServer(device(), framer=FramerType.RTU, port=device_end, baudrate=19200, parity="N")
        async with serving(server):
            options = {"baudrate": 19200, "parity": "N", "poll_interval_ms": 100, "timeout_s": 0.5}
            settings = modbus_settings(f"modbus+rtu://{ours}", options)
            driver = ModbusDriver("line", settings)
            rec, frames = await exercise(driver)
            assert f"RTU {ours} 19200 8N1" in [d for s, d in rec.states]
            # RTU frames: unit, function, data, CRC; no MBAP header. Read of 4 registers from 0:
            assert any(line.endswith("TX 01 03 00 00 00 04 44 09") for line in frames)

    asyncio.run(scenario())


def test_rtu_frames_over_tcp():
    async def scenario() -> None:
        port = free_port()
        server = ModbusTcpServer(device(), framer=FramerType.RTU, address=("127.0.0.1", port))
        async with serving(server):
            settings = modbus_settings(f"modbus+rtutcp://127.0.0.1:{port}", {"poll_interval_ms": 100})
            rec, frames = await exercise(ModbusDriver("line", settings))
            assert f"RTU over TCP 127.0.0.1:{port}" in [d for s, d in rec.states]
            assert any(line.endswith("TX 01 03 00 00 00 04 44 09") for line in frames)
            assert rec.last("counter").quality is Quality.GOOD

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("url", "options", "error", "message"),
    [("modbus+rtu://", {}, AddressError, "names the serial port"),
     ("modbus+rtu:///dev/ttyUSB0", {"baudrate": 12345}, ValueError, "'baudrate' must be one of"),
     ("modbus+rtu:///dev/ttyUSB0", {"parity": "X"}, ValueError, "'parity' must be N, E or O"),
     ("modbus://plc:502", {"baudrate": 9600}, ValueError, "unknown Modbus option"),
     ("modbus+rtu:///dev/ttyUSB0", {"retries": 9}, ValueError, "'retries' must be a number in 0..5")],
)
def test_wrong_transport_settings_are_named(url, options, error, message):
    with pytest.raises(error, match=message):
        modbus_settings(url, options)
