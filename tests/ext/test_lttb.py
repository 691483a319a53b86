"""MinMaxLTTB: against a plain LTTB written from the paper, its drawing guarantees, and compiled/twin parity."""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ext import lttb_twins

try:
    from ext import _kernels
except ImportError:
    _kernels = None

IMPLS = [lttb_twins] + ([_kernels] if _kernels is not None else [])
impl_param = pytest.mark.parametrize("impl", IMPLS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
SETTINGS = settings(max_examples=300, deadline=None, database=None)
NAN, INF = math.nan, math.inf


def reference_lttb(t: list[float], y: list[float], n_out: int) -> list[int]:
    """Steinarsson's LTTB, scalar, as published (the mean of the next bucket; the last bucket looks at
    the last point)."""
    m = len(t)
    every = (m - 2) / (n_out - 2)
    picked, a = [0], 0
    for i in range(n_out - 2):
        lo, hi = int(i * every) + 1, int((i + 1) * every) + 1
        next_lo, next_hi = hi, min(int((i + 2) * every) + 1, m)
        if next_lo >= m - 1:
            avg_t, avg_y = t[-1], y[-1]
        else:
            avg_t = sum(t[next_lo:next_hi]) / (next_hi - next_lo)
            avg_y = sum(y[next_lo:next_hi]) / (next_hi - next_lo)
        areas = [abs((t[a] - avg_t) * (y[j] - y[a]) - (t[a] - t[j]) * (avg_y - y[a])) for j in range(lo, hi)]
        a = lo + areas.index(max(areas))
        picked.append(a)
    return [*picked, m - 1]


@impl_param
@SETTINGS
@given(n=st.integers(4, 400), n_out=st.integers(3, 60), seed=st.integers(0, 2**32 - 1))
def test_matches_plain_lttb_when_nothing_is_preselected_away(impl: ModuleType, n: int, n_out: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.random(n) + 0.01)
    y = np.cumsum(rng.standard_normal(n))
    ratio = max(2, -(-2 * n // n_out))  # preselection bins >= n/2: every sample survives it
    idx = impl.minmaxlttb_indices(t, y, n_out, ratio)
    expected = list(range(n)) if n <= n_out else reference_lttb(list(t), list(y), n_out)
    assert idx.tolist() == expected


@impl_param
def test_gaps_stay_gaps_and_the_budget_holds(impl: ModuleType) -> None:
    n = 200_000
    rng = np.random.default_rng(7)
    t = 1.7e9 + np.arange(n) * 0.1
    y = np.cumsum(rng.standard_normal(n))
    gaps = [(20_000, 25_000), (120_000, 120_500)]
    for a, b in gaps:
        y[a:b] = NAN
    t_out, y_out = impl.minmaxlttb_decimate(t, y, 800, assume_sorted=True)
    assert (t_out[0], t_out[-1]) == (t[0], t[-1])  # the ends anchor the line
    assert np.count_nonzero(~np.isnan(y_out)) == 800
    nan_at = np.flatnonzero(np.isnan(y_out))
    assert len(nan_at) == len(gaps)  # one point per gap breaks the line under connect="finite"
    for (a, b), i in zip(gaps, nan_at, strict=True):
        assert t[a] <= t_out[i] < t[b]
    assert (np.diff(t_out) > 0).all()


@impl_param
def test_keeps_a_spike_that_plain_striding_would_miss(impl: ModuleType) -> None:
    t = np.arange(100_000, dtype=np.float64)
    y = np.zeros(100_000)
    y[31_337] = 50.0
    _, y_out = impl.minmaxlttb_decimate(t, y, 100)
    assert y_out.max() == 50.0


@impl_param
@pytest.mark.parametrize(
    ("n_out", "ratio", "message"),
    [(2, 4, "n_out must be >= 3"), (100, 1, "minmax_ratio must be >= 2")],
)
def test_rejects_budgets_it_cannot_meet(impl: ModuleType, n_out: int, ratio: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        impl.minmaxlttb_decimate(np.arange(10.0), np.arange(10.0), n_out, ratio)


@impl_param
def test_rejects_a_time_that_is_not_finite(impl: ModuleType) -> None:
    t = np.arange(1000.0)
    t[500] = NAN
    with pytest.raises(ValueError, match="t must be finite"):
        impl.minmaxlttb_decimate(t, np.zeros(1000), 10)


@st.composite
def lttb_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, int, bool]:
    n = draw(st.integers(0, 1500))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    t = 1.7e9 + np.cumsum(rng.choice([0.0, 0.001, 1.0, 30.0], size=n))
    order = draw(st.sampled_from(["sorted", "sorted", "unsorted"]))
    if order == "unsorted" and n > 1:
        t = rng.permutation(t)
    kind = draw(st.sampled_from(["walk", "adversarial"]))
    if kind == "walk":
        y = np.cumsum(rng.standard_normal(n))
        y[rng.random(n) < draw(st.sampled_from([0.0, 0.01, 0.5]))] = NAN
    else:
        y = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, -0.0, 1.0, -3.5, INF, -INF, NAN])))
    return t, y, draw(st.integers(3, 80)), draw(st.integers(2, 8)), order == "sorted" and draw(st.booleans())


@pytest.mark.skipif(_kernels is None, reason="ext._kernels is not compiled")
@SETTINGS
@given(case=lttb_case())
def test_parity(case: tuple[np.ndarray, np.ndarray, int, int, bool]) -> None:
    t, y, n_out, ratio, assume_sorted = case
    results = []
    for impl in (_kernels, lttb_twins):
        try:
            results.append(impl.minmaxlttb_indices(t, y, n_out, ratio, assume_sorted))
        except ValueError as exc:
            results.append(exc)
    compiled, twin = results
    if isinstance(twin, Exception):
        assert (type(compiled), str(compiled)) == (type(twin), str(twin))
    else:
        assert compiled.dtype == twin.dtype == np.intp
        np.testing.assert_array_equal(compiled, twin)
