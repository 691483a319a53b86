"""History compression throughput: compiled swinging-door (SDT) and deadband vs their twins.

10M points of a noisy random walk sampled at 1 s (a process value), deviation 0.5 % of its span.
Goals: SDT >= 300M points/s and >= 10x the twin. The twins are plain Python loops (SDT is
sequential by nature), so they run on 1M points and are reported per point.
"""

from __future__ import annotations

import time

import numpy as np

from ext import compression_twins
from tests.benchmarks import write_result

POINTS = 10_000_000
TWIN_POINTS = 1_000_000


def process_value(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64) + 1.7e9
    y = np.cumsum(rng.normal(0.0, 0.05, n)) + rng.normal(0.0, 0.02, n)
    return t, y


def rate(compress, t, y, deviation, repeats: int = 3) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    best = float("inf")
    kept = 0
    for _ in range(repeats):
        began = time.perf_counter()
        kept = len(compress(t, y, deviation))
        best = min(best, time.perf_counter() - began)
    return len(t) / best, kept


def main() -> None:
    try:
        from ext import _compression
    except ImportError:
        print("ext._compression is not compiled: nothing to compare (the twins are what runs)")
        return

    t, y = process_value(POINTS)
    deviation = 0.005 * float(np.ptp(y))
    result = {"points": POINTS, "deviation": deviation}
    for name in ("sdt_compress", "deadband_filter"):
        compiled_rate, kept = rate(getattr(_compression, name), t, y, deviation)
        twin_rate, _ = rate(getattr(compression_twins, name), t[:TWIN_POINTS], y[:TWIN_POINTS], deviation, 1)
        result[name] = {"compiled_points_per_s": compiled_rate, "twin_points_per_s": twin_rate,
                        "speedup": compiled_rate / twin_rate, "kept": kept, "kept_ratio": kept / POINTS}
        print(f"{name:<16} compiled {compiled_rate / 1e6:8.0f} M points/s, twin {twin_rate / 1e6:6.2f} M points/s, "
              f"{compiled_rate / twin_rate:6.0f}x; keeps {kept:,} of {POINTS:,} ({kept / POINTS:.2%})")
    print("goals: SDT >= 300 M points/s and >= 10x the twin")
    write_result("bench-compression", result)


if __name__ == "__main__":
    main()
