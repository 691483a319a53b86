"""minmax_decimate: the compiled kernel vs its NumPy twin (the baseline) on 10M points to 2000 bins.

Reports points/s for each and the speed-up. Without a compiled ext._kernels only the twin is measured.
Run with `python -m tests.benchmarks.bench_decimate` from the repository root.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ext import numpy_twins
from tests.benchmarks import write_result

try:
    from ext import _kernels
except ImportError:
    _kernels = None

POINTS = 10_000_000
BINS = 2000
REPEATS = 5


def make_series() -> tuple[np.ndarray, np.ndarray]:
    """About 2.8 h of a 1 kHz signal: a random walk with three outages (NaN), as a trend would hold."""
    rng = np.random.default_rng(20240611)
    t = 1.7e9 + np.arange(POINTS) * 1e-3
    y = np.cumsum(rng.standard_normal(POINTS))
    for start in rng.integers(0, POINTS - 5000, size=3):
        y[start : start + 5000] = np.nan
    return t, y


def best_time(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    t, y = make_series()
    implementations = {"numpy twin": numpy_twins.minmax_decimate}
    if _kernels is not None:
        implementations["compiled"] = _kernels.minmax_decimate
        for ours, theirs in zip(
            _kernels.minmax_decimate(t, y, BINS), numpy_twins.minmax_decimate(t, y, BINS), strict=True
        ):
            np.testing.assert_array_equal(ours, theirs)  # timing different answers would mean nothing

    seconds = {name: best_time(lambda fn=fn: fn(t, y, BINS)) for name, fn in implementations.items()}
    result: dict[str, object] = {
        "points": POINTS,
        "bins": BINS,
        "repeats": REPEATS,
        "numpy_points_per_s": POINTS / seconds["numpy twin"],
        "compiled_points_per_s": POINTS / seconds["compiled"] if "compiled" in seconds else None,
        "speedup_compiled_vs_numpy": seconds["numpy twin"] / seconds["compiled"] if "compiled" in seconds else None,
    }

    print(f"minmax_decimate, {POINTS:,} points -> {BINS} bins, best of {REPEATS}")
    print(f"{'implementation':<16}{'ms':>10}{'points/s':>18}")
    for name, s in seconds.items():
        print(f"{name:<16}{s * 1e3:>10.1f}{POINTS / s:>18,.0f}")
    if result["speedup_compiled_vs_numpy"] is None:
        print("compiled: not built (python setup.py build_ext --inplace)")
    else:
        print(f"speed-up (compiled / numpy): {result['speedup_compiled_vs_numpy']:.1f}x")
    write_result("bench-decimate", result)


if __name__ == "__main__":
    main()
