"""Decimation (min/max and M4): the compiled kernels vs their NumPy twins and vs tsdownsample (Rust,
SIMD, single-threaded) on 10M points to 2000 bins.

Reports points/s for each and the ratios. Without a compiled ext._kernels only the twins are measured.
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


def tsdownsample_reference() -> dict[str, Callable[..., object]]:
    """tsdownsample (Rust, SIMD), single-threaded: the peer package the goals are set against. Its
    n_out is points, not bins: 2 per bin for min/max, 4 for M4. (It does not keep NaN gaps, so its
    output differs from ours on the outages; it is timed, not compared.)"""
    from tsdownsample import M4Downsampler, MinMaxDownsampler

    return {"minmax_decimate": lambda t, y, bins: MinMaxDownsampler().downsample(t, y, n_out=2 * bins),
            "m4_decimate": lambda t, y, bins: M4Downsampler().downsample(t, y, n_out=4 * bins)}


def main() -> None:
    t, y = make_series()
    reference = tsdownsample_reference()
    result: dict[str, object] = {"points": POINTS, "bins": BINS, "repeats": REPEATS}
    print(f"{POINTS:,} points -> {BINS} bins, best of {REPEATS}; goal: compiled >= 1.0x tsdownsample")
    print(f"{'kernel':<17}{'implementation':<16}{'ms':>10}{'M points/s':>14}")
    for kernel in ("minmax_decimate", "m4_decimate"):
        implementations: dict[str, Callable[..., object]] = {"numpy twin": getattr(numpy_twins, kernel)}
        if _kernels is not None:
            implementations["compiled"] = getattr(_kernels, kernel)
            for ours, theirs in zip(implementations["compiled"](t, y, BINS), implementations["numpy twin"](t, y, BINS),
                                    strict=True):
                np.testing.assert_array_equal(ours, theirs)  # timing different answers would mean nothing
        implementations["tsdownsample"] = reference[kernel]
        seconds = {name: best_time(lambda fn=fn: fn(t, y, BINS)) for name, fn in implementations.items()}
        for name, s_ in seconds.items():
            print(f"{kernel:<17}{name:<16}{s_ * 1e3:>10.1f}{POINTS / s_ / 1e6:>14.0f}")
        entry = {f"{name.replace(' ', '_')}_points_per_s": POINTS / s_ for name, s_ in seconds.items()}
        if "compiled" in seconds:
            entry["compiled_vs_numpy"] = seconds["numpy twin"] / seconds["compiled"]
            entry["compiled_vs_tsdownsample"] = seconds["tsdownsample"] / seconds["compiled"]
            print(f"{kernel:<17}compiled is {entry['compiled_vs_numpy']:.1f}x the twin, "
                  f"{entry['compiled_vs_tsdownsample']:.2f}x tsdownsample")
        result[kernel] = entry
    if _kernels is None:
        print("compiled: not built (python setup.py build_ext --inplace)")
    write_result("bench-decimate", result)


if __name__ == "__main__":
    main()
