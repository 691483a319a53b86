"""Decimation (min/max, M4, MinMaxLTTB): the compiled kernels vs their NumPy twins and vs tsdownsample
(Rust, SIMD, single-threaded) on 10M points to 2000 bins.

Reports points/s for each and the ratios. Without a compiled ext._kernels only the twins are measured.
Run with `python -m tests.benchmarks.bench_decimate` from the repository root.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ext import MinMaxPyramid, lttb_twins, numpy_twins
from ext.lttb_twins import DEFAULT_MINMAX_RATIO
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
    n_out is points, not bins: 2 per bin for min/max, 4 for M4; MinMaxLTTB gets the same point budget
    and min/max ratio as ours. It assumes sorted x without checking, and it does not keep NaN gaps, so its
    output differs from ours on the outages: it is timed, not compared."""
    from tsdownsample import M4Downsampler, MinMaxDownsampler, MinMaxLTTBDownsampler

    return {
        "minmax_decimate": lambda t, y, bins: MinMaxDownsampler().downsample(t, y, n_out=2 * bins),
        "m4_decimate": lambda t, y, bins: M4Downsampler().downsample(t, y, n_out=4 * bins),
        "minmaxlttb_decimate": lambda t, y, bins: MinMaxLTTBDownsampler().downsample(
            t, y, n_out=2 * bins, minmax_ratio=DEFAULT_MINMAX_RATIO),
    }


TWINS = {"minmax_decimate": numpy_twins.minmax_decimate, "m4_decimate": numpy_twins.m4_decimate,
         "minmaxlttb_decimate": lambda t, y, bins: lttb_twins.minmaxlttb_decimate(t, y, 2 * bins)}
GOALS = {"minmax_decimate": 1.0, "m4_decimate": 1.0, "minmaxlttb_decimate": 0.7}


def compiled_variants(kernel: str) -> dict[str, Callable[..., object]]:
    """Ours, checking t (any input) and trusting t to be sorted (ring buffer and historian data)."""
    fn = getattr(_kernels, kernel)
    if kernel == "minmaxlttb_decimate":
        return {"compiled": lambda t, y, bins: fn(t, y, 2 * bins),
                "compiled sorted": lambda t, y, bins: fn(t, y, 2 * bins, assume_sorted=True)}
    return {"compiled": fn, "compiled sorted": lambda t, y, bins: fn(t, y, bins, assume_sorted=True)}


def main() -> None:
    t, y = make_series()
    reference = tsdownsample_reference()
    result: dict[str, object] = {"points": POINTS, "bins": BINS, "repeats": REPEATS}
    print(f"{POINTS:,} points -> {BINS} bins (MinMaxLTTB: {2 * BINS} points), best of {REPEATS}")
    print("'compiled' checks that t is finite and sorted; 'compiled sorted' is told so (assume_sorted=True), as")
    print("the trend is for ring-buffer and historian data; tsdownsample never checks.")
    print(f"{'kernel':<21}{'implementation':<17}{'ms':>9}{'M points/s':>12}")
    for kernel in ("minmax_decimate", "m4_decimate", "minmaxlttb_decimate"):
        implementations: dict[str, Callable[..., object]] = {"numpy twin": TWINS[kernel]}
        if _kernels is not None:
            implementations.update(compiled_variants(kernel))
            expected = implementations["numpy twin"](t, y, BINS)
            for name in ("compiled", "compiled sorted"):
                for ours, theirs in zip(implementations[name](t, y, BINS), expected, strict=True):
                    np.testing.assert_array_equal(ours, theirs)  # timing different answers would mean nothing
        implementations["tsdownsample"] = reference[kernel]
        seconds = {name: best_time(lambda fn=fn: fn(t, y, BINS)) for name, fn in implementations.items()}
        for name, s_ in seconds.items():
            print(f"{kernel:<21}{name:<17}{s_ * 1e3:>9.1f}{POINTS / s_ / 1e6:>12.0f}")
        entry = {f"{name.replace(' ', '_')}_points_per_s": POINTS / s_ for name, s_ in seconds.items()}
        if _kernels is not None:
            for name in ("compiled", "compiled sorted"):
                key = name.replace(" ", "_")
                entry[f"{key}_vs_numpy"] = seconds["numpy twin"] / seconds[name]
                entry[f"{key}_vs_tsdownsample"] = seconds["tsdownsample"] / seconds[name]
            print(f"{kernel:<21}vs tsdownsample: checked {entry['compiled_vs_tsdownsample']:.2f}x, "
                  f"sorted {entry['compiled_sorted_vs_tsdownsample']:.2f}x (goal >= {GOALS[kernel]}x); "
                  f"{entry['compiled_sorted_vs_numpy']:.0f}x the twin")
        result[kernel] = entry
    result["pyramid"] = bench_pyramid(t, y)
    if _kernels is None:
        print("compiled: not built (python setup.py build_ext --inplace)")
    write_result("bench-decimate", result)


def bench_pyramid(t: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """A redraw's decimation from the min/max pyramid vs decimating the window's samples (compiled, sorted)."""
    series = MinMaxPyramid(POINTS + 2**20)
    began = time.perf_counter()
    series.append(t, y)
    build_s = time.perf_counter() - began
    scan = getattr(_kernels, "minmax_indices", None) or numpy_twins.minmax_indices
    entry = {"build_points_per_s": POINTS / build_s}
    print(f"\npyramid over {POINTS:,} points (block {series.block}, {series.depth} levels): built at "
          f"{POINTS / build_s / 1e6:.0f} M points/s")
    for label, fraction in (("all", 1.0), ("10%", 0.1), ("0.1%", 0.001)):
        t0 = t[0] + (t[-1] - t[0]) * (1 - fraction) / 2
        t1 = t0 + (t[-1] - t[0]) * fraction
        a, b = np.searchsorted(t, t0), np.searchsorted(t, t1, "right")
        np.testing.assert_array_equal(series.decimate_indices(t0, t1, BINS), scan(t[a:b], y[a:b], BINS) + a)
        pyramid_s = best_time(lambda t0=t0, t1=t1: series.decimate_indices(t0, t1, BINS))
        scan_s = best_time(lambda a=a, b=b: scan(t[a:b], y[a:b], BINS, assume_sorted=True))
        entry[f"{label}_pyramid_ms"] = pyramid_s * 1e3
        entry[f"{label}_speedup_vs_scan"] = scan_s / pyramid_s
        print(f"  window {label:>5} ({b - a:>10,} points) -> {BINS} bins: pyramid {pyramid_s * 1e3:7.3f} ms, "
              f"scanning the window {scan_s * 1e3:7.3f} ms ({scan_s / pyramid_s:.0f}x)")
    return entry


if __name__ == "__main__":
    main()
