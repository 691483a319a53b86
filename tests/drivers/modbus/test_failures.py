"""Modbus failure semantics against a real device: a refused block is narrowed down to the bad
tag, a silent unit behind a gateway loses only its own tags, and a device answering wrongly
(garbage, wrong transaction or unit id, short) is reported without holding up other devices."""

from __future__ import annotations

import asyncio

import pytest

from drivers.model import ConnectionState, Quality
from tests.drivers.modbus.broken_device import MODES, broken_device
from tests.drivers.modbus.gateway import silent_unit_gateway
from tests.drivers.modbus.register_peer import SIZE, register_peer
from tests.drivers.modbus.test_driver_types import driver_for
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until


def test_a_block_refused_for_one_missing_register_is_split_until_the_bad_tag_stands_alone():
    good = [point(f"g{i}", f"modbus://d/1/hr/{SIZE - 6 + i}") for i in range(4)]  # the device's last registers
    missing = point("missing", f"modbus://d/1/hr/{SIZE + 2}")  # close enough to share their block

    async def scenario() -> None:
        async with register_peer() as peer:
            driver, rec = driver_for(peer.port, max_gap=8), Recorder()
            await driver.start([*good, missing], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("missing") is not None and rec.last("g0") is not None,
                                       message="first scan")
                assert [rec.last(p.tag).quality for p in good] == [Quality.GOOD] * 4
                assert rec.last("missing").quality is Quality.BAD
                assert rec.last("missing").detail == "exception 2 (illegal data address)"
                assert driver.counters.extra["blocks_split"] >= 1
                peer.requests.clear()
                await asyncio.sleep(0.3)  # later scans use the split plan: no more whole-block attempts
                spans = {(a, c) for f, a, c in peer.requests if f == 3}
                assert (SIZE - 6, 9) not in spans  # the whole block, refused
                assert (SIZE - 6, 2) in spans  # a half that holds two good tags
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_a_silent_unit_behind_a_gateway_loses_only_its_tags():
    alive = point("alive", "modbus://d/1/hr/0")
    silent = point("silent", "modbus://d/7/hr/0")  # the gateway's unit 7 is dead: no answer at all

    async def scenario() -> None:
        async with register_peer() as peer, silent_unit_gateway(peer.port, {7}) as gateway:
            driver, rec = driver_for(gateway.port, timeout_s=0.3), Recorder()
            await driver.start([alive, silent], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("silent") is not None, message="unit 7 given up on")
                assert rec.last("silent").quality is Quality.COMM_LOST
                assert "unit 7 did not answer within 0.3 s" in rec.last("silent").detail
                before = len(rec.values("alive"))
                await asyncio.sleep(1.0)  # unit 1 keeps its scan rate while unit 7 rests
                assert len(rec.values("alive")) >= before + 10
                assert rec.state is ConnectionState.CONNECTED
                devices = driver.diagnostics()["devices"]
                assert devices[7]["timeouts"] == 1
                assert devices[1]["timeouts"] == 0
                assert devices[1]["requests"] > 10
                assert devices[1]["max_ms"] > 0
                assert any(" TX " in line for line in driver.diagnostics()["comm_log"])
            finally:
                await driver.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", MODES)
def test_a_device_answering_wrongly_is_reported_and_others_keep_their_rate(mode):
    confused = point("confused", "modbus://d/1/hr/0")
    healthy = point("healthy", "modbus://d/1/hr/0")

    async def scenario() -> None:
        async with broken_device(mode) as device, register_peer() as peer:
            bad_driver, bad = driver_for(device.port, timeout_s=0.3, reconnect_max_s=1.0), Recorder()
            good_driver, good = driver_for(peer.port), Recorder()
            await bad_driver.start([confused], bad.on_updates, bad.on_state)
            await good_driver.start([healthy], good.on_updates, good.on_state)
            try:
                await async_wait_until(lambda: bad.last("confused") is not None, message="the bad answer handled")
                assert device.requests >= 1
                last = bad.last("confused")
                assert last.quality is Quality.COMM_LOST
                assert last.value is None  # never a value from a bad frame
                assert "frames arrived that match no request" in last.detail
                assert any(" RX " in line for line in bad_driver.diagnostics()["comm_log"])
                before = len(good.values("healthy"))
                await asyncio.sleep(1.0)
                assert len(good.values("healthy")) >= before + 12  # 50 ms scans go on
            finally:
                await bad_driver.close()
                await good_driver.close()

    asyncio.run(scenario())
