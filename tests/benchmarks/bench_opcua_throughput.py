"""OPC UA notification handling: Linewise's driver vs a bare asyncua client, same server, same run.

A separate server process rewrites 10,000 Double variables once a second. Each client
subscribes to all of them from its own process, both at the same time (so the server's batching
and the machine's noise hit both alike), and counts notifications for a fixed window; we report
notifications per second, CPU time per notification, and ours / bare per round (goal <= 1.2).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from asyncua import Client, ua

from drivers.model import Point
from drivers.opcua.address import parse_opcua_address
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from hmi.runtime.heap import freeze_startup_heap
from tests.benchmarks import write_result
from tests.benchmarks.opcua_load_server import NAMESPACE, load_server

ITEMS = int(os.environ.get("LINEWISE_BENCH_ITEMS", "10000"))
RATE_HZ = 1.0
WINDOW_S = 10.0
WARMUP_S = 4.0
ROUNDS = int(os.environ.get("LINEWISE_BENCH_ROUNDS", "3"))


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
        freeze_startup_heap()  # both clients as the application runs: startup objects out of the GC's way
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
    freeze_startup_heap()
    try:
        await asyncio.sleep(WARMUP_S)
        start_count, start_cpu, start = counted, time.process_time(), time.perf_counter()
        await asyncio.sleep(WINDOW_S)
        notifications, cpu = counted - start_count, time.process_time() - start_cpu
        elapsed = time.perf_counter() - start
    finally:
        await driver.close()
    return notifications, cpu / max(notifications, 1) * 1e6, elapsed


CLIENTS = {"bare asyncua": bare_client, "linewise driver": linewise_driver}


def run_client(kind: str, url: str) -> dict[str, float]:
    """One client in its own process; both run at once so server batching and machine noise hit both alike."""
    notifications, cpu_us, elapsed = asyncio.run(CLIENTS[kind](url))
    return {"notifications_per_s": notifications / elapsed, "cpu_us_per_notification": cpu_us}


def main() -> None:
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in CLIENTS}
    spawn = get_context("spawn")
    with load_server(ITEMS, RATE_HZ) as url, ProcessPoolExecutor(len(CLIENTS), mp_context=spawn) as pool:
        for _ in range(ROUNDS):
            futures = {name: pool.submit(run_client, name, url) for name in CLIENTS}
            for name, future in futures.items():
                rounds[name].append(future.result())
    per_round = [ours["cpu_us_per_notification"] / bare["cpu_us_per_notification"]
                 for ours, bare in zip(rounds["linewise driver"], rounds["bare asyncua"], strict=True)]
    ratio = statistics.median(per_round)
    summary = {"items": ITEMS, "rate_hz": RATE_HZ, "window_s": WINDOW_S, "rounds": rounds,
               "cpu_ratio_per_round": per_round, "cpu_ratio_ours_vs_bare": ratio}
    print(f"{ITEMS} monitored items, each rewritten at {RATE_HZ:g} Hz by a separate server process; both clients "
          f"subscribed at once, {ROUNDS} rounds of {WINDOW_S:g} s")
    print(f"{'client':<18}{'notifications/s':>18}{'CPU us/notification (each round)':>36}")
    for name, runs in rounds.items():
        cpu = " ".join(f"{r['cpu_us_per_notification']:.1f}" for r in runs)
        rate = statistics.median(r["notifications_per_s"] for r in runs)
        print(f"{name:<18}{rate:>18,.0f}{cpu:>36}")
    print(f"CPU per notification, ours / bare: {' '.join(f'{r:.2f}' for r in per_round)}; "
          f"median {ratio:.2f} (goal <= 1.2)")
    write_result("bench-opcua-throughput", summary)


if __name__ == "__main__":
    main()
