"""OPC UA resilience: cut connections, COMM_LOST, reconnect and resubscribe, and nothing leaks."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asyncua import ua

from drivers.model import ConnectionState, Quality
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from drivers.sim.plant import DemoPlant
from hmi.runtime.demo import DemoPlantProcess
from tests.drivers.opcua.secure_peer import secure_server
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until
from tests.tcp_proxy import CuttableProxy

LEVEL = point("level", "opcua://plc/nsu=urn:linewise:demo-plant;s=Line1.Tank.Level")
LEVEL_SP = point("level_sp", "opcua://plc/nsu=urn:linewise:demo-plant;s=Line1.Tank.LevelSP")
CYCLES = 10


@pytest.fixture
def plant_process():
    plant = DemoPlantProcess()
    plant.start()
    yield plant
    plant.stop()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_repeated_cuts_recover_every_time_and_leak_nothing(plant_process):
    # The plant runs in its own process so that every task and socket counted here is ours.
    async def scenario() -> None:
        async with CuttableProxy("127.0.0.1", plant_process.opcua_port) as proxy:
            options = {"watchdog_s": 0.5, "publishing_interval_ms": 50, "security_mode": "None",
                       "reconnect_max_s": 1.0}
            driver = OpcUaDriver("plc", opcua_settings(f"opc.tcp://127.0.0.1:{proxy.port}", options, Path(".")))
            rec = Recorder()
            await driver.start([LEVEL, LEVEL_SP], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("level") is not None
                                       and rec.last("level").quality is Quality.GOOD, message="first value")
                baseline_tasks, baseline_fds = len(asyncio.all_tasks()), open_fds()
                for cycle in range(CYCLES):
                    mark = len(rec.updates)
                    proxy.cut()
                    await async_wait_until(lambda m=mark: any(u.quality is Quality.COMM_LOST
                                                              for u in rec.updates[m:]),
                                           message=f"COMM_LOST in cycle {cycle}")
                    await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED
                                           and rec.last("level").quality is Quality.GOOD, timeout=15,
                                           message=f"recovery in cycle {cycle}")
                assert driver.counters.disconnects == CYCLES
                assert driver.counters.connects == CYCLES + 1
                # the last connection's helpers may take a moment to finish; a leak never does
                await async_wait_until(lambda: len(asyncio.all_tasks()) <= baseline_tasks + 1
                                       and open_fds() <= baseline_fds + 2, timeout=10,
                                       message="tasks and sockets back to the baseline after reconnects")
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_values_sent_again_after_a_reconnect_are_flagged_replayed(tmp_path):
    async def scenario() -> None:
        async with secure_server(tmp_path, [ua.SecurityPolicyType.NoSecurity]) as peer, \
                CuttableProxy("127.0.0.1", int(peer.url.rsplit(":", 1)[1])) as proxy:
            options = {"watchdog_s": 0.5, "security_mode": "None", "reconnect_max_s": 1.0}
            driver = OpcUaDriver("plc", opcua_settings(f"opc.tcp://127.0.0.1:{proxy.port}", options, tmp_path))
            rec = Recorder()
            value = point("value", f"opcua://plc/{peer.value_node}")
            await driver.start([value], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("value") is not None, message="first value")
                proxy.cut()
                await async_wait_until(lambda: len([u for u in rec.updates if u.quality is Quality.GOOD]) >= 2,
                                       timeout=15, message="value after reconnect")
            finally:
                await driver.close()
            first, again = [u for u in rec.updates if u.quality is Quality.GOOD][:2]
            assert again.source_ts == first.source_ts  # the same sample, sent by the new subscription
            assert not first.replayed
            assert again.replayed

    asyncio.run(scenario())


WATCHDOG_S = 0.5


@contextlib.asynccontextmanager
async def plant_behind_proxy() -> AsyncIterator[tuple[CuttableProxy, OpcUaDriver]]:
    """The demo plant in-process, a cuttable proxy in front of it, and a driver aimed at the proxy."""
    async with DemoPlant(opcua_port=0, modbus_port=0) as plant, \
            CuttableProxy("127.0.0.1", int(plant.opcua_url.split(":")[2].split("/")[0])) as proxy:
        options = {"watchdog_s": WATCHDOG_S, "security_mode": "None", "reconnect_max_s": 1.0}
        yield proxy, OpcUaDriver("plc", opcua_settings(f"opc.tcp://127.0.0.1:{proxy.port}", options, Path(".")))


def test_a_peer_gone_silent_without_closing_is_detected_by_the_liveness_probe():
    async def scenario() -> None:
        async with plant_behind_proxy() as (proxy, driver):
            rec = Recorder()
            await driver.start([LEVEL], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("level") is not None, message="first value")
                loop = asyncio.get_running_loop()
                proxy.stall(True)  # the socket stays open: only silence tells
                stalled_at = loop.time()
                assert rec.last("level").quality is Quality.GOOD
                await async_wait_until(lambda: rec.last("level").quality is Quality.COMM_LOST, timeout=5,
                                       message="silence detected")
                # quiet for watchdog_s, then a probe that times out after watchdog_s (+ scheduling slack)
                assert loop.time() - stalled_at < 3 * WATCHDOG_S + 0.5
                assert "timed out" in driver.state_detail
                proxy.stall(False)
                proxy.cut()
                await async_wait_until(lambda: rec.last("level").quality is Quality.GOOD, timeout=15,
                                       message="recovery")
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_a_refusing_peer_backs_off_and_recovers():
    async def scenario() -> None:
        async with plant_behind_proxy() as (proxy, driver):
            rec = Recorder()
            proxy.refuse(True)
            await driver.start([LEVEL], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: driver.counters.errors >= 3, message="several failed attempts")
                assert rec.state is ConnectionState.DOWN
                assert [u.quality for u in rec.updates] == [Quality.COMM_LOST]  # reported once, not per retry
                assert [s for s, _ in rec.states].count(ConnectionState.CONNECTING) == 1  # no flicker
                proxy.refuse(False)
                await async_wait_until(lambda: rec.last("level").quality is Quality.GOOD, timeout=15,
                                       message="recovery")
            finally:
                await driver.close()

    asyncio.run(scenario())
