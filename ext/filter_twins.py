"""Filters and rolling statistics for analytics, in Python/NumPy: the twins of the compiled ``ext._filters``.

Both implementations take the same arguments, run the same checks (the helpers here) and give bit-identical
output and states. Rules shared by every filter:

- **Bad samples.** A y value that is not finite is a bad sample: NaN is bad quality or no value, ±inf an
  overflowed or garbage reading (a float32 register read with the wrong word order). It never enters a
  filter's state and the output at it is NaN, so a gap stays a gap on a trend and one garbage value cannot
  poison what follows. An EWMA or biquad state that overflows (inputs ~1e308 apart) is reset the same way.
- **Time.** t is in seconds (the unit of ``tau`` and ``window``), finite and non-decreasing, also from one
  call to the next; otherwise ValueError, and nothing is computed.
- **Streaming.** Each call returns ``(out, state)``. Passing the state to the next call with the next batch
  gives, bit for bit, what one call over the whole series gives. States are small immutable objects that
  either implementation accepts; ``state=None`` starts afresh.

Why these twins loop over samples in Python (as ``compression_twins`` does) instead of vectorising: EWMA and
the biquad are recurrences, each output needs the previous one, and NumPy has no IIR primitive (scipy's is
not a runtime dependency and orders its arithmetic differently). The rolling statistics could be vectorised
with ``cumsum`` differences, but those lose every digit the prefix sum outgrows: 1e6 + noise over 1e7
samples leaves ~1e-3 absolute error in a window sum, and one garbage 1e30 sample wipes out everything after
it. The stable algorithm below (merge-only, never subtracting) is sequential. Vectorised parts (checks,
coefficients) are NumPy; the compiled module runs the same loops 30-65x faster (tests/benchmarks).
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass, field

import numpy as np

from ext.numpy_twins import NONFINITE_T_MESSAGE, as_1d_float64, check_series

DECREASING_T_MESSAGE = "t must not decrease: filters run in time order"
SQRT1_2 = math.sqrt(0.5)  # the Q of a Butterworth (maximally flat) second-order low-pass


# -- states -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EwmaState:
    """Where an ``ewma`` call stopped. Independent of ``tau``: a retuned filter continues from here."""

    t_end: float = -math.inf  # the last time seen: the next batch must not start before it
    t_last: float = math.nan  # the time of the last good sample, the one ``value`` is the average at
    value: float = math.nan  # the average; NaN until the first good sample


@dataclass(frozen=True, slots=True, eq=False)
class RollingState:
    """Where a ``rolling_mean`` or ``rolling_std`` call stopped: the good samples still in the window.

    ``n_front`` is internal bookkeeping (how the window is split between the two stacks of the algorithm),
    kept so that a resumed run does its arithmetic in the same order as an uninterrupted one. The arrays are
    read-only; the state works for either statistic, with the same ``window`` only. Resuming costs O(samples
    in the window) per call on top of the batch (the window is copied and its aggregates rebuilt): fine for
    live batches over minutes of data, wasteful for tiny batches over a window of millions of samples.
    """

    window: float
    t_end: float = -math.inf
    t: np.ndarray = field(default_factory=lambda: _frozen(np.empty(0)))
    y: np.ndarray = field(default_factory=lambda: _frozen(np.empty(0)))
    n_front: int = 0


@dataclass(frozen=True, slots=True)
class BiquadState:
    """Where a ``biquad_lowpass`` call stopped; continues the same filter (cutoff, rate, q) only.

    The filter runs on deviations from ``x0``, the input it (re)started at, which keeps a large offset
    (a pressure of 1e5 Pa) out of the arithmetic. ``x0`` is NaN before the first good sample and after a
    bad one; the next good sample restarts the filter at rest there.
    """

    cutoff_hz: float
    sample_rate_hz: float
    q: float
    x0: float = math.nan
    z1: float = 0.0
    z2: float = 0.0


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# -- argument checks (shared with the compiled module, so both fail alike) -------------------------


def check_positive(value: object, name: str, unit: str = "") -> float:
    """``value`` as a float that is finite and > 0; TypeError if it is not a real number."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    v = float(value)
    if not (v > 0.0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number{unit} > 0, not {value!r}")
    return v


def check_times(t: np.ndarray, t_end: float) -> None:
    """t finite, non-decreasing, and not before ``t_end`` (where the previous batch ended)."""
    if not np.isfinite(t).all():
        raise ValueError(NONFINITE_T_MESSAGE)
    if t.shape[0] > 1 and (t[1:] < t[:-1]).any():
        raise ValueError(DECREASING_T_MESSAGE)
    if t.shape[0] and t[0] < t_end:
        raise ValueError(
            f"t must not go back in time: this batch starts at {float(t[0])!r}, the previous one ended at {t_end!r}"
        )


def _state_of(state: object, kind: type, caller: str) -> object:
    if not isinstance(state, kind):
        raise TypeError(f"state must be None or the {kind.__name__} returned by {caller}, not {type(state).__name__}")
    return state


def prepare_ewma(t: object, y: object, tau: object, state: object) -> tuple[np.ndarray, np.ndarray, float, EwmaState]:
    tau = check_positive(tau, "tau", " of seconds")
    t_arr, y_arr = check_series(t, y)
    state = EwmaState() if state is None else _state_of(state, EwmaState, "ewma")
    return t_arr, y_arr, tau, state


def prepare_rolling(
    t: object, y: object, window: object, state: object, ddof: object = 0
) -> tuple[np.ndarray, np.ndarray, float, int, RollingState]:
    window = check_positive(window, "window", " of seconds")
    ddof_int = operator.index(ddof)
    if ddof_int < 0:
        raise ValueError(f"ddof must be >= 0, not {ddof_int}")
    t_arr, y_arr = check_series(t, y)
    if state is None:
        state = RollingState(window)
    else:
        state = _state_of(state, RollingState, "rolling_mean or rolling_std")
        if state.window != window:
            raise ValueError(f"state is for window={state.window!r}, not {window!r}: it continues the same window only")
        _check_rolling_state(state)
    return t_arr, y_arr, window, ddof_int, state


def _check_rolling_state(state: RollingState) -> None:
    """A hand-made state must hold what a returned one would (the compiled loop relies on it)."""
    t, y = state.t, state.y
    if not (
        isinstance(t, np.ndarray)
        and isinstance(y, np.ndarray)
        and t.dtype == y.dtype == np.float64
        and t.ndim == y.ndim == 1
        and t.shape == y.shape
        and isinstance(state.n_front, int)
        and 0 <= state.n_front <= t.shape[0]
        and np.isfinite(t).all()
        and np.isfinite(y).all()
        and (t.shape[0] == 0 or t[-1] <= state.t_end)
    ):
        raise ValueError(
            "state is not one that rolling_mean or rolling_std returned: its window samples are inconsistent"
        )


def lowpass_coefficients(cutoff_hz: object, sample_rate_hz: object, q: object) -> tuple[float, ...]:
    """(b0, b1, b2, a1, a2), normalised to a0 = 1: the RBJ audio-EQ-cookbook low-pass.

    With q = 1/sqrt(2) this is the second-order Butterworth by the bilinear transform with the cutoff
    prewarped, i.e. scipy's ``butter(2, cutoff_hz, fs=sample_rate_hz)``. 1 - cos(w0) is computed as
    2 sin²(w0/2) so that low cutoffs keep their precision.
    """
    fs = check_positive(sample_rate_hz, "sample_rate_hz", " of hertz")
    q = check_positive(q, "q")
    if not isinstance(cutoff_hz, numbers.Real):
        raise TypeError(f"cutoff_hz must be a number, not {type(cutoff_hz).__name__}")
    fc = float(cutoff_hz)
    if not 0.0 < fc < fs / 2:
        raise ValueError(
            f"cutoff_hz must be > 0 and below the Nyquist frequency (sample_rate_hz / 2 = {fs / 2!r}), "
            f"not {cutoff_hz!r}"
        )
    w0 = 2.0 * math.pi * fc / fs
    alpha = math.sin(w0) / (2.0 * q)
    a0 = 1.0 + alpha
    one_minus_cos = 2.0 * math.sin(w0 / 2.0) ** 2
    b1 = one_minus_cos / a0
    b0 = b1 / 2.0
    return b0, b1, b0, -2.0 * math.cos(w0) / a0, (1.0 - alpha) / a0


def prepare_biquad(
    y: object, cutoff_hz: object, sample_rate_hz: object, q: object, state: object
) -> tuple[np.ndarray, tuple[float, ...], BiquadState]:
    coefficients = lowpass_coefficients(cutoff_hz, sample_rate_hz, q)
    y_arr = as_1d_float64(y, "y")
    key = (float(cutoff_hz), float(sample_rate_hz), float(q))
    if state is None:
        state = BiquadState(*key)
    else:
        state = _state_of(state, BiquadState, "biquad_lowpass")
        if (state.cutoff_hz, state.sample_rate_hz, state.q) != key:
            raise ValueError(
                f"state is for cutoff_hz={state.cutoff_hz!r}, sample_rate_hz={state.sample_rate_hz!r}, q={state.q!r}, "
                f"not {key[0]!r}, {key[1]!r}, {key[2]!r}: it continues the same filter only"
            )
    return y_arr, coefficients, state


# -- EWMA -------------------------------------------------------------------------------------------


def ewma(t: np.ndarray, y: np.ndarray, tau: float, state: EwmaState | None = None) -> tuple[np.ndarray, EwmaState]:
    """Exponentially weighted moving average with time constant ``tau`` seconds, for irregular sampling.

    The first good sample starts the average at its value; then, with dt the time since the previous good
    sample, ``s += alpha * (y - s)`` with ``alpha = 1 - exp(-dt / tau)`` (computed as ``-expm1(-dt / tau)``):
    a first-order low-pass (RC) with time constant ``tau``, each sample standing for the time since the last.
    So a long gap makes the old average fade (weight ``exp(-gap / tau)``), and a sample at the same time as
    the previous one does not move it (dt = 0). Bad samples give NaN and are skipped.
    """
    t_arr, y_arr, tau, state = prepare_ewma(t, y, tau, state)
    check_times(t_arr, state.t_end)
    n = t_arr.shape[0]
    if n == 0:
        return np.empty(0), state
    out = [math.nan] * n
    t_last, s = state.t_last, state.value
    dt_cached, a = math.nan, 0.0
    isfinite, isnan, expm1 = math.isfinite, math.isnan, math.expm1
    for i, (ti, yi) in enumerate(zip(t_arr.tolist(), y_arr.tolist(), strict=True)):
        if not isfinite(yi):
            continue
        if isnan(s):
            s = yi
        else:
            dt = ti - t_last
            if dt != dt_cached:  # regular sampling repeats dt: one expm1 per distinct step
                dt_cached = dt
                a = -expm1(-dt / tau)
            s = s + a * (yi - s)
            if not isfinite(s):  # only values ~1e308 apart get here
                s = math.nan
                continue
        t_last = ti
        out[i] = s
    return np.array(out), EwmaState(float(t_arr[-1]), t_last, s)


# -- rolling mean and standard deviation ------------------------------------------------------------
#
# Two-stacks sliding-window aggregation. The window's good samples are a queue; the newer part ("back")
# is summarised by one running aggregate, the older part ("front") by suffix aggregates computed when the
# back is moved to the front (each sample moves once: amortised O(1)). The answer merges the front suffix
# of the oldest sample still in the window with the back aggregate. Nothing is ever subtracted, so a
# spike leaves no residue once it is out of the window. An aggregate is (count, mean, M2) about a shift:
# a sample of its own part, so deviations are small and exact even on large offsets (1e6 + noise); adds
# are Welford's, merges Chan's. The compiled module does exactly these operations in this order.


def _welford(n: float, mean: float, m2: float, u: float) -> tuple[float, float, float]:
    n = n + 1.0
    d = u - mean
    mean = mean + d / n
    return n, mean, m2 + d * (u - mean)


def _front_suffixes(t: list[float], y: list[float], lo: int, hi: int) -> tuple[list[tuple], float]:
    """Aggregates of the good samples in positions [lo, hi): element j is that of samples j..end, oldest
    first, each about the shift (the newest sample's value), which is returned too."""
    suffixes: list[tuple] = []
    shift = math.nan
    n = mean = m2 = 0.0
    for p in range(hi - 1, lo - 1, -1):
        x = y[p]
        if not math.isfinite(x):
            continue
        if not suffixes:
            shift = x
        n, mean, m2 = _welford(n, mean, m2, x - shift)
        suffixes.append((n, mean, m2))
    suffixes.reverse()
    return suffixes, shift


def _rolling(
    t_arr: np.ndarray, y_arr: np.ndarray, window: float, ddof: int, want_std: bool, state: RollingState
) -> tuple[np.ndarray, RollingState]:
    check_times(t_arr, state.t_end)
    m = state.t.shape[0]
    n_out = t_arr.shape[0]
    if n_out == 0:
        return np.empty(0), state
    t = state.t.tolist() + t_arr.tolist()
    y = state.y.tolist() + y_arr.tolist()
    out = [math.nan] * n_out
    isfinite, sqrt = math.isfinite, math.sqrt

    head, count = 0, m
    front_count = state.n_front
    front, front_shift = _front_suffixes(t, y, 0, front_count)
    k = 0  # front[k] is the aggregate of the front from the oldest sample still in it
    bn = bmean = bm2 = 0.0
    back_shift = math.nan
    for p in range(front_count, m):
        if bn == 0.0:
            back_shift = y[p]
        bn, bmean, bm2 = _welford(bn, bmean, bm2, y[p] - back_shift)

    for p in range(m, m + n_out):
        tp = t[p]
        while count and tp - t[head] >= window:  # evict: the window is tp - window < t_j <= tp
            if front_count == 0:  # move the back to the front
                front, front_shift = _front_suffixes(t, y, head, p)
                front_count, k = count, 0
                bn = bmean = bm2 = 0.0
            front_count -= 1
            count -= 1
            k += 1
            if count:
                head += 1
                while not isfinite(y[head]):
                    head += 1
        x = y[p]
        if not isfinite(x):
            continue
        if count == 0:
            head = p
        count += 1
        if bn == 0.0:
            back_shift = x
        bn, bmean, bm2 = _welford(bn, bmean, bm2, x - back_shift)
        if front_count:
            fn, fmean, fm2 = front[k]
            n = fn + bn
            d = bmean + (back_shift - front_shift) - fmean
            mean = fmean + d * (bn / n)
            shift = front_shift
            m2 = fm2 + bm2 + d * d * (fn * bn / n)
        else:
            n, mean, m2, shift = bn, bmean, bm2, back_shift
        if want_std:
            out[p - m] = sqrt(m2 / (n - ddof)) if n > ddof else math.nan
        else:
            out[p - m] = shift + mean

    t_end = float(t_arr[-1])
    if count == 0:
        return np.array(out), RollingState(window, t_end)
    tail_t = np.asarray(t[head:])
    tail_y = np.asarray(y[head:])
    good = np.isfinite(tail_y)
    return np.array(out), RollingState(window, t_end, _frozen(tail_t[good]), _frozen(tail_y[good]), front_count)


def rolling_mean(
    t: np.ndarray, y: np.ndarray, window: float, state: RollingState | None = None
) -> tuple[np.ndarray, RollingState]:
    """Mean of the good samples in the last ``window`` seconds, at every sample.

    The window of sample i is (t[i] - window, t[i]], taken as ``t[i] - t[j] < window``, causal: samples
    after i do not count even at the same time (so a batch boundary changes nothing). Every good sample
    weighs the same (a sample average, not a time-weighted one). Bad samples are skipped and give NaN; a
    good sample is always in its own window, so the output is NaN exactly at the bad samples. A constant
    series gives exactly that constant.
    """
    t_arr, y_arr, window, _, state = prepare_rolling(t, y, window, state)
    return _rolling(t_arr, y_arr, window, 0, False, state)


def rolling_std(
    t: np.ndarray, y: np.ndarray, window: float, ddof: int = 1, state: RollingState | None = None
) -> tuple[np.ndarray, RollingState]:
    """Standard deviation of the good samples in the last ``window`` seconds (the window of ``rolling_mean``).

    ``sqrt(M2 / (n - ddof))`` over the n good samples in the window: ``ddof=1`` (default) is the sample
    standard deviation, ``ddof=0`` the population one. NaN at bad samples and where n <= ddof (a lone
    sample, with ddof=1). A constant window gives exactly 0.
    """
    t_arr, y_arr, window, ddof, state = prepare_rolling(t, y, window, state, ddof)
    return _rolling(t_arr, y_arr, window, ddof, True, state)


# -- biquad low-pass --------------------------------------------------------------------------------


def biquad_lowpass(
    y: np.ndarray,
    cutoff_hz: float,
    sample_rate_hz: float,
    q: float = SQRT1_2,
    state: BiquadState | None = None,
) -> tuple[np.ndarray, BiquadState]:
    """Second-order IIR low-pass (RBJ cookbook; a Butterworth with the default q), transposed direct form II.

    y must be uniformly sampled at ``sample_rate_hz``: there is no t, and irregular data must be resampled
    first. The filter starts at rest at the first good sample (the output starts at the input, no ramp from
    0) and runs on deviations from it, so a large offset costs no precision. A bad sample gives NaN and resets
    the filter, which restarts at rest at the next good sample: after a gap there is no transient from stale
    state. Rounding in the recurrence leaves a DC gain error of about 1e-16 / w0² (w0 = 2π cutoff_hz /
    sample_rate_hz) on the deviations: 3e-10 at cutoff = rate / 10⁴.
    """
    y_arr, (b0, b1, b2, a1, a2), state = prepare_biquad(y, cutoff_hz, sample_rate_hz, q, state)
    n = y_arr.shape[0]
    if n == 0:
        return np.empty(0), state
    out = [math.nan] * n
    x0, z1, z2 = state.x0, state.z1, state.z2
    isfinite, isnan = math.isfinite, math.isnan
    for i, x in enumerate(y_arr.tolist()):
        if not isfinite(x):
            x0, z1, z2 = math.nan, 0.0, 0.0
            continue
        if isnan(x0):
            x0 = x
        u = x - x0
        v = b0 * u + z1
        z1 = b1 * u - a1 * v + z2
        z2 = b2 * u - a2 * v
        r = x0 + v
        if not isfinite(r):  # overflow (inputs ~1e308 apart): reset as for a bad sample
            x0, z1, z2 = math.nan, 0.0, 0.0
            continue
        out[i] = r
    return np.array(out), BiquadState(state.cutoff_hz, state.sample_rate_hz, state.q, x0, z1, z2)
