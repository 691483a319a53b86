"""OPC UA data handling against a real asyncua.Server: arrays, typed writes, deadband, publishing
groups and method calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from asyncua import ua

from drivers.model import ConnectionState, DriverError
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from tests.drivers.opcua.secure_peer import NAMESPACE, secure_server
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until

NS = f"nsu={NAMESPACE}"


def run(tmp_path: Path, points, scenario) -> None:
    async def main() -> None:
        async with secure_server(tmp_path, [ua.SecurityPolicyType.NoSecurity]) as peer:
            options = {"security_mode": "None", "publishing_interval_ms": 50, "sampling_interval_ms": 20}
            driver = OpcUaDriver("plc", opcua_settings(peer.url, options, tmp_path))
            rec = Recorder()
            await driver.start(points, rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, message="connected")
                await scenario(driver, rec)
            finally:
                await driver.close()

    asyncio.run(main())


def test_arrays_and_writes_coerced_to_the_node_type(tmp_path):
    array = point("array", f"opcua://plc/{NS};s=Secure.Array")
    small = point("small", f"opcua://plc/{NS};s=Secure.Int16")

    async def scenario(driver: OpcUaDriver, rec: Recorder) -> None:
        await async_wait_until(lambda: rec.last("array") is not None, message="array value")
        assert rec.last("array").value == [1.0, 2.0, 3.0]
        await driver.write(array, [4, 5, 6])  # ints become Doubles, as the node wants
        await async_wait_until(lambda: rec.last("array").value == [4.0, 5.0, 6.0], message="array echo")
        await driver.write(small, 300.0)  # a float that is a whole number becomes Int16
        await async_wait_until(lambda: rec.last("small").value == 300, message="int16 echo")
        with pytest.raises(DriverError, match="does not fit in int16"):
            await driver.write(small, 40000)

    run(tmp_path, [array, small], scenario)


def test_absolute_deadband_filters_small_changes_at_the_server(tmp_path):
    ramp = point("ramp", f"opcua://plc/{NS};s=Secure.Ramp?deadband=2.0&sampling_ms=10")
    plain = point("plain", f"opcua://plc/{NS};s=Secure.Ramp?publishing_ms=60")  # same node, no deadband

    async def scenario(driver: OpcUaDriver, rec: Recorder) -> None:
        await async_wait_until(lambda: rec.last("ramp") is not None and rec.last("plain") is not None,
                               message="initial values")
        for value in (0.5, 1.0, 1.5, 5.0):
            await driver.write(ramp, value)
            await async_wait_until(lambda v=value: rec.last("plain").value == v, message=f"plain sees {value}")
        await asyncio.sleep(0.3)
        assert rec.values("plain") == [0.0, 0.5, 1.0, 1.5, 5.0]
        assert rec.values("ramp") == [0.0, 5.0]  # changes within 2.0 of the last reported value are filtered

    run(tmp_path, [ramp, plain], scenario)


def test_method_call_with_arguments_typed_from_the_method(tmp_path):
    value = point("value", f"opcua://plc/{NS};s=Secure.Value")

    async def scenario(driver: OpcUaDriver, rec: Recorder) -> None:
        # 2 arrives as a Python int: without coercion it would be sent as Int64 and refused
        assert await driver.call_method(f"{NS};s=Secure", f"{NS};s=Secure.Scale", [1.5, 2]) == [3.0]
        with pytest.raises(DriverError, match=r"takes 2 argument\(s\) \(x, factor\), got 1"):
            await driver.call_method(f"{NS};s=Secure", f"{NS};s=Secure.Scale", [1.5])
        with pytest.raises(DriverError, match=r"argument factor: 2\.5 is not a whole number"):
            await driver.call_method(f"{NS};s=Secure", f"{NS};s=Secure.Scale", [1.5, 2.5])
        with pytest.raises(DriverError, match="failed: BadNodeId"):
            await driver.call_method(f"{NS};s=Secure", f"{NS};s=Secure.Nope", [])

    run(tmp_path, [value], scenario)
