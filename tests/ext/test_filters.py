"""Filters and rolling statistics (ext._filters and its twin ext.filter_twins).

Correctness runs on both implementations against independent references (direct O(n·w) window statistics
in exact rational arithmetic, a closed-form EWMA, scipy's Butterworth); streaming is checked by
splitting series at random points; parity holds the compiled module to the twin's exact bytes and errors.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ext
from ext import filter_twins as twins
from ext.filter_twins import BiquadState, EwmaState, RollingState

NAN, INF = math.nan, math.inf
SETTINGS = settings(max_examples=300, deadline=None, database=None)
NOT_BUILT = "ext._filters is not compiled (python setup.py build_ext --inplace)"
FILTERS = ("ewma", "rolling_mean", "rolling_std", "biquad_lowpass")


@pytest.fixture(scope="module", params=["twin", "compiled"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "twin":
        return twins
    return pytest.importorskip("ext._filters", reason=NOT_BUILT)


def compiled() -> ModuleType:
    return pytest.importorskip("ext._filters", reason=NOT_BUILT)


# -- inputs -----------------------------------------------------------------------------------------

STEPS = st.sampled_from([0.0, 0.0, 1e-3, 0.25, 0.5, 1.0, 1.0, 1.0, 3.0, 100.0])
MODERATE = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([NAN, NAN, INF, -INF]))
ADVERSARIAL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([NAN, -NAN, INF, -INF, 0.0, -0.0, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308]),
    st.floats(1e6 - 1e-3, 1e6 + 1e-3),
)


@st.composite
def series(draw: st.DrawFn, elements: st.SearchStrategy = MODERATE, max_n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Irregular, non-decreasing t (repeats, jumps, epoch and huge offsets); y with gaps, maybe constant."""
    n = draw(st.integers(0, max_n))
    t0 = draw(st.one_of(st.sampled_from([0.0, 1.7e9, 1e17]), st.floats(-1e9, 1e9)))
    t = np.cumsum(draw(hnp.arrays(np.float64, n, elements=STEPS))) + t0
    constant = draw(st.booleans())
    y = np.full(n, draw(elements)) if constant else draw(hnp.arrays(np.float64, n, elements=elements))
    return t, y


WINDOWS = st.one_of(st.sampled_from([1e-9, 0.5, 1.0, 2.0, 5.0, 1e3]), st.floats(1e-3, 200.0))
TAUS = st.one_of(st.sampled_from([1e-9, 0.5, 1.0, 10.0, 1e9]), st.floats(1e-3, 1e3))
BIQUADS = st.sampled_from(
    [(1.0, 10.0, twins.SQRT1_2), (0.01, 100.0, twins.SQRT1_2), (4.9, 10.0, 0.5), (1.0, 50.0, 5.0)]
)


def run(module: ModuleType, name: str, t: np.ndarray, y: np.ndarray, param: object, state: object = None):
    fn = getattr(module, name)
    if name == "biquad_lowpass":
        return fn(y, *param, state=state)
    return fn(t, y, param, state=state)


def param_for(name: str) -> st.SearchStrategy:
    return {"ewma": TAUS, "rolling_mean": WINDOWS, "rolling_std": WINDOWS, "biquad_lowpass": BIQUADS}[name]


def state_key(state: object) -> tuple:
    """A state's content, comparable: arrays by their bytes."""
    values = [getattr(state, f) for f in state.__slots__]  # type: ignore[attr-defined]
    return tuple(v.tobytes() if isinstance(v, np.ndarray) else np.float64(v).tobytes() for v in values)


# -- references -------------------------------------------------------------------------------------


def window_values(t: np.ndarray, y: np.ndarray, i: int, window: float) -> list[float]:
    return [float(y[j]) for j in range(i + 1) if t[i] - t[j] < window and math.isfinite(y[j])]


def rolling_reference(t: np.ndarray, y: np.ndarray, window: float, std: bool, ddof: int = 1) -> list[float]:
    """Direct and exact: each window's good values in rational arithmetic, rounded once at the end."""
    out = []
    for i in range(len(t)):
        values = [Fraction(v) for v in window_values(t, y, i, window)]
        if not math.isfinite(y[i]) or len(values) <= (ddof if std else 0):
            out.append(NAN)
            continue
        mean = sum(values) / len(values)
        out.append(math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - ddof)) if std else float(mean))
    return out


def assert_close_to_window_reference(t, y, window, got, reference):
    """Error within n·spread·1e-13 (+ rounding of the mean itself): what a stable algorithm owes. (Below
    1e-154 squares underflow: the 1e-150 floor.)"""
    for i, (g, r) in enumerate(zip(got, reference, strict=True)):
        if math.isnan(r):
            assert math.isnan(g), i
            continue
        values = window_values(t, y, i, window)
        spread = max(values) - min(values)
        assert abs(g - r) <= 1e-13 * len(values) * spread + 4e-16 * abs(r) + 1e-150, (i, g, r)


def ewma_reference(t: np.ndarray, y: np.ndarray, tau: float) -> list[float]:
    """Closed form over the good samples j > 0 (dt_j to the previous good one):
    s_i = y_0 e^{-(t_i - t_0)/tau} + sum_j (1 - e^{-dt_j/tau}) e^{-(t_i - t_j)/tau} y_j."""
    good = [j for j in range(len(t)) if math.isfinite(y[j])]
    out = []
    for i in range(len(t)):
        if not math.isfinite(y[i]):
            out.append(NAN)
            continue
        used = [j for j in good if j <= i]
        terms = [y[used[0]] * math.exp(-(t[i] - t[used[0]]) / tau)]
        for prev, j in itertools.pairwise(used):
            terms.append(-math.expm1(-(t[j] - t[prev]) / tau) * math.exp(-(t[i] - t[j]) / tau) * y[j])
        out.append(math.fsum(terms))
    return out


# -- EWMA -------------------------------------------------------------------------------------------


@SETTINGS
@given(data=series(), tau=TAUS)
def test_ewma_matches_the_closed_form(impl, data, tau):
    t, y = data
    out, _ = impl.ewma(t, y, tau)
    reference = ewma_reference(t, y, tau)
    scale = np.nanmax(np.abs(np.where(np.isfinite(y), y, NAN)), initial=0.0)
    np.testing.assert_allclose(out, reference, rtol=0, atol=1e-12 * scale * (1 + len(t)) + 1e-300)  # + denormals


def test_ewma_step_on_irregular_time(impl):
    t = np.array([0.0, 0.1, 0.1, 0.7, 2.0, 2.05, 9.0, 30.0])
    y = np.array([0.0, 1.0, 5.0, 1.0, NAN, 1.0, INF, 1.0])
    out, state = impl.ewma(t, y, 2.0)
    expected = 1.0 - np.exp(-t / 2.0)  # the average of a unit step, whatever the sampling
    expected[[0, 4, 6]] = [0.0, NAN, NAN]  # bad samples give NaN; the sample at dt = 0 (5.0) weighs nothing
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-15)
    assert state == EwmaState(t_end=30.0, t_last=30.0, value=out[-1])


def test_ewma_constant_is_exact_and_long_gaps_fade(impl):
    out, _ = impl.ewma(np.arange(5.0) + 1.7e9, np.full(5, 0.1), 3.0)
    assert (out == 0.1).all()
    out, _ = impl.ewma([0.0, 1.0, 1000.0], [10.0, 10.0, 20.0], 10.0)
    assert out[2] == pytest.approx(20.0 - 10.0 * math.exp(-99.9), abs=1e-12)


def test_ewma_state_carries_over_a_retuned_tau(impl):
    _, state = impl.ewma([0.0, 1.0], [0.0, 1.0], 1.0)
    out, _ = impl.ewma([3.0], [2.0], 4.0, state=state)
    assert out[0] == state.value + (1 - math.exp(-2.0 / 4.0)) * (2.0 - state.value)


# -- rolling mean / std -----------------------------------------------------------------------------


@SETTINGS
@given(data=series(), window=WINDOWS, ddof=st.sampled_from([0, 1]))
def test_rolling_matches_the_direct_computation(impl, data, window, ddof):
    t, y = data
    mean, _ = impl.rolling_mean(t, y, window)
    std, _ = impl.rolling_std(t, y, window, ddof)
    assert_close_to_window_reference(t, y, window, mean, rolling_reference(t, y, window, std=False))
    assert_close_to_window_reference(t, y, window, std, rolling_reference(t, y, window, std=True, ddof=ddof))
    assert (np.isnan(mean) == ~np.isfinite(y)).all()  # NaN exactly at the bad samples


def offset_noise(n: int = 1500, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = 1.7e9 + np.cumsum(rng.choice([0.0, 0.1, 0.5, 1.0], n))
    return t, 1e6 + 1e-3 * rng.standard_normal(n)


def test_rolling_std_on_a_large_offset_matches_two_passes(impl):
    t, y = offset_noise()
    std, _ = impl.rolling_std(t, y, 60.0)
    reference = np.array(rolling_reference(t, y, 60.0, std=True))
    np.testing.assert_allclose(std[1:], reference[1:], rtol=1e-9)
    mean, _ = impl.rolling_mean(t, y, 60.0)
    np.testing.assert_allclose(mean, rolling_reference(t, y, 60.0, std=False), rtol=1e-15)


def test_the_offset_test_would_catch_cumsum_differences():
    """Sanity check of the test above: the vectorised textbook method fails it by orders of magnitude."""
    t, y = offset_noise()
    start = np.searchsorted(t, t - 60.0, side="right")
    s1 = np.concatenate(([0.0], np.cumsum(y)))
    s2 = np.concatenate(([0.0], np.cumsum(y * y)))
    n = np.arange(1, len(t) + 1) - start
    var = (s2[1:] - s2[start] - (s1[1:] - s1[start]) ** 2 / n) / np.maximum(n - 1, 1)
    reference = np.array(rolling_reference(t, y, 60.0, std=True))
    with np.errstate(invalid="ignore"):
        assert np.nanmax(np.abs(np.sqrt(var[1:]) / reference[1:] - 1)) > 1e-3


def test_a_spike_leaves_no_residue(impl):
    t = np.arange(300.0)
    y = 1.0 + 1e-3 * np.sin(t)
    y[100] = 1e30  # a float32 register read with the wrong word order
    for std in (False, True):
        fn = impl.rolling_std if std else impl.rolling_mean
        out, _ = fn(t, y, 10.0)
        reference = rolling_reference(t, y, 10.0, std=std)
        np.testing.assert_allclose(out[110:], reference[110:], rtol=1e-12)


def test_window_edges_and_duplicates(impl):
    t = np.array([0.0, 1.0, 2.0, 2.0, 3.0])
    y = np.array([1.0, 2.0, 3.0, 5.0, 7.0])
    mean, _ = impl.rolling_mean(t, y, 2.0)  # (t - 2, t]: t = 1 is out of the window at t = 3
    expected = [1.0, 1.5, 2.5, 10 / 3, 5.0]  # causal: index 2 does not see the 5.0 at the same t
    np.testing.assert_allclose(mean, expected, rtol=1e-15)
    std, _ = impl.rolling_std(t, y, 2.0, ddof=0)
    assert std[0] == 0.0
    assert std[4] == pytest.approx(np.std([3.0, 5.0, 7.0]), rel=1e-15)
    lone, _ = impl.rolling_std(t, y, 0.5)
    assert np.isnan(lone[[0, 1, 2, 4]]).all()  # one sample, ddof=1
    assert lone[3] == pytest.approx(math.sqrt(2.0), rel=1e-15)


def test_constant_windows_are_exact(impl):
    t = np.arange(50.0) * 0.1 + 1.7e9
    y = np.full(50, 0.1)
    y[[5, 17]] = [NAN, -INF]
    mean, _ = impl.rolling_mean(t, y, 1.0)
    std, _ = impl.rolling_std(t, y, 1.0)
    good = np.isfinite(y)
    assert (mean[good] == 0.1).all()
    assert (std[good][1:] == 0.0).all()
    assert np.isnan(mean[~good]).all()
    assert np.isnan(std[~good]).all()


def test_a_window_below_the_time_resolution_still_holds_the_sample(impl):
    t = np.array([1e17, 1e17 + 16.0, 1e17 + 32.0])  # t - 1.0 == t in float64
    out, _ = impl.rolling_mean(t, [1.0, 2.0, 3.0], 1.0)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])


# -- biquad -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cutoff", "rate"), [(1.0, 10.0), (0.01, 100.0), (45.0, 100.0), (50.0, 1000.0)])
def test_biquad_is_scipys_butterworth(impl, cutoff, rate):
    signal = pytest.importorskip("scipy.signal")
    sos = signal.butter(2, cutoff, fs=rate, output="sos")
    b, a = signal.butter(2, cutoff, fs=rate)
    np.testing.assert_allclose(twins.lowpass_coefficients(cutoff, rate, twins.SQRT1_2), [*b, *a[1:]], rtol=1e-9)
    rng = np.random.default_rng(5)
    x = 1e5 + np.cumsum(rng.standard_normal(5000))
    out, _ = impl.biquad_lowpass(x, cutoff, rate)
    assert out[0] == x[0]  # at rest at the first value: scipy's equivalent is sosfilt_zi, on the deviations
    reference = signal.sosfilt(sos, x - x[0])  # (on x itself scipy's DC error times the offset shows: 1e-5 here)
    deviation = out - x[0]
    np.testing.assert_allclose(deviation, reference, rtol=0, atol=1e-9 * np.abs(reference).max())


def test_biquad_step_settles_to_one_and_cutoff_is_minus_3_db(impl):
    rate, cutoff = 1000.0, 50.0
    step, _ = impl.biquad_lowpass(np.r_[0.0, np.ones(999)], cutoff, rate)
    assert step[0] == 0.0
    assert abs(step[-1] - 1.0) < 1e-12
    assert step.max() < 1.05  # Butterworth: ~4 % overshoot
    for frequency in (cutoff / 5, cutoff, 4 * cutoff):
        k = np.arange(4000)
        out, _ = impl.biquad_lowpass(np.sin(2 * np.pi * frequency * k / rate), cutoff, rate)
        tail = slice(2000, 4000)  # settled; a whole number of periods
        sin, cos = np.sin(2 * np.pi * frequency * k[tail] / rate), np.cos(2 * np.pi * frequency * k[tail] / rate)
        amplitude = math.hypot(2 * np.mean(out[tail] * sin), 2 * np.mean(out[tail] * cos))
        warped = math.tan(math.pi * frequency / rate) / math.tan(math.pi * cutoff / rate)  # bilinear transform
        assert amplitude == pytest.approx(1 / math.sqrt(1 + warped**4), rel=1e-6)  # 1/sqrt(2) (-3 dB) at cutoff


def test_biquad_restarts_at_rest_after_a_gap(impl):
    x = np.r_[np.full(20, 1e5), NAN, np.full(5, 2e5), INF, 7.0]
    out, state = impl.biquad_lowpass(x, 1.0, 100.0)
    assert (out[:20] == 1e5).all()  # no ramp from zero
    assert np.isnan(out[[20, 26]]).all()
    assert (out[21:26] == 2e5).all()  # no transient from the stale state
    assert out[27] == 7.0
    assert state == BiquadState(1.0, 100.0, twins.SQRT1_2, x0=7.0)


# -- streaming --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILTERS)
@SETTINGS
@given(data=st.data())
def test_chunks_give_exactly_the_whole_series(impl, name, data):
    t, y = data.draw(series(elements=st.one_of(MODERATE, ADVERSARIAL)))
    param = data.draw(param_for(name))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(t)), max_size=6)))
    whole, whole_state = run(impl, name, t, y, param)
    parts, state = [], None
    for lo, hi in zip([0, *cuts], [*cuts, len(t)], strict=True):
        out, state = run(impl, name, t[lo:hi], y[lo:hi], param, state)
        parts.append(out)
    assert np.concatenate(parts).tobytes() == whole.tobytes()
    assert state_key(state) == state_key(whole_state)


@pytest.mark.parametrize("name", FILTERS)
@SETTINGS
@given(data=st.data())
def test_states_pass_between_implementations(name, data):
    kernels = compiled()
    t, y = data.draw(series())
    param = data.draw(param_for(name))
    cut = data.draw(st.integers(0, len(t)))
    whole, _ = run(twins, name, t, y, param)
    first, state = run(kernels, name, t[:cut], y[:cut], param)
    second, _ = run(twins, name, t[cut:], y[cut:], param, state)
    assert np.concatenate([first, second]).tobytes() == whole.tobytes()


def test_rolling_state_holds_the_window_read_only(impl):
    _, state = impl.rolling_mean([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, NAN, 3.0, 4.0, 5.0], 2.5)
    np.testing.assert_array_equal(state.t, [2.0, 3.0, 4.0])
    assert not state.t.flags.writeable
    assert not state.y.flags.writeable
    assert state.t_end == 4.0


# -- parity -----------------------------------------------------------------------------------------


def both(name: str, *args: object, **kwargs: object) -> tuple[object, object]:
    results = []
    for module in (compiled(), twins):
        try:
            results.append(getattr(module, name)(*args, **kwargs))
        except (TypeError, ValueError) as exc:
            results.append(exc)
    return results[0], results[1]


def assert_same(a: object, b: object) -> None:
    if isinstance(b, Exception):
        assert type(a) is type(b), (a, b)
        assert str(a) == str(b)
        return
    (out_a, state_a), (out_b, state_b) = a, b
    assert out_a.dtype == out_b.dtype == np.float64
    assert out_a.tobytes() == out_b.tobytes()  # signs of zeros and NaN bits too
    assert type(state_a) is type(state_b)
    assert state_key(state_a) == state_key(state_b)


@pytest.mark.parametrize("name", FILTERS)
@settings(max_examples=500, deadline=None, database=None)
@given(data=st.data())
def test_compiled_and_twin_agree_exactly(name, data):
    t, y = data.draw(series(elements=ADVERSARIAL, max_n=120))
    order = data.draw(st.sampled_from(["kept", "kept", "kept", "shuffled", "nan", "inf"]))
    if order == "shuffled":
        t = np.array(data.draw(st.permutations(t.tolist())), dtype=np.float64)
    elif order in ("nan", "inf") and len(t):
        t[data.draw(st.integers(0, len(t) - 1))] = NAN if order == "nan" else INF
    param = data.draw(param_for(name))
    if name == "biquad_lowpass":
        assert_same(*both(name, y, *param))
    elif name == "rolling_std":
        assert_same(*both(name, t, y, param, data.draw(st.integers(0, 3))))
    else:
        assert_same(*both(name, t, y, param))


BAD_ARGUMENTS = [
    ("ewma", ([0.0, 1.0], [1.0, 2.0], 0.0), "tau must be a finite number of seconds > 0"),
    ("ewma", ([0.0, 1.0], [1.0, 2.0], INF), "tau must be"),
    ("ewma", ([0.0, 1.0], [1.0, 2.0], "1"), "tau must be a number, not str"),
    ("ewma", ([0.0, 2.0, 1.0], [1.0, 2.0, 3.0], 1.0), "t must not decrease"),
    ("ewma", ([0.0, NAN], [1.0, 2.0], 1.0), "t must be finite"),
    ("ewma", ([0.0, 2.0, 1.0, INF], [1.0] * 4, 1.0), "t must be finite"),  # both errors: reported alike
    ("ewma", ([0.0, 1.0, 2.0], [1.0, 2.0], 1.0), "same length"),
    ("ewma", (np.zeros((2, 2)), np.zeros((2, 2)), 1.0), "t must be 1-D"),
    ("rolling_mean", ([0.0, 1.0], [1.0, 2.0], -1.0), "window must be a finite number of seconds > 0"),
    ("rolling_mean", ([0.0, 1.0], [1.0, 2.0], NAN), "window must be"),
    ("rolling_std", ([0.0, 1.0], [1.0, 2.0], 1.0, -1), "ddof must be >= 0"),
    ("rolling_std", ([0.0, 1.0], [1.0, 2.0], 1.0, 1.5), "integer"),
    ("rolling_std", ([1.0, 0.0], [1.0, 2.0], 1.0), "t must not decrease"),
    (
        "biquad_lowpass",
        ([1.0], 5.0, 10.0),
        r"cutoff_hz must be > 0 and below the Nyquist frequency \(sample_rate_hz / 2 = 5.0\)",
    ),
    ("biquad_lowpass", ([1.0], 0.0, 10.0), "cutoff_hz must be > 0"),
    ("biquad_lowpass", ([1.0], 1.0, -10.0), "sample_rate_hz must be a finite number of hertz > 0"),
    ("biquad_lowpass", ([1.0], 1.0, 10.0, 0.0), "q must be a finite number > 0"),
    ("biquad_lowpass", ([[1.0]], 1.0, 10.0), "y must be 1-D"),
]


@pytest.mark.parametrize(("name", "args", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_named(impl, name, args, message):
    with pytest.raises((TypeError, ValueError), match=message):
        getattr(impl, name)(*args)
    if impl is not twins:
        assert_same(*both(name, *args))


def test_a_state_continues_its_own_series_only(impl):
    _, ewma_state = impl.ewma([0.0, 5.0], [1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match=r"t must not go back in time: this batch starts at 4.0, .* ended at 5.0"):
        impl.ewma([4.0], [1.0], 1.0, state=ewma_state)
    with pytest.raises(TypeError, match="state must be None or the RollingState returned by rolling_mean"):
        impl.rolling_mean([6.0], [1.0], 1.0, state=ewma_state)
    _, rolling_state = impl.rolling_mean([0.0, 5.0], [1.0, 2.0], 10.0)
    with pytest.raises(ValueError, match=r"state is for window=10\.0, not 20\.0"):
        impl.rolling_std([6.0], [1.0], 20.0, state=rolling_state)
    forged = RollingState(10.0, 5.0, np.array([4.0]), np.array([NAN]), 1)
    with pytest.raises(ValueError, match="inconsistent"):
        impl.rolling_mean([6.0], [1.0], 10.0, state=forged)
    _, biquad_state = impl.biquad_lowpass([1.0, 2.0], 1.0, 10.0)
    with pytest.raises(ValueError, match=r"state is for cutoff_hz=1\.0"):
        impl.biquad_lowpass([1.0], 2.0, 10.0, state=biquad_state)


def test_empty_batches_keep_the_state(impl):
    for name, param in [("ewma", 1.0), ("rolling_mean", 1.0), ("rolling_std", 1.0), ("biquad_lowpass", (1.0, 10.0))]:
        out, state = run(impl, name, np.empty(0), np.empty(0), param)
        assert out.shape == (0,)
        assert out.dtype == np.float64
        _, after = run(impl, name, np.array([3.0]), np.array([2.0]), param, state)
        out, again = run(impl, name, [], [], param, after)
        assert out.shape == (0,)
        assert state_key(again) == state_key(after)


def test_ext_exports_the_filters():
    for name in FILTERS:
        assert ext.KERNELS[name] == ("ext._filters", "ext.filter_twins")
        assert callable(getattr(ext, name))
