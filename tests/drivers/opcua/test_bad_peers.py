"""OPC UA peers that misbehave: slow answers, and values of a DataType the client does not know."""

from __future__ import annotations

import asyncio
from pathlib import Path

from asyncua import Server, ua
from asyncua.common.structures104 import new_struct, new_struct_field

from drivers.model import ConnectionState, Quality
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from tests.drivers.opcua.secure_peer import NAMESPACE, secure_server
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until, free_port
from tests.tcp_proxy import CuttableProxy


def test_a_server_that_answers_too_slowly_is_reported_and_recovers(tmp_path):
    async def scenario() -> None:
        async with secure_server(tmp_path, [ua.SecurityPolicyType.NoSecurity]) as peer, \
                CuttableProxy("127.0.0.1", int(peer.url.rsplit(":", 1)[1])) as proxy:
            options = {"security_mode": "None", "timeout_s": 0.5, "watchdog_s": 0.3, "reconnect_max_s": 1.0}
            driver = OpcUaDriver("plc", opcua_settings(f"opc.tcp://127.0.0.1:{proxy.port}", options, tmp_path))
            rec = Recorder()
            value = point("value", f"opcua://plc/nsu={NAMESPACE};s=Secure.Value")
            await driver.start([value], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, message="connected")
                proxy.delay_s = 2.0  # every answer now arrives after the request timed out
                await async_wait_until(lambda: rec.state is ConnectionState.DOWN, message="slowness detected")
                assert rec.last("value").quality is Quality.COMM_LOST
                assert "timed out" in driver.state_detail or "Timeout" in driver.state_detail
                proxy.delay_s = 0.0
                proxy.cut()  # drop connections still holding delayed answers
                await async_wait_until(lambda: rec.last("value").quality is Quality.GOOD, timeout=20,
                                       message="recovery once the server answers in time")
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_a_value_of_an_unknown_structure_type_does_not_break_the_driver(tmp_path):
    async def scenario() -> None:
        server = Server()
        await server.init()
        port = free_port()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
        index = await server.register_namespace("urn:linewise:test-struct")
        struct_type, _ = await new_struct(server, index, "MotorData",
                                          [new_struct_field("speed", ua.VariantType.Double),
                                           new_struct_field("running", ua.VariantType.Boolean)])
        await server.load_data_type_definitions()
        value = ua.MotorData(speed=12.5, running=True)  # type: ignore[attr-defined]
        await server.nodes.objects.add_variable(ua.NodeId("Motor", index), "Motor", value,
                                                datatype=struct_type.nodeid)
        plain = await server.nodes.objects.add_variable(ua.NodeId("Plain", index), "Plain", 1.0)
        async with server:
            options = {"security_mode": "None", "publishing_interval_ms": 50}
            driver = OpcUaDriver("plc", opcua_settings(f"opc.tcp://127.0.0.1:{port}", options, Path(".")))
            rec = Recorder()
            points = [point("motor", "opcua://plc/nsu=urn:linewise:test-struct;s=Motor"),
                      point("plain", "opcua://plc/nsu=urn:linewise:test-struct;s=Plain")]
            await driver.start(points, rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("motor") is not None and rec.last("plain") is not None,
                                       message="both values")
                assert rec.last("motor").value is not None  # delivered as the library decodes it, not dropped
                await plain.write_value(2.0)
                await async_wait_until(lambda: rec.last("plain").value == 2.0, message="other tags keep flowing")
                assert rec.state is ConnectionState.CONNECTED
            finally:
                await driver.close()

    asyncio.run(scenario())
