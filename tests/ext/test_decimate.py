"""minmax_decimate and nan_aware_minmax against hand-computed outputs and a pure-Python reference.

Every test runs on both implementations, so that the compiled kernel and its twin cannot agree on a wrong
answer; tests/ext/test_parity.py then holds them to bit-identical output on adversarial inputs.
"""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ext import numpy_twins

NAN, INF = math.nan, math.inf
NOT_BUILT = "ext._kernels is not compiled (python setup.py build_ext --inplace)"
SETTINGS = settings(max_examples=300, deadline=None, database=None)


@pytest.fixture(scope="module", params=["numpy", "compiled"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "numpy":
        return numpy_twins
    return pytest.importorskip("ext._kernels", reason=NOT_BUILT)


def reference_indices(t: list[float], y: list[float], n_bins: int) -> list[int]:
    """The spec, written as plainly as possible: indices of the samples minmax_decimate must keep."""
    n = len(t)
    if n <= 2 * n_bins:
        return list(range(n))
    span = t[-1] - t[0]
    scale = n_bins / span if span > 0 else 0.0
    if not math.isfinite(scale):
        scale = 0.0

    def bin_of(x: float) -> int:
        pos = (x - t[0]) * scale
        if pos >= n_bins:
            return n_bins - 1
        return math.floor(pos) if pos > 0 else 0

    runs: list[list[int]] = []
    for i in range(n):
        if runs and bin_of(t[i]) == bin_of(t[runs[-1][-1]]):
            runs[-1].append(i)
        else:
            runs.append([i])
    keep: list[int] = []
    for run in runs:
        values = [i for i in run if not math.isnan(y[i])]
        nans = [i for i in run if math.isnan(y[i])]
        chosen = set(nans[:1])
        if values:
            chosen |= {min(values, key=lambda i: y[i]), max(values, key=lambda i: y[i])}
        keep += sorted(chosen)
    return keep


def assert_bitwise_equal(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_array_equal(actual, expected)
    assert actual.dtype == np.float64
    assert actual.tobytes() == np.asarray(expected, dtype=np.float64).tobytes()


# --- hand-computed -----------------------------------------------------------------------------------

HAND_CASES = {
    # scale 2/9: samples 0-4 in bin 0, 5-9 in bin 1 (t[-1] lands on the edge and is clamped in).
    # In bin 1 the max (9 at t=5) comes before the min (2 at t=6) and is emitted first.
    "two bins, max before min": (
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [3, 1, 4, 1, 5, 9, 2, 6, 5, 3],
        2,
        [1, 4, 5, 6],
        [1, 5, 9, 2],
    ),
    # Bin 0 (t 0-3) has a NaN at t=1: emitted between its neighbours in time. Bin 1 is constant: 1 point.
    "gap inside a bin, constant bin": (
        [0, 1, 2, 3, 4, 5, 6, 7],
        [1, NAN, 3, 0, 5, 5, 5, 5],
        2,
        [1, 2, 3, 4],
        [NAN, 3, 0, 5],
    ),
    # Bin 1 (t 3-5) is all NaN: a single NaN point. ±inf are values: real extremes of bin 2.
    "all-NaN bin and infinities": (
        [0, 1, 2, 3, 4, 5, 6, 7, 8],
        [1, 2, 0, NAN, NAN, NAN, 7, -INF, INF],
        3,
        [1, 2, 3, 7, 8],
        [2, 0, NAN, -INF, INF],
    ),
    # Repeated timestamps: the last three share t[-1] and are clamped into the single bin.
    "one bin, repeated timestamps": ([0, 0, 0, 1, 1, 1], [5, 1, 3, 2, 8, 4], 1, [0, 1], [1, 8]),
    # Zero time span: everything is one bin. Order is max (t index 2), NaN (3), min (4).
    "zero time span": ([5, 5, 5, 5, 5], [2, 1, 3, NAN, 0], 2, [5, 5, 5], [3, NAN, 0]),
    # Clock stepping back at index 6 (t=0.5 falls in bin 0 again): runs are 0-3, 4-5, 6, 7-9.
    "clock step back": (
        [0, 1, 2, 3, 4, 5, 0.5, 6, 7, 8],
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        2,
        [0, 3, 4, 5, 0.5, 6, 8],
        [0, 3, 4, 5, 6, 7, 9],
    ),
    # A NaN that is also first in its bin opens the bin: the line breaks before the bin's values.
    "leading NaN": ([0, 1, 2, 3, 4], [NAN, 4, 1, 7, 2], 1, [0, 2, 3], [NAN, 1, 7]),
    # Ties: the first occurrence of the extreme is kept; -0.0 and 0.0 are equal, so t=0 wins.
    "ties keep the first": ([0, 1, 2, 3, 4], [0.0, -0.0, 0.0, 1, 1], 1, [0, 3], [0.0, 1]),
}


@pytest.mark.parametrize(("t", "y", "n_bins", "t_out", "y_out"), HAND_CASES.values(), ids=HAND_CASES.keys())
def test_hand_computed(impl: ModuleType, t: list, y: list, n_bins: int, t_out: list, y_out: list) -> None:
    got_t, got_y = impl.minmax_decimate(np.array(t, float), np.array(y, float), n_bins)
    assert_bitwise_equal(got_t, np.array(t_out, float))
    assert_bitwise_equal(got_y, np.array(y_out, float))


def test_realistic_trend(impl: ModuleType) -> None:
    """An hour at 10 Hz with a spike, a dip and an outage, drawn 100 px wide."""
    t = 1.7e9 + np.arange(36_000) * 0.1
    y = np.sin(np.arange(36_000) / 500.0)
    y[12_345] = 50.0
    y[23_456] = -50.0
    y[30_000:30_500] = np.nan
    t_out, y_out = impl.minmax_decimate(t, y, 100)
    assert t_out.size <= 3 * 100
    assert np.all(t_out[1:] >= t_out[:-1])
    assert (t[12_345], 50.0) in zip(t_out, y_out, strict=True)
    assert (t[23_456], -50.0) in zip(t_out, y_out, strict=True)
    assert t[30_000] in t_out[np.isnan(y_out)]
    np.testing.assert_array_equal(t_out, t[reference_indices(t.tolist(), y.tolist(), 100)])


@pytest.mark.parametrize("n", [0, 1, 2, 7, 8])
def test_short_input_is_copied_unchanged(impl: ModuleType, n: int) -> None:
    t = np.arange(n, dtype=np.float64)
    y = np.where(t == 1, np.nan, t * 2)
    t_out, y_out = impl.minmax_decimate(t, y, 4)
    np.testing.assert_array_equal(t_out, t)
    np.testing.assert_array_equal(y_out, y)
    assert not np.shares_memory(t_out, t)
    assert not np.shares_memory(y_out, y)


def test_outputs_are_new_float64_arrays(impl: ModuleType) -> None:
    t = np.arange(100, dtype=np.float64)
    y = t.copy()
    t.flags.writeable = False  # read-only input must be accepted
    for n_bins in (10, 1000):
        t_out, y_out = impl.minmax_decimate(t, y, n_bins)
        for out, src in ((t_out, t), (y_out, y)):
            assert out.dtype == np.float64
            assert out.flags.c_contiguous
            assert out.flags.writeable
            assert not np.shares_memory(out, src)


def test_accepts_other_numeric_inputs(impl: ModuleType) -> None:
    """Lists, ints, float32 and strided views are converted; the result does not depend on the form."""
    t = np.arange(40, dtype=np.float64)
    y = (t * 7) % 11
    expected = impl.minmax_decimate(t, y, 3)
    for t_in, y_in, n_bins in (
        (t.tolist(), y.tolist(), 3),
        (t.astype(np.int32), y.astype(np.float32), np.int64(3)),
        (np.repeat(t, 2)[::2], np.repeat(y, 2)[::2], 3),
    ):
        got = impl.minmax_decimate(t_in, y_in, n_bins)
        for g, e in zip(got, expected, strict=True):
            assert_bitwise_equal(g, e)


@pytest.mark.parametrize(
    ("t", "y", "n_bins", "error", "match"),
    [
        (np.zeros((2, 3)), np.zeros(6), 1, ValueError, r"t must be 1-D, got shape \(2, 3\)"),
        (np.zeros(3), 1.0, 1, ValueError, r"y must be 1-D, got shape \(\)"),
        (np.zeros(3), np.zeros(4), 1, ValueError, "t and y must have the same length, got 3 and 4"),
        (np.zeros(3), np.zeros(3), 0, ValueError, "n_bins must be >= 1, got 0"),
        (np.zeros(3), np.zeros(3), -2, ValueError, "n_bins must be >= 1, got -2"),
        (np.zeros(3), np.zeros(3), 2.0, TypeError, None),
        (np.array([0.0, NAN, 2.0]), np.zeros(3), 5, ValueError, "t must be finite"),
        (np.r_[np.arange(9.0), INF], np.zeros(10), 2, ValueError, "t must be finite"),
        (np.r_[0.0, NAN, np.arange(8.0)], np.zeros(10), 2, ValueError, "t must be finite"),
        (np.r_[0.0, -INF, np.arange(8.0)], np.zeros(10), 2, ValueError, "t must be finite"),
        (np.r_[-INF, np.arange(9.0)], np.zeros(10), 2, ValueError, "t must be finite"),
    ],
)
def test_rejects_invalid_arguments(
    impl: ModuleType, t: object, y: object, n_bins: object, error: type[Exception], match: str | None
) -> None:
    with pytest.raises(error, match=match):
        impl.minmax_decimate(t, y, n_bins)


# --- against the reference ---------------------------------------------------------------------------

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
SPECIAL = st.sampled_from([NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0])


@st.composite
def series(draw: st.DrawFn, ascending: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """A (t, y, n_bins) case; t is finite, y anything, including gaps, infinities and constants."""
    n = draw(st.integers(0, 150))
    t_kind = draw(st.sampled_from(["regular", "ints", "any", "constant"]))
    if t_kind == "regular":
        t0 = draw(st.floats(-1e10, 1e10))
        dt = draw(st.floats(1e-6, 1e3))
        t = t0 + np.arange(n) * dt
    elif t_kind == "ints":  # many ties and samples exactly on bin edges
        t = draw(hnp.arrays(np.float64, n, elements=st.integers(-20, 20).map(float)))
    elif t_kind == "any":  # huge and tiny spans: overflowing and denormal bin scales
        t = draw(hnp.arrays(np.float64, n, elements=st.floats(allow_nan=False, allow_infinity=False)))
    else:
        t = np.full(n, draw(st.floats(-1e3, 1e3)))
    if ascending:
        t = np.sort(t)

    y_kind = draw(st.sampled_from(["any", "constant", "gappy"]))
    if y_kind == "constant":
        y = np.full(n, draw(st.one_of(SPECIAL, ANY_FLOAT)))
    else:
        y = draw(hnp.arrays(np.float64, n, elements=st.one_of(ANY_FLOAT, SPECIAL)))
        if y_kind == "gappy" and n:
            y[draw(hnp.arrays(bool, n))] = NAN
    n_bins = draw(st.one_of(st.integers(1, 8), st.integers(1, 100)))
    return t, y, n_bins


@SETTINGS
@given(case=series(ascending=False))
def test_matches_reference(impl: ModuleType, case: tuple[np.ndarray, np.ndarray, int]) -> None:
    t, y, n_bins = case
    idx = reference_indices(t.tolist(), y.tolist(), n_bins)
    t_out, y_out = impl.minmax_decimate(t, y, n_bins)
    assert_bitwise_equal(t_out, t[idx])
    assert_bitwise_equal(y_out, y[idx])


@SETTINGS
@given(case=series())
def test_drawing_guarantees(impl: ModuleType, case: tuple[np.ndarray, np.ndarray, int]) -> None:
    """What the trend widget relies on, stated directly rather than through the reference."""
    t, y, n_bins = case
    t_out, y_out = impl.minmax_decimate(t, y, n_bins)
    has_nan = bool(np.isnan(y).any())
    assert t_out.size <= min(t.size, (3 if has_nan else 2) * n_bins) or t.size <= 2 * n_bins
    assert np.all(t_out[1:] >= t_out[:-1])
    values = y[~np.isnan(y)]
    if values.size:  # the extremes of the whole series survive
        assert values.min() in y_out
        assert values.max() in y_out
    assert bool(np.isnan(y_out).any()) == has_nan  # a gap stays a gap


# --- nan_aware_minmax --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([3.0, -1.0, 2.0], (-1.0, 3.0)),
        ([NAN, 5.0, NAN, -INF, INF, 4.0], (4.0, 5.0)),
        ([7.0], (7.0, 7.0)),
        ([], (NAN, NAN)),
        ([NAN, INF, -INF], (NAN, NAN)),
    ],
)
def test_nan_aware_minmax_hand_computed(impl: ModuleType, y: list, expected: tuple[float, float]) -> None:
    lo, hi = impl.nan_aware_minmax(np.array(y, dtype=np.float64))
    assert type(lo) is float
    assert type(hi) is float
    np.testing.assert_array_equal((lo, hi), expected)


@SETTINGS
@given(y=hnp.arrays(np.float64, st.integers(0, 100), elements=st.one_of(ANY_FLOAT, SPECIAL)))
def test_nan_aware_minmax_matches_reference(impl: ModuleType, y: np.ndarray) -> None:
    finite = [v for v in y.tolist() if math.isfinite(v)]
    expected = (min(finite), max(finite)) if finite else (NAN, NAN)
    np.testing.assert_array_equal(impl.nan_aware_minmax(y), expected)


def test_nan_aware_minmax_rejects_2d(impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="y must be 1-D"):
        impl.nan_aware_minmax(np.zeros((2, 2)))


def test_m4_keeps_each_columns_first_and_last_too(impl: ModuleType) -> None:
    t = np.arange(40.0)
    y = np.array([5.0, 9, 1, 4, 3, 2, 8, 0, 6, 7] * 4)  # four bins of ten: max at 1, min at 7
    y[25] = NAN
    got_t, got_y = impl.m4_decimate(t, y, 4)
    # per bin: first (0), max (1), min (7), last (9); bin 2 also its first NaN (25)
    assert got_t.tolist() == [0, 1, 7, 9, 10, 11, 17, 19, 20, 21, 25, 27, 29, 30, 31, 37, 39]
    assert_bitwise_equal(got_y, y[got_t.astype(int)])
    assert impl.m4_decimate(t[:16], y[:16], 4)[0].tolist() == t[:16].tolist()  # <= 4 per bin: a copy
