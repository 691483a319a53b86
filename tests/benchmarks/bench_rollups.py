"""Time-bucket roll-ups (rollup_stream): the compiled stream vs its twin, as the historian calls it.

Streams: 10,000 tags, each fed 10 samples per call for 10 calls (the last one ends with final_at), 1 s apart,
for 1-minute and for 1-hour buckets (the historian keeps both: two calls per tag and flush). What counts is
the cost of a call, reported as calls/s; the historian needs ~10,000 calls/s per bucket width. No goal here:
the compiled/twin ratio is measured in the same run.

Batch: one call over 10M samples (1-minute buckets, analog, 1 % bad quality, a few NaN), against a NumPy
baseline that only computes min, max and sum per bucket (``np.fmin.reduceat`` & co.: no integral, edges,
first/last or stream); a sanity ratio, not a goal. The twin (a Python loop) runs on 1M samples.
"""

from __future__ import annotations

import time

import numpy as np

from ext import rollup_twins
from tests.benchmarks import write_result

TAGS, BATCH, CALLS = 10_000, 10, 10
POINTS = 10_000_000
TWIN_POINTS = 1_000_000
T0 = 1_699_999_200.0  # on an hour edge


def history(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy random walk sampled every second; 1 % of the samples bad, 0.1 % without a value."""
    rng = np.random.default_rng(seed)
    t = T0 + np.arange(n, dtype=np.float64)
    y = np.cumsum(rng.normal(0.0, 0.05, n)) + rng.normal(0.0, 0.02, n)
    y[rng.random(n) < 0.001] = np.nan
    q = np.where(rng.random(n) < 0.01, 64, 0).astype(np.int64)
    return t, y, q


def stream_rate(stream, batches, bucket_s: float, repeats: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Calls per second feeding ``batches[call][tag]`` = (t, y, q), tag after tag, one call after the other."""
    best = float("inf")
    rows = 0
    for _ in range(repeats):
        states: list[object] = [None] * TAGS
        rows = 0
        began = time.perf_counter()
        for k, tags in enumerate(batches):
            final = k == len(batches) - 1
            for tag, (t, y, q) in enumerate(tags):
                out, states[tag] = stream(t, y, q, bucket_s, True, state=states[tag],
                                          final_at=t[-1] + 1.0 if final else None)
                rows += len(out)
        best = min(best, time.perf_counter() - began)
    return TAGS * len(batches) / best, rows


def batch_rate(stream, t, y, q, repeats: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    best, rows = float("inf"), 0
    for _ in range(repeats):
        began = time.perf_counter()
        rows = len(stream(t, y, q, 60.0, True, final_at=float(t[-1]) + 1.0)[0])
        best = min(best, time.perf_counter() - began)
    return len(t) / best, rows


def numpy_minmaxsum(t: np.ndarray, y: np.ndarray, q: np.ndarray, bucket_s: float) -> tuple[np.ndarray, ...]:
    """The baseline: per bucket with samples, min, max and sum of the good values (nothing else)."""
    k = np.floor(t / bucket_s)
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    good = (q == 0) & ~np.isnan(y)
    values = np.where(good, y, np.nan)
    return (k[starts] * bucket_s, np.fmin.reduceat(values, starts), np.fmax.reduceat(values, starts),
            np.add.reduceat(np.where(good, y, 0.0), starts))


def baseline_rate(t, y, q, repeats: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        numpy_minmaxsum(t, y, q, 60.0)
        best = min(best, time.perf_counter() - began)
    return len(t) / best


def main() -> None:
    try:
        from ext import _rollups
    except ImportError:
        print("ext._rollups is not compiled: nothing to compare (the twin is what runs)")
        return

    t, y, q = (a.reshape(TAGS, BATCH * CALLS) for a in history(TAGS * BATCH * CALLS, seed=5))
    t = t - t[:, :1] + T0  # every tag on the same clock, from an hour edge
    batches = [[(t[tag, k * BATCH:(k + 1) * BATCH], y[tag, k * BATCH:(k + 1) * BATCH],
                 q[tag, k * BATCH:(k + 1) * BATCH]) for tag in range(TAGS)] for k in range(CALLS)]
    result: dict[str, object] = {"streams": {"tags": TAGS, "samples_per_call": BATCH, "calls_per_tag": CALLS}}
    print(f"{'stream':<22}{'compiled':>16}{'twin':>16}{'ratio':>8}{'rows':>10}")
    for bucket_s in (60.0, 3600.0):
        compiled_calls, rows = stream_rate(_rollups.rollup_stream, batches, bucket_s, 3)
        twin_calls, twin_rows = stream_rate(rollup_twins.rollup_stream, batches, bucket_s, 1)
        assert rows == twin_rows
        result["streams"][f"bucket_{bucket_s:.0f}s"] = {
            "compiled_calls_per_s": compiled_calls, "twin_calls_per_s": twin_calls,
            "compiled_us_per_call": 1e6 / compiled_calls, "twin_us_per_call": 1e6 / twin_calls,
            "speedup": compiled_calls / twin_calls, "rows": rows}
        print(f"{f'bucket {bucket_s:.0f} s':<22}{compiled_calls / 1e3:>9.0f} k/s{'':>3}"
              f"{twin_calls / 1e3:>9.1f} k/s{'':>3}{compiled_calls / twin_calls:>7.1f}x{rows:>10,}")
    print(f"  calls/s; {TAGS:,} tags x {CALLS} calls of {BATCH} samples; the historian needs {TAGS:,} calls/s "
          "per bucket width")

    t, y, q = history(POINTS)
    compiled_rate, rows = batch_rate(_rollups.rollup_stream, t, y, q, 3)
    twin_rate, _ = batch_rate(rollup_twins.rollup_stream, t[:TWIN_POINTS], y[:TWIN_POINTS], q[:TWIN_POINTS], 1)
    numpy_rate = baseline_rate(t, y, q)
    result["batch"] = {"samples": POINTS, "bucket_s": 60.0, "rows": rows,
                       "compiled_samples_per_s": compiled_rate, "twin_samples_per_s": twin_rate,
                       "numpy_minmaxsum_samples_per_s": numpy_rate,
                       "compiled_vs_twin": compiled_rate / twin_rate, "compiled_vs_numpy": compiled_rate / numpy_rate}
    print(f"\n{'batch, 1-minute buckets':<30}{'M samples/s':>12}")
    print(f"{'compiled rollup_stream':<30}{compiled_rate / 1e6:>12.1f}")
    print(f"{'twin rollup_stream (1M)':<30}{twin_rate / 1e6:>12.2f}")
    print(f"{'NumPy min/max/sum only':<30}{numpy_rate / 1e6:>12.1f}")
    print(f"  compiled: {compiled_rate / twin_rate:.0f}x the twin, {compiled_rate / numpy_rate:.2f}x the NumPy "
          f"min/max/sum baseline; {rows:,} rows of {POINTS:,} samples")
    write_result("bench-rollups", result)


if __name__ == "__main__":
    main()
