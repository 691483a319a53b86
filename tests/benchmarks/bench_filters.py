"""Filters and rolling statistics: the compiled kernels vs their twins, scipy and the vectorised textbook way.

10M points of a 1 kHz process value (offset 1e5, random walk, 0.1 % bad samples), best of 5:

- ewma (tau 1 s) on regular and on jittered time stamps (one expm1 per sample), vs scipy ``lfilter``
  (regular only: it needs a constant alpha);
- rolling_mean / rolling_std over a 1 s window (1000 samples), vs NumPy ``searchsorted`` + ``cumsum``
  differences (fast but unstable: its error at a 1e6 offset is printed next to ours);
- biquad_lowpass (10 Hz), vs scipy ``sosfilt``.

The twins are Python loops (see ext/filter_twins.py), so they run on 1M points and are reported per point.
A last row runs two compiled calls in two threads: ~2x the points per second means the GIL is released.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from ext import filter_twins
from tests.benchmarks import write_result

try:
    from ext import _filters
except ImportError:
    _filters = None

POINTS = 10_000_000
TWIN_POINTS = 1_000_000
REPEATS = 5
RATE = 1000.0
TAU = WINDOW = 1.0
CUTOFF = 10.0


def make_series(n: int, jitter: bool = False, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = rng.exponential(1 / RATE, n) if jitter else np.full(n, 1 / RATE)
    t = 1.7e9 + np.cumsum(steps)
    y = 1e5 + np.cumsum(rng.standard_normal(n)) * 0.01
    y[rng.random(n) < 0.001] = np.nan
    return t, y


def best_time(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    best = math.inf
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def cumsum_rolling(t: np.ndarray, y: np.ndarray, window: float, std: bool) -> np.ndarray:
    """The vectorised textbook rolling mean/std (NaN skipped): window sums as differences of prefix sums."""
    good = np.isfinite(y)
    x = np.where(good, y, 0.0)
    start = np.searchsorted(t, t - window, side="right")
    end = np.arange(1, len(t) + 1)
    n = np.concatenate(([0], np.cumsum(good)))
    s1 = np.concatenate(([0.0], np.cumsum(x)))
    count = n[end] - n[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (s1[end] - s1[start]) / count
        if not std:
            return np.where(good, mean, np.nan)
        s2 = np.concatenate(([0.0], np.cumsum(x * x)))
        var = (s2[end] - s2[start] - (s1[end] - s1[start]) * mean) / (count - 1)
        return np.where(good & (count > 1), np.sqrt(np.maximum(var, 0.0)), np.nan)


def std_error(fn: Callable[..., np.ndarray]) -> float:
    """Largest relative error of a rolling std at a 1e6 offset (noise 1e-3), against exact arithmetic."""
    rng = np.random.default_rng(2)
    n = 200_000
    t = np.arange(n) / RATE
    y = 1e6 + 1e-3 * rng.standard_normal(n)
    out = fn(t, y, 0.9995)  # exactly 1000 samples per window, whatever the rounding of t
    worst = 0.0
    for i in range(n - 50_000, n, 5_000):  # late in the series, where prefix sums are large
        values = [Fraction(v) for v in y[i - 999 : i + 1]]
        mean = sum(values) / len(values)
        exact = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        worst = max(worst, abs(out[i] / exact - 1))
    return worst


def implementations(kernel: str) -> dict[str, tuple[Callable[..., object], bool]]:
    """name -> (call on (t, y), whether it runs on the 1M twin slice)."""
    jit = kernel.endswith("(jittered)")
    name = kernel.split()[0]
    args: dict[str, tuple] = {"ewma": (TAU,), "rolling_mean": (WINDOW,), "rolling_std": (WINDOW,)}
    impls: dict[str, tuple[Callable[..., object], bool]] = {}
    for label, module, small in (("compiled", _filters, False), ("numpy twin", filter_twins, True)):
        if module is None:
            continue
        fn = getattr(module, name)
        if name == "biquad_lowpass":
            impls[label] = (lambda t, y, fn=fn: fn(y, CUTOFF, RATE), small)
        else:
            impls[label] = (lambda t, y, fn=fn, a=args[name]: fn(t, y, *a), small)
    if name in ("rolling_mean", "rolling_std"):
        impls["numpy cumsum"] = (lambda t, y, s=name == "rolling_std": cumsum_rolling(t, y, WINDOW, s), False)
    try:
        from scipy import signal
    except ImportError:
        return impls
    if name == "ewma" and not jit:
        a = -math.expm1(-1 / RATE / TAU)
        impls["scipy lfilter"] = (lambda t, y: signal.lfilter([a], [1.0, a - 1.0], y), False)
    if name == "biquad_lowpass":
        sos = signal.butter(2, CUTOFF, fs=RATE, output="sos")
        zi = signal.sosfilt_zi(sos)
        impls["scipy sosfilt"] = (lambda t, y: signal.sosfilt(sos, y, zi=zi * y[0]), False)
    return impls


def threaded_rate(fn: Callable[[np.ndarray, np.ndarray], object], t: np.ndarray, y: np.ndarray) -> float:
    """Points per second with two threads each filtering half of the series."""
    halves = [(t[: len(t) // 2], y[: len(t) // 2]), (t[len(t) // 2 :], y[len(t) // 2 :])]

    def both() -> None:
        threads = [threading.Thread(target=fn, args=half) for half in halves]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    return len(t) / best_time(both)


def main() -> None:
    regular = make_series(POINTS)
    jittered = make_series(POINTS, jitter=True)
    result: dict[str, object] = {"points": POINTS, "twin_points": TWIN_POINTS, "repeats": REPEATS}
    print(f"{POINTS:,} points at {RATE:.0f} Hz, best of {REPEATS} (twins: {TWIN_POINTS:,} points, best of 2)")
    print(f"{'kernel':<26}{'implementation':<16}{'ms / 10M':>10}{'M points/s':>12}{'compiled is':>13}")
    kernels = ["ewma", "ewma (jittered)", "rolling_mean", "rolling_std", "biquad_lowpass"]
    for kernel in kernels:
        t, y = jittered if kernel.endswith("(jittered)") else regular
        rates: dict[str, float] = {}
        for label, (fn, small) in implementations(kernel).items():
            n = TWIN_POINTS if small else POINTS
            rates[label] = n / best_time(lambda fn=fn, a=t[:n], b=y[:n]: fn(a, b), 2 if small else REPEATS)
        entry: dict[str, float] = {f"{k.replace(' ', '_')}_points_per_s": v for k, v in rates.items()}
        for label, rate in rates.items():
            ratio = f"{rates['compiled'] / rate:>12.1f}x" if "compiled" in rates and label != "compiled" else ""
            print(f"{kernel:<26}{label:<16}{POINTS / rate * 1e3:>10.0f}{rate / 1e6:>12.1f}{ratio}")
            if ratio:
                entry[f"compiled_vs_{label.replace(' ', '_')}"] = rates["compiled"] / rate
        result[kernel] = entry
    if _filters is None:
        print("compiled: not built (python setup.py build_ext --inplace)")
        write_result("bench-filters", result)
        return

    t, y = regular
    two = threaded_rate(lambda a, b: _filters.rolling_mean(a, b, WINDOW), t, y)
    one = POINTS / best_time(lambda: _filters.rolling_mean(t, y, WINDOW))
    result["rolling_mean_two_threads_speedup"] = two / one
    print(
        f"{'rolling_mean, 2 threads':<26}{'compiled':<16}{POINTS / two * 1e3:>10.0f}{two / 1e6:>12.1f}"
        f"{two / one:>12.2f}x one thread (the GIL is released)"
    )
    errors = {
        "compiled": std_error(lambda a, b, w: _filters.rolling_std(a, b, w)[0]),
        "numpy cumsum": std_error(lambda a, b, w: cumsum_rolling(a, b, w, True)),
    }
    result["rolling_std_relative_error_at_1e6_offset"] = errors
    print(
        "rolling_std at a 1e6 offset with 1e-3 noise, largest relative error vs exact arithmetic: "
        + ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
    )
    write_result("bench-filters", result)


if __name__ == "__main__":
    main()
