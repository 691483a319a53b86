"""OPC UA notification handling: Linewise's driver vs a bare asyncua client, same server, same run.

A separate server process rewrites 10,000 Double variables once a second. Each client in turn
subscribes to all of them and counts notifications for a fixed window; we report notifications
per second and CPU time of this process per notification, and the ratio ours / bare (goal <= 1.2).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from asyncua import Client, ua

from drivers.model import Point
from drivers.opcua.address import parse_opcua_address
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from tests.benchmarks.opcua_load_server import NAMESPACE, load_server

ITEMS = int(os.environ.get("LINEWISE_BENCH_ITEMS", "10000"))
RATE_HZ = 1.0
WINDOW_S = 10.0
WARMUP_S = 4.0


async def bare_client(url: str) -> tuple[int, float]:
    client = Client(url, timeout=30)
    client.session_timeout = 60_000
    async with client:
        index = await client.get_namespace_index(NAMESPACE)
        subscription = await client.create_subscription(250, handler=None, queue_maxsize=1_000_000)
        nodes = [client.get_node(ua.NodeId(f"Bench.V{i}", index)) for i in range(ITEMS)]
        await subscription.subscribe_data_change(nodes, sampling_interval=0)
        counted = 0

        async def count() -> None:
            nonlocal counted
            async for _event in subscription:
                counted += 1

        task = asyncio.create_task(count())
        await asyncio.sleep(WARMUP_S)
        start_count, start_cpu, start = counted, time.process_time(), time.perf_counter()
        await asyncio.sleep(WINDOW_S)
        notifications, cpu = counted - start_count, time.process_time() - start_cpu
        elapsed = time.perf_counter() - start
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await subscription.delete()
    return notifications, cpu / max(notifications, 1) * 1e6 if notifications else float("nan"), elapsed


async def linewise_driver(url: str) -> tuple[int, float, float]:
    options = {"security_mode": "None", "publishing_interval_ms": 250, "sampling_interval_ms": 0, "timeout_s": 30}
    driver = OpcUaDriver("bench", opcua_settings(url, options, Path(".")))
    points = [Point(f"v{i}", parse_opcua_address(f"nsu={NAMESPACE};s=Bench.V{i}", {})) for i in range(ITEMS)]
    counted = 0

    def on_updates(updates) -> None:
        nonlocal counted
        counted += len(updates)

    await driver.start(points, on_updates, lambda *_: None)
    try:
        await asyncio.sleep(WARMUP_S)
        start_count, start_cpu, start = counted, time.process_time(), time.perf_counter()
        await asyncio.sleep(WINDOW_S)
        notifications, cpu = counted - start_count, time.process_time() - start_cpu
        elapsed = time.perf_counter() - start
    finally:
        await driver.close()
    return notifications, cpu / max(notifications, 1) * 1e6, elapsed


def main() -> None:
    results = {}
    with load_server(ITEMS, RATE_HZ) as url:
        for name, runner in (("bare asyncua", bare_client), ("linewise driver", linewise_driver),
                             ("bare asyncua (again)", bare_client)):
            notifications, cpu_us, elapsed = asyncio.run(runner(url))
            results[name] = {"notifications_per_s": notifications / elapsed, "cpu_us_per_notification": cpu_us}
    bare = min(results["bare asyncua"]["cpu_us_per_notification"],
               results["bare asyncua (again)"]["cpu_us_per_notification"])
    ours = results["linewise driver"]["cpu_us_per_notification"]
    summary = {"items": ITEMS, "rate_hz": RATE_HZ, "window_s": WINDOW_S, "results": results,
               "cpu_ratio_ours_vs_bare": ours / bare}
    print(f"{ITEMS} monitored items, each rewritten at {RATE_HZ:g} Hz by a separate server process")
    print(f"{'client':<24}{'notifications/s':>18}{'CPU us/notification':>22}")
    for name, r in results.items():
        print(f"{name:<24}{r['notifications_per_s']:>18,.0f}{r['cpu_us_per_notification']:>22.1f}")
    print(f"CPU per notification, ours / bare: {ours / bare:.2f} (goal <= 1.2)")
    Path(os.environ.get("LINEWISE_BENCH_OUT", "bench-opcua-throughput.json")).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
