"""Soak: 100 cut/reconnect cycles of the OPC UA driver through a cuttable proxy to the demo plant
(in its own process). Measures tasks, open file descriptors and memory after 10 and after 100
cycles: a leak shows as growth between the two, the baseline of this run."""

from __future__ import annotations

import asyncio
import gc
import os
import time
import tracemalloc
from pathlib import Path

from drivers.model import ConnectionState, Quality
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from hmi.runtime.demo import DemoPlantProcess
from tests.benchmarks import write_result
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until
from tests.tcp_proxy import CuttableProxy

CYCLES = 100
LEVEL = point("level", "opcua://plc/nsu=urn:linewise:demo-plant;s=Line1.Tank.Level")


def sample() -> dict[str, float]:
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    return {"tasks": len(asyncio.all_tasks()), "fds": len(os.listdir("/proc/self/fd")),
            "python_heap_kib": current / 1024}


def report_soak(result: dict, heap_note: str) -> dict:
    """Print a soak's figures and return them for the JSON file (shared by the driver soaks)."""
    lost = sorted(r[0] for r in result["recovery"])
    back = sorted(r[1] for r in result["recovery"])
    at10, at100 = result["samples"][10], result["samples"][CYCLES]
    summary = {
        "cycles": CYCLES, "disconnects_counted": result["disconnects"],
        "comm_lost_after_cut_s": {"p50": lost[len(lost) // 2], "max": lost[-1]},
        "good_again_after_cut_s": {"p50": back[len(back) // 2], "max": back[-1]},
        "after_10": at10, f"after_{CYCLES}": at100,
        "growth_10_to_100": {k: at100[k] - at10[k] for k in at10},
        "heap_growth_sites": result["growth_sites"],
    }
    print(f"{CYCLES} cuts, {result['disconnects']} disconnects counted")
    print(f"COMM_LOST after a cut: p50 {lost[len(lost) // 2] * 1000:.0f} ms, max {lost[-1] * 1000:.0f} ms; "
          f"good again: p50 {back[len(back) // 2]:.2f} s")
    print(f"{'':>16}{'after 10':>12}{f'after {CYCLES}':>12}")
    for key in at10:
        print(f"{key:>16}{at10[key]:>12.0f}{at100[key]:>12.0f}")
    print(f"where the heap grew (10 -> {CYCLES} cycles; {heap_note}):")
    for site in result["growth_sites"]:
        print(f"  {site}")
    return summary


def growth_sites(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int = 5,
                 bench_file: str = __file__) -> list[str]:
    """Where the heap grew between two snapshots (by allocating line), to explain any growth;
    the benchmark's own bookkeeping (its file) is left out."""
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, bench_file)]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    return [f"{stat.size_diff / 1024:+.1f} KiB ({stat.count_diff:+d} blocks) {stat.traceback[0]}"
            for stat in stats[:top] if stat.size_diff > 0]


async def soak(opcua_port: int) -> dict:
    async with CuttableProxy("127.0.0.1", opcua_port) as proxy:
        options = {"watchdog_s": 0.5, "publishing_interval_ms": 50, "security_mode": "None", "reconnect_max_s": 1}
        driver = OpcUaDriver("plc", opcua_settings(f"opc.tcp://127.0.0.1:{proxy.port}", options, Path(".")))
        rec = Recorder()
        await driver.start([LEVEL], rec.on_updates, rec.on_state)
        samples, recovery, snapshots = {}, [], {}
        try:
            await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, message="first connect")
            for cycle in range(1, CYCLES + 1):
                rec.updates.clear()
                rec.states.clear()  # the recorder's own history is not the driver's memory
                proxy.cut()
                began = time.perf_counter()
                await async_wait_until(lambda: any(u.quality is Quality.COMM_LOST for u in rec.updates),
                                       message="COMM_LOST")
                lost_after = time.perf_counter() - began
                await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED
                                       and rec.last("level").quality is Quality.GOOD, timeout=20, message="recovery")
                recovery.append((lost_after, time.perf_counter() - began))
                if cycle in (10, CYCLES):
                    await asyncio.sleep(0.5)
                    samples[cycle] = sample()
                    snapshots[cycle] = tracemalloc.take_snapshot()
        finally:
            await driver.close()
        return {"samples": samples, "recovery": recovery, "disconnects": driver.counters.disconnects,
                "growth_sites": growth_sites(snapshots[10], snapshots[CYCLES])}


def main() -> None:
    plant = DemoPlantProcess()
    plant.start()
    tracemalloc.start()
    try:
        result = asyncio.run(soak(plant.opcua_port))
    finally:
        tracemalloc.stop()
        plant.stop()
    summary = report_soak(result, "this benchmark's own lines excluded")
    write_result("bench-opcua-reconnect", summary)


if __name__ == "__main__":
    main()
