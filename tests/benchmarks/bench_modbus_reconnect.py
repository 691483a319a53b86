"""Soak: 100 cut/reconnect cycles of the Modbus driver through a cuttable proxy to a device in its
own process. Tasks, file descriptors and the Python heap after 10 and after 100 cycles: a leak
shows as growth between the two, and tracemalloc names where it happened."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

from drivers.modbus.driver import ModbusDriver
from drivers.modbus.settings import modbus_settings
from drivers.model import ConnectionState, Quality
from tests.benchmarks import write_result
from tests.benchmarks.bench_opcua_reconnect import CYCLES, growth_sites, report_soak, sample
from tests.benchmarks.modbus_load_server import modbus_devices
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until
from tests.tcp_proxy import CuttableProxy

VALUE = point("value", "modbus://d/1/hr/0?type=float32")


async def soak(port: int) -> dict:
    async with CuttableProxy("127.0.0.1", port) as proxy:
        options = {"poll_interval_ms": 50, "timeout_s": 0.5, "reconnect_max_s": 1}
        driver = ModbusDriver("d", modbus_settings(f"modbus://127.0.0.1:{proxy.port}", options))
        rec = Recorder()
        await driver.start([VALUE], rec.on_updates, rec.on_state)
        samples, snapshots, recovery = {}, {}, []
        try:
            await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, message="first connect")
            for cycle in range(1, CYCLES + 1):
                rec.updates.clear()
                rec.states.clear()
                proxy.cut()
                began = time.perf_counter()
                await async_wait_until(lambda: any(u.quality is Quality.COMM_LOST for u in rec.updates),
                                       message="COMM_LOST")
                lost_after = time.perf_counter() - began
                await async_wait_until(lambda: rec.last("value").quality is Quality.GOOD, timeout=20,
                                       message="recovery")
                recovery.append((lost_after, time.perf_counter() - began))
                if cycle in (10, CYCLES):
                    await asyncio.sleep(0.5)
                    samples[cycle] = sample()
                    snapshots[cycle] = tracemalloc.take_snapshot()
        finally:
            await driver.close()
        return {"samples": samples, "recovery": recovery, "disconnects": driver.counters.disconnects,
                "growth_sites": growth_sites(snapshots[10], snapshots[CYCLES], bench_file=__file__)}


def main() -> None:
    with modbus_devices(1) as (port,):
        tracemalloc.start(10)
        try:
            result = asyncio.run(soak(port))
        finally:
            tracemalloc.stop()
    summary = report_soak(result, "the frame log fills up to its 200 frames")
    write_result("bench-modbus-reconnect", summary)


if __name__ == "__main__":
    main()
