"""The demo plant over the wire: real asyncua and pymodbus clients against real servers on loopback.

These tests deliberately use the raw protocol libraries (not Linewise's drivers) so that they
check the plant against the protocols themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from asyncua import Client, ua
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes

from drivers.sim.opcua_server import APPLICATION_URI, NAMESPACE_URI, NODES, unece_unit_id
from drivers.sim.plant import DemoPlant
from drivers.sim.plant_model import PlantModel

REPO_ROOT = Path(__file__).resolve().parents[3]
WRITABLE = {
    "Line1.Tank.LevelSP",
    "Line1.Pump.RunCmd",
    "Line1.Pump.SpeedSP",
    "Line1.Pump.Reset",
    "Line1.Pump.FaultInject",
}


def run_async(scenario: Callable[[], Awaitable[None]], timeout: float = 15.0) -> None:
    """Run ``scenario`` on a fresh loop and fail if it leaves any task behind."""

    async def guarded() -> None:
        await asyncio.wait_for(scenario(), timeout)
        me = asyncio.current_task()
        deadline = time.monotonic() + 2.0
        while leftover := [t for t in asyncio.all_tasks() if t is not me and not t.done()]:
            if time.monotonic() > deadline:
                raise AssertionError(f"leaked tasks: {leftover}")
            await asyncio.sleep(0.02)

    asyncio.run(guarded())


async def wait_for_condition(
    condition: Callable[[], Awaitable[bool]], within: float = 5.0, what: str = ""
) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_plant(seed: int = 1) -> AsyncIterator[DemoPlant]:
    plant = DemoPlant(opcua_port=0, modbus_port=0, model=PlantModel(seed=seed))
    await plant.start()
    try:
        yield plant
    finally:
        await plant.stop()


@contextlib.asynccontextmanager
async def opcua_client(url: str) -> AsyncIterator[tuple[Client, int]]:
    client = Client(url, timeout=5)
    client.session_timeout = 600_000  # the server's maximum; asking for more only earns a warning
    async with client:
        yield client, await client.get_namespace_index(NAMESPACE_URI)


@contextlib.asynccontextmanager
async def modbus_client(port: int) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
    async with client:
        assert client.connected
        yield client


def node(client: Client, ns: int, identifier: str):
    return client.get_node(ua.NodeId(identifier, ns))


# ---- OPC UA ----------------------------------------------------------------------------------


def test_opcua_serves_live_values_with_source_timestamps():
    async def scenario() -> None:
        async with running_plant() as plant, opcua_client(plant.opcua_url) as (client, ns):
            level = node(client, ns, "Line1.Tank.Level")
            first = await level.read_data_value()
            await asyncio.sleep(1.0)
            second = await level.read_data_value()
            assert first.Value.Value != second.Value.Value
            assert second.Value.Value > first.Value.Value  # 2.0 m rising towards the 2.5 m setpoint
            assert first.SourceTimestamp is not None
            assert second.SourceTimestamp > first.SourceTimestamp

            count = await node(client, ns, "Line1.ProductCount").read_data_value()
            assert count.Value.VariantType == ua.VariantType.UInt32
            assert await node(client, ns, "Line1.Pump.Running").read_value() is True

            received: list[float] = []

            class Handler:
                def datachange_notification(self, _node, value, _data) -> None:
                    received.append(value)

            subscription = await client.create_subscription(100, Handler())
            await subscription.subscribe_data_change(level)

            async def three_updates() -> bool:
                return len(received) >= 3

            await wait_for_condition(three_updates, what="level data changes")
            await subscription.delete()

    run_async(scenario)


def test_opcua_address_space_matches_the_site_contract():
    async def scenario() -> None:
        async with running_plant() as plant, opcua_client(plant.opcua_url) as (client, ns):
            assert (await client.get_namespace_array())[1] == APPLICATION_URI
            line1 = node(client, ns, "Line1")
            assert await line1.read_node_class() == ua.NodeClass.Object
            assert await line1.get_parent() == client.nodes.objects
            for spec in NODES:
                var = node(client, ns, spec.node_id)
                assert (await var.read_browse_name()).Name == spec.browse_name
                assert (await var.read_description()).Text
                access = await var.read_attribute(ua.AttributeIds.UserAccessLevel)
                writable = bool(access.Value.Value & ua.AccessLevel.CurrentWrite.mask)
                assert writable == (spec.node_id in WRITABLE), spec.node_id

            level = node(client, ns, "Line1.Tank.Level")
            assert await level.read_data_type() == ua.NodeId(ua.ObjectIds.Double)
            assert await level.read_type_definition() == ua.NodeId(ua.ObjectIds.AnalogItemType)
            eu_range = await level.get_child("0:EURange")
            assert await eu_range.read_value() == ua.Range(Low=0.0, High=5.0)
            units = await (await level.get_child("0:EngineeringUnits")).read_value()
            assert units.UnitId == unece_unit_id("MTR")
            assert units.DisplayName.Text == "m"
            sp_range = await node(client, ns, "Line1.Tank.LevelSP.EURange").read_value()
            assert (sp_range.Low, sp_range.High) == (0.5, 4.5)
            run_cmd = node(client, ns, "Line1.Pump.RunCmd")
            assert await run_cmd.read_data_type() == ua.NodeId(ua.ObjectIds.Boolean)

            endpoints = await client.get_endpoints()
            assert {e.SecurityPolicyUri.rsplit("#", 1)[-1] for e in endpoints} == {"None"}
            assert all(e.Server.ApplicationUri == APPLICATION_URI for e in endpoints)

    run_async(scenario)


def test_opcua_writes_reach_the_model_and_bad_ones_are_refused_per_operation():
    async def scenario() -> None:
        async with running_plant() as plant, opcua_client(plant.opcua_url) as (client, ns):
            level_sp = node(client, ns, "Line1.Tank.LevelSP")
            await level_sp.write_value(3.25)
            assert plant.model.level_sp == 3.25
            assert await level_sp.read_value() == 3.25

            with pytest.raises(ua.uaerrors.BadOutOfRange):
                await level_sp.write_value(4.75)
            assert plant.model.level_sp == 3.25

            with pytest.raises((ua.uaerrors.BadUserAccessDenied, ua.uaerrors.BadNotWritable)):
                await node(client, ns, "Line1.Tank.Level").write_value(1.0)

            with pytest.raises(ua.uaerrors.BadTypeMismatch):
                await level_sp.write_value(ua.DataValue(ua.Variant(3, ua.VariantType.Int32)))

            # One Write request, one status per node: a refusal must not sink its neighbours.
            speed_sp = ua.NodeId("Line1.Pump.SpeedSP", ns)
            results = await client.uaclient.write_attributes(
                [level_sp.nodeid, speed_sp],
                [ua.DataValue(ua.Variant(math.nan, ua.VariantType.Double)), ua.DataValue(ua.Variant(40.0))],
            )
            assert [r.value for r in results] == [ua.StatusCodes.BadOutOfRange, ua.StatusCodes.Good]
            assert plant.model.pump_speed_sp == 40.0

            await node(client, ns, "Line1.Pump.RunCmd").write_value(False)
            assert not plant.model.pump_running

            reset = node(client, ns, "Line1.Pump.Reset")
            await reset.write_value(True)
            assert await reset.read_value() is False  # momentary

    run_async(scenario)


# ---- Modbus TCP ------------------------------------------------------------------------------


def as_float(registers: list[int]) -> float:
    value: float = struct.unpack(">f", struct.pack(">HH", *registers))[0]
    return value


def test_modbus_reads_decode_to_the_model_values():
    async def scenario() -> None:
        async with running_plant() as plant, modbus_client(plant.modbus_port) as mb:
            ir = (await mb.read_input_registers(0, count=9)).registers
            model = plant.model
            assert as_float(ir[0:2]) == pytest.approx(model.outlet_flow, abs=2.0)
            assert as_float(ir[2:4]) == pytest.approx(model.motor_current, abs=1.0)
            assert ir[4] / 10 == pytest.approx(model.motor_temp, abs=1.0)
            assert ir[5] / 10 == pytest.approx(model.pump_speed, abs=1.0)
            assert (ir[6] << 16 | ir[7]) == pytest.approx(model.product_count, abs=1)
            assert ir[8] / 1000 == pytest.approx(model.level, abs=0.05)

            hr = (await mb.read_holding_registers(0, count=3)).registers
            assert as_float(hr[0:2]) == 60.0
            assert hr[2] == 250
            coils = (await mb.read_coils(0, count=2)).bits
            assert coils[:2] == [True, False]
            inputs = (await mb.read_discrete_inputs(0, count=2)).bits
            assert inputs[:2] == [True, False]

    run_async(scenario)


def test_modbus_stopping_the_pump_drops_outlet_flow():
    async def scenario() -> None:
        async with running_plant() as plant, modbus_client(plant.modbus_port) as mb:
            before = as_float((await mb.read_input_registers(0, count=2)).registers)
            assert before > 10.0
            response = await mb.write_coil(0, False)
            assert not response.isError()
            assert response.bits[0] is False
            assert plant.model.pump_running is False
            assert (await mb.read_discrete_inputs(0, count=1)).bits[0] is False

            async def flow_nearly_gone() -> bool:
                flow = as_float((await mb.read_input_registers(0, count=2)).registers)
                return flow < before * 0.7

            await wait_for_condition(flow_nearly_gone, within=8.0, what="outlet flow to drop")

    run_async(scenario)


def test_modbus_writes_reach_the_model_and_are_visible_over_opcua():
    async def scenario() -> None:
        async with running_plant() as plant, modbus_client(plant.modbus_port) as mb:
            assert not (await mb.write_register(2, 400)).isError()
            assert plant.model.level_sp == 4.0
            speed = mb.convert_to_registers(42.5, mb.DATATYPE.FLOAT32)
            assert not (await mb.write_registers(0, speed)).isError()
            assert plant.model.pump_speed_sp == 42.5
            async with opcua_client(plant.opcua_url) as (client, ns):
                sp = node(client, ns, "Line1.Tank.LevelSP")

                async def published() -> bool:
                    return await sp.read_value() == 4.0

                await wait_for_condition(published, what="the Modbus write to reach OPC UA")

    run_async(scenario)


def test_modbus_refuses_out_of_range_values_and_unmapped_addresses():
    async def scenario() -> None:
        async with running_plant() as plant, modbus_client(plant.modbus_port) as mb:
            model = plant.model

            async def exception_code(request: Awaitable) -> int:
                response = await request
                assert response.isError(), response
                code: int = response.exception_code
                return code

            assert await exception_code(mb.write_register(2, 460)) == ExcCodes.ILLEGAL_VALUE
            assert await exception_code(mb.write_register(2, 49)) == ExcCodes.ILLEGAL_VALUE
            too_fast = mb.convert_to_registers(100.5, mb.DATATYPE.FLOAT32)
            assert await exception_code(mb.write_registers(0, too_fast)) == ExcCodes.ILLEGAL_VALUE
            nan = mb.convert_to_registers(math.nan, mb.DATATYPE.FLOAT32)
            both = [*nan, 300]  # all or nothing: the valid level setpoint is not applied either
            assert await exception_code(mb.write_registers(0, both)) == ExcCodes.ILLEGAL_VALUE
            assert (model.level_sp, model.pump_speed_sp) == (2.5, 60.0)

            assert await exception_code(mb.read_input_registers(9, count=1)) == ExcCodes.ILLEGAL_ADDRESS
            assert await exception_code(mb.read_input_registers(8, count=2)) == ExcCodes.ILLEGAL_ADDRESS
            assert await exception_code(mb.read_holding_registers(3, count=1)) == ExcCodes.ILLEGAL_ADDRESS
            assert await exception_code(mb.write_register(1, 0)) == ExcCodes.ILLEGAL_ADDRESS  # half a float
            assert await exception_code(mb.write_coil(2, True)) == ExcCodes.ILLEGAL_ADDRESS
            assert await exception_code(mb.read_coils(2, count=1)) == ExcCodes.ILLEGAL_ADDRESS
            assert await exception_code(mb.read_discrete_inputs(16, count=1)) == ExcCodes.ILLEGAL_ADDRESS
            wrong_unit = mb.read_holding_registers(0, count=1, device_id=7)
            assert await exception_code(wrong_unit) == ExcCodes.GATEWAY_NO_RESPONSE
            assert model.pump_running  # nothing above changed the plant

    run_async(scenario)


def test_a_taken_port_fails_cleanly_and_leaves_nothing_running():
    async def scenario() -> None:
        async with running_plant() as plant:
            opcua_port = int(plant.opcua_url.rsplit(":", 1)[1].split("/")[0])
            clash = DemoPlant(opcua_port=opcua_port, modbus_port=0)
            with pytest.raises(OSError, match=f"OPC UA port {opcua_port}"):
                await clash.start()
            clash = DemoPlant(opcua_port=0, modbus_port=plant.modbus_port)
            with pytest.raises(OSError, match=f"Modbus TCP port {plant.modbus_port}"):
                await clash.start()
            assert not clash.running
            async with modbus_client(plant.modbus_port) as mb:  # the first plant is unaffected
                assert not (await mb.read_coils(0, count=1)).isError()

    run_async(scenario)


# ---- child process ---------------------------------------------------------------------------


def test_child_process_reports_ready_and_exits_when_stdin_closes():
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "drivers.sim", "--opcua-port", "0", "--modbus-port", "0"]
    with subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdin is not None
            line = child.stdout.readline()
            prefix, _, payload = line.partition(" ")
            assert prefix == "LINEWISE-DEMO-READY", line
            ready = json.loads(payload)
            assert ready["modbus_host"] == "127.0.0.1"
            assert ready["modbus_port"] > 0

            async def connect_both() -> None:
                async with opcua_client(ready["opcua_url"]) as (client, ns):
                    assert await node(client, ns, "Line1.Tank.Level").read_value() > 0
                async with modbus_client(ready["modbus_port"]) as mb:
                    assert not (await mb.read_input_registers(0, count=9)).isError()

            run_async(connect_both)
            child.stdin.close()
            assert child.wait(timeout=5) == 0
            assert child.stdout.read() == ""  # exactly one line on stdout
            assert child.stderr is not None
            assert child.stderr.read() == ""
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
