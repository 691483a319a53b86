"""The compiled kernels and their NumPy twins give bit-identical results, and fail the same way.

Correctness against the spec is in test_decimate.py; this file hunts for inputs where the two differ.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ext import numpy_twins

kernels = pytest.importorskip(
    "ext._kernels", reason="ext._kernels is not compiled (python setup.py build_ext --inplace)"
)

SETTINGS = settings(max_examples=500, deadline=None, database=None)
NAN, INF = math.nan, math.inf

# Values that stress comparisons: NaN (with sign and payload variants), infinities, signed zeros,
# denormals and the largest finite magnitudes.
Y_ELEMENT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([NAN, -NAN, INF, -INF, 0.0, -0.0, 5e-324, -1.7976931348623157e308]),
)
T_ELEMENT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1e6, 1e6),
    st.integers(-10, 10).map(float),
)


def assert_same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> None:
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == y.dtype == np.float64
        assert x.tobytes() == y.tobytes()  # sign of zero and NaN payloads too


def both(fn_name: str, *args: object) -> tuple[object, object]:
    """Call a kernel in both implementations; return results, or the exceptions they raised."""
    results = []
    for module in (kernels, numpy_twins):
        try:
            results.append(getattr(module, fn_name)(*args))
        except (TypeError, ValueError) as exc:
            results.append(exc)
    return results[0], results[1]


@st.composite
def decimate_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    n = draw(st.integers(0, 300))
    t = draw(hnp.arrays(np.float64, n, elements=T_ELEMENT))
    order = draw(st.sampled_from(["ascending", "ascending", "unsorted", "descending", "constant"]))
    if order == "ascending":
        t = np.sort(t)
    elif order == "descending":
        t = -np.sort(t)
    elif order == "constant" and n:
        t[:] = t[0]
    constant = draw(st.booleans())  # a constant series is often all NaN or all inf
    y = np.full(n, draw(Y_ELEMENT)) if constant else draw(hnp.arrays(np.float64, n, elements=Y_ELEMENT))
    n_bins = draw(st.one_of(st.integers(1, 5), st.integers(1, 200)))
    return t, y, n_bins


DECIMATORS = pytest.mark.parametrize("decimator", ["minmax_decimate", "m4_decimate"])


@DECIMATORS
@SETTINGS
@given(case=decimate_case())
def test_minmax_decimate_parity(decimator: str, case: tuple[np.ndarray, np.ndarray, int]) -> None:
    compiled, twin = both(decimator, *case)
    assert_same(compiled, twin)


@DECIMATORS
@SETTINGS
@given(
    n=st.integers(3, 400),
    n_bins=st.integers(1, 50),
    nan_rate=st.sampled_from([0.0, 0.01, 0.5, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_minmax_decimate_parity_on_trends(decimator: str, n: int, n_bins: int, nan_rate: float, seed: int) -> None:
    """Realistic series: epoch timestamps with jitter and repeats, random walk with outages."""
    rng = np.random.default_rng(seed)
    t = 1.7e9 + np.cumsum(rng.choice([0.0, 0.001, 0.1, 1.0], size=n))
    y = np.cumsum(rng.standard_normal(n))
    y[rng.random(n) < nan_rate] = NAN
    assert_same(*both(decimator, t, y, n_bins))


# Few values, so that extremes tie across the SIMD kernel's lanes and 64-sample chunks, with -0.0 vs 0.0,
# all-inf and all-NaN stretches.
TIE_ELEMENT = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, INF, -INF, NAN])


@st.composite
def long_bins_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """Sorted t with bins of hundreds of samples: the vectorised scan's path, chunk tails included."""
    n = draw(st.integers(0, 3000))
    steps = draw(st.sampled_from(["even", "bursty"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = np.ones(n) if steps == "even" else rng.choice([0.0, 0.001, 1.0, 50.0], size=n)
    t = 1.7e9 + np.cumsum(dt)
    if draw(st.booleans()):
        y = draw(hnp.arrays(np.float64, n, elements=TIE_ELEMENT))
    else:
        y = np.cumsum(rng.standard_normal(n))
        y[rng.random(n) < draw(st.sampled_from([0.0, 0.001, 0.3]))] = NAN
    return t, y, draw(st.integers(1, 12))


@DECIMATORS
@pytest.mark.parametrize("assume_sorted", [False, True])
@SETTINGS
@given(case=long_bins_case())
def test_parity_on_long_bins(decimator: str, assume_sorted: bool, case: tuple[np.ndarray, np.ndarray, int]) -> None:
    t, y, n_bins = case
    compiled = getattr(kernels, decimator)(t, y, n_bins, assume_sorted=assume_sorted)
    assert_same(compiled, getattr(numpy_twins, decimator)(t, y, n_bins))


@pytest.mark.parametrize("indices", ["minmax_indices", "m4_indices"])
@SETTINGS
@given(case=decimate_case())
def test_index_variants_agree_with_the_decimators(indices: str, case: tuple[np.ndarray, np.ndarray, int]) -> None:
    compiled, twin = both(indices, *case)
    if isinstance(twin, Exception):
        assert (type(compiled), str(compiled)) == (type(twin), str(twin))
        return
    np.testing.assert_array_equal(compiled, twin)
    assert compiled.dtype == twin.dtype == np.intp
    t, y, n_bins = case
    assert_same((t[compiled], y[compiled]), getattr(kernels, indices.replace("indices", "decimate"))(t, y, n_bins))


@SETTINGS
@given(case=decimate_case())
def test_a_broken_sorted_promise_still_gives_a_subsequence(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    """assume_sorted=True on unsorted t: unspecified output, but never an index out of range or repeated."""
    t, y, n_bins = case
    if len(t) and not (np.isfinite(t[0]) and np.isfinite(t[-1])):
        return  # end points are always checked
    for kernel in (kernels.minmax_indices, kernels.m4_indices):
        idx = kernel(t, y, n_bins, assume_sorted=True)
        assert ((idx >= 0) & (idx < len(t))).all()
        assert (np.diff(idx) > 0).all()


@DECIMATORS
@SETTINGS
@given(
    t=hnp.arrays(np.float64, st.integers(0, 50), elements=st.one_of(T_ELEMENT, st.sampled_from([NAN, INF, -INF]))),
    n_bins=st.integers(-2, 30),
)
def test_minmax_decimate_errors_match(decimator: str, t: np.ndarray, n_bins: int) -> None:
    compiled, twin = both(decimator, t, np.zeros_like(t), n_bins)
    if isinstance(twin, Exception):
        assert type(compiled) is type(twin)
        assert str(compiled) == str(twin)
    else:
        assert_same(compiled, twin)


@pytest.mark.parametrize(
    "args",
    [
        (np.zeros((2, 2)), np.zeros(4), 1),
        (np.zeros(4), np.zeros((4, 1)), 1),
        (np.zeros(4), np.zeros(5), 1),
        (np.zeros(4), np.zeros(4), 0),
        (np.zeros(4), np.zeros(4), 1.5),
        (np.zeros(4), np.zeros(4), "2"),
        (["a", "b"], [1.0, 2.0], 1),
    ],
)
@DECIMATORS
def test_invalid_arguments_fail_the_same_way(decimator: str, args: tuple) -> None:
    compiled, twin = both(decimator, *args)
    assert isinstance(twin, Exception)
    assert type(compiled) is type(twin)
    assert str(compiled) == str(twin)


@SETTINGS
@given(y=hnp.arrays(np.float64, st.integers(0, 300), elements=Y_ELEMENT))
def test_nan_aware_minmax_parity(y: np.ndarray) -> None:
    compiled, twin = both("nan_aware_minmax", y)
    assert all(type(v) is float for v in (*compiled, *twin))
    np.testing.assert_array_equal(compiled, twin)  # equal as numbers: the sign of a zero extreme may differ


def test_nan_aware_minmax_errors_match() -> None:
    compiled, twin = both("nan_aware_minmax", np.zeros((3, 3)))
    assert type(compiled) is type(twin) is ValueError
    assert str(compiled) == str(twin)
