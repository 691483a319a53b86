"""Latency from a value change on an OPC UA server to the GUI thread: 1,000 tags at 10 Hz.

A separate server process writes its clock (epoch seconds) as the value of 1,000 variables ten
times a second. Linewise runs as in production (driver -> registry -> historian + bridge) and
the benchmark measures now - value for every update as the runtime gets it (io thread) and as
widgets get it (GUI thread), and, as the baseline, as a bare asyncua client gets it from the same
server. Same machine, same clock. Reported per bridge rate, since the bridge's bounded delivery
rate is part of the latency budget (goal: p99 <= 100 ms at the GUI).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from drivers.model import Quality, TagUpdate
from tests.benchmarks import write_result
from tests.benchmarks.opcua_load_server import NAMESPACE, load_server

TAGS = 1000
RATE_HZ = 10.0
WINDOW_S = 12.0
WARMUP_S = 4.0


def write_site(folder: Path, url: str) -> None:
    lines = ["schema_version: 1", "name: Latency bench", "connections:",
             f'  - {{name: load, url: "{url}", options: {{security_mode: None, publishing_interval_ms: 20, '
             "sampling_interval_ms: 0}}", "tags:"]
    lines += [f'  - {{name: v{i}, address: "opcua://load/nsu={NAMESPACE};s=Bench.V{i}"}}' for i in range(TAGS)]
    (folder / "site.yaml").write_text("\n".join(lines) + "\n")


def percentiles(where: str, latencies: Sequence[float]) -> dict[str, float]:
    values = np.array(latencies) * 1000
    return {f"{where}_samples": len(values), f"{where}_p50_ms": float(np.percentile(values, 50)),
            f"{where}_p99_ms": float(np.percentile(values, 99)), f"{where}_max_ms": float(values.max())}


async def bare_asyncua(url: str) -> dict[str, float]:
    """The baseline: a bare asyncua client, same nodes and intervals, timing each notification as it
    is taken from the subscription (server + network + asyncua, nothing of ours)."""
    from asyncua import Client, ua

    latencies: list[float] = []
    async with Client(url, timeout=30) as client:
        index = await client.get_namespace_index(NAMESPACE)
        subscription = await client.create_subscription(20, handler=None)
        nodes = [client.get_node(ua.NodeId(f"Bench.V{i}", index)) for i in range(TAGS)]
        await subscription.subscribe_data_change(nodes, sampling_interval=0)
        began = time.monotonic()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WARMUP_S + WINDOW_S):
                async for event in subscription:
                    if time.monotonic() - began >= WARMUP_S and isinstance(event.value, float):
                        latencies.append(time.time() - event.value)
        await subscription.delete()
    return {"bridge_hz": 0.0} | percentiles("asyncua", latencies)


def measure(url: str, bridge_hz: float) -> dict[str, float]:
    from PySide6.QtCore import QTimer

    from hmi.bridge import Bridge
    from hmi.runtime import Runtime
    from hmi.runtime.heap import freeze_startup_heap
    from hmi.site import load_site
    from hmi.ui.app import application

    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_site(folder, url)
        runtime = Runtime(load_site(folder), folder / "data")
        runtime.start()
        bridge = Bridge(runtime, rate_hz=bridge_hz)
        at_runtime: list[float] = []  # io thread: server + network + asyncua + driver + registry
        at_gui: list[float] = []  # GUI thread: all of that + the bridge's bounded rate + Qt's queue
        began = time.monotonic()

        def recorder(latencies: list[float]) -> Callable[[Sequence[TagUpdate]], None]:
            def record(batch: Sequence[TagUpdate]) -> None:
                if time.monotonic() - began < WARMUP_S:
                    return
                now = time.time()
                latencies.extend(now - u.value for u in batch
                                 if u.quality is Quality.GOOD and isinstance(u.value, float))
            return record

        runtime.add_listener(recorder(at_runtime))
        bridge.updates_delivered.connect(recorder(at_gui))
        freeze_startup_heap()  # as the application does once its window is built
        QTimer.singleShot(int((WARMUP_S + WINDOW_S) * 1000), app.quit)
        app.exec()
        runtime.stop()
        bridge.deleteLater()
    return {"bridge_hz": bridge_hz} | percentiles("runtime", at_runtime) | percentiles("gui", at_gui)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with load_server(TAGS, RATE_HZ) as url:
        results = [asyncio.run(bare_asyncua(url))] + [measure(url, hz) for hz in (20.0, 10.0)]
    print(f"{TAGS} tags at {RATE_HZ:g} Hz, from a value change on the server (publishing interval 20 ms) to: a bare "
          "asyncua client (baseline), Linewise's runtime (io thread), its GUI thread (goal p99 <= 100 ms)")
    print(f"{'bridge rate':>12}{'at':>9}{'samples':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for r in results:
        for where in ("asyncua", "runtime", "gui"):
            if f"{where}_samples" in r:
                rate = f"{r['bridge_hz']:.0f}Hz" if r["bridge_hz"] else "-"
                print(f"{rate:>12}{where:>9}{r[f'{where}_samples']:>10}{r[f'{where}_p50_ms']:>10.1f}"
                      f"{r[f'{where}_p99_ms']:>10.1f}{r[f'{where}_max_ms']:>10.1f}")
    write_result("bench-opcua-latency", results)


if __name__ == "__main__":
    main()
