"""Latency from a value change on an OPC UA server to the GUI thread: 1,000 tags at 10 Hz.

A separate server process writes its clock (epoch seconds) as the value of 1,000 variables ten
times a second. Linewise runs as in production (driver -> registry -> historian + bridge) and
the benchmark measures, on the GUI thread where widgets get their batches, now - value for every
delivered update. Same machine, same clock. Reported per bridge rate, since the bridge's bounded
delivery rate is part of the latency budget (goal: p99 <= 100 ms).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

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


def measure(url: str, bridge_hz: float) -> dict[str, float]:
    from PySide6.QtCore import QTimer

    from drivers.model import Quality
    from hmi.bridge import Bridge
    from hmi.runtime import Runtime
    from hmi.site import load_site
    from hmi.ui.app import application

    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_site(folder, url)
        runtime = Runtime(load_site(folder), folder / "data")
        runtime.start()
        bridge = Bridge(runtime, rate_hz=bridge_hz)
        latencies: list[float] = []
        began = time.monotonic()

        def on_batch(batch) -> None:
            if time.monotonic() - began < WARMUP_S:
                return
            now = time.time()
            latencies.extend(now - u.value for u in batch if u.quality is Quality.GOOD and isinstance(u.value, float))

        bridge.updates_delivered.connect(on_batch)
        QTimer.singleShot(int((WARMUP_S + WINDOW_S) * 1000), app.quit)
        app.exec()
        runtime.stop()
        bridge.deleteLater()
    values = np.array(latencies) * 1000
    return {"bridge_hz": bridge_hz, "samples": len(values), "p50_ms": float(np.percentile(values, 50)),
            "p99_ms": float(np.percentile(values, 99)), "max_ms": float(values.max())}


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with load_server(TAGS, RATE_HZ) as url:
        results = [measure(url, hz) for hz in (10.0, 20.0)]
    print(f"{TAGS} tags at {RATE_HZ:g} Hz, server -> GUI thread (publishing interval 20 ms)")
    print(f"{'bridge rate':>12}{'samples':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for r in results:
        print(f"{r['bridge_hz']:>10.0f}Hz{r['samples']:>10}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['max_ms']:>10.1f}")
    Path(os.environ.get("LINEWISE_BENCH_OUT", "bench-opcua-latency.json")).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
