"""History compression throughput: compiled swinging-door (SDT) and deadband vs their twins.

10M points of a noisy random walk sampled at 1 s (a process value), deviation 0.5 % of its span.
Goals: SDT >= 300M points/s and >= 10x the twin. The twins are plain Python loops (SDT is
sequential by nature), so they run on 1M points and are reported per point.

Streams (sdt_stream, deadband_stream) as the historian calls them: 10,000 tags, each fed 10 samples
per call for 10 calls (the last one final), deviation 0.1 (twice the walk's step: about a fifth of the
points are kept, so most calls return some). What counts there is the cost of a call, reported as
calls/s (and points/s); no goal, the compiled/twin ratio is measured in the same run.
"""

from __future__ import annotations

import time

import numpy as np

from ext import compression_twins
from tests.benchmarks import write_result

POINTS = 10_000_000
TWIN_POINTS = 1_000_000
TAGS, BATCH, CALLS = 10_000, 10, 10
STREAM_DEVIATION = 0.1


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


def stream_rate(stream, batches, deviation, repeats: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Calls per second feeding ``batches[call][tag]`` = (t, y), tag after tag, one call after the other."""
    best = float("inf")
    kept = 0
    for _ in range(repeats):
        states: list[object] = [None] * TAGS
        kept = 0
        began = time.perf_counter()
        for k, tags in enumerate(batches):
            final = k == len(batches) - 1
            for tag, (t, y) in enumerate(tags):
                out_t, _, states[tag] = stream(t, y, deviation, state=states[tag], final=final)
                kept += len(out_t)
        best = min(best, time.perf_counter() - began)
    return TAGS * len(batches) / best, kept


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

    t, y = (a.reshape(TAGS, BATCH * CALLS) for a in process_value(TAGS * BATCH * CALLS, seed=5))
    t = t - t[:, :1] + t[0, 0]  # every tag on the same clock
    batches = [[(t[tag, k * BATCH:(k + 1) * BATCH], y[tag, k * BATCH:(k + 1) * BATCH]) for tag in range(TAGS)]
               for k in range(CALLS)]
    points = TAGS * BATCH * CALLS
    result["streams"] = {"tags": TAGS, "points_per_call": BATCH, "calls_per_tag": CALLS, "deviation": STREAM_DEVIATION}
    for name in ("sdt_stream", "deadband_stream"):
        compiled_calls, kept = stream_rate(getattr(_compression, name), batches, STREAM_DEVIATION, 3)
        twin_calls, _ = stream_rate(getattr(compression_twins, name), batches, STREAM_DEVIATION, 1)
        result["streams"][name] = {
            "compiled_calls_per_s": compiled_calls, "twin_calls_per_s": twin_calls,
            "compiled_points_per_s": compiled_calls * BATCH, "twin_points_per_s": twin_calls * BATCH,
            "speedup": compiled_calls / twin_calls, "kept": kept, "kept_ratio": kept / points}
        print(f"{name:<16} compiled {compiled_calls / 1e3:6.0f} k calls/s "
              f"({compiled_calls * BATCH / 1e6:.1f} M points/s), "
              f"twin {twin_calls / 1e3:4.0f} k calls/s ({twin_calls * BATCH / 1e6:.1f} M points/s), "
              f"{compiled_calls / twin_calls:4.1f}x; keeps {kept:,} of {points:,} ({kept / points:.1%})")
    print(f"streams: {TAGS:,} tags x {CALLS} calls of {BATCH} points; the historian needs {TAGS:,} calls/s")
    write_result("bench-compression", result)


if __name__ == "__main__":
    main()
