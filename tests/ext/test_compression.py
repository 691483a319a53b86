"""History compression: the documented error bound holds for every point (property-based), gaps
stay gaps, and the compiled kernels give exactly the twins' answer on random and adversarial input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ext import compression_twins as twins

SETTINGS = settings(max_examples=400, deadline=None, database=None)
kernels = pytest.importorskip(
    "ext._compression", reason="ext._compression is not compiled (python setup.py build_ext --inplace)"
)
IMPLEMENTATIONS = [pytest.param(twins, id="twin"), pytest.param(kernels, id="compiled")]


@st.composite
def series(draw, allow_gaps: bool = True) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 60))
    steps = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 0.001, 0.5, 1.0, 1.0, 3.0, 100.0])))
    t = np.cumsum(steps) + draw(st.floats(-1e6, 1e9))
    finite = st.floats(-1e6, 1e6)
    element = st.one_of(finite, st.sampled_from([math.nan, math.inf])) if allow_gaps else finite
    y = draw(hnp.arrays(np.float64, n, elements=element))
    return t, y


def reconstruction_errors(t: np.ndarray, y: np.ndarray, keep: np.ndarray) -> list[float]:
    """|y - line between the kept neighbours| for every finite point inside a finite segment."""
    errors = []
    for a, b in itertools.pairwise(keep):
        if not (math.isfinite(y[a]) and math.isfinite(y[b])):
            continue
        for j in range(a + 1, b):
            if t[b] == t[a]:
                continue
            line = y[a] + (y[b] - y[a]) * (t[j] - t[a]) / (t[b] - t[a])
            errors.append(abs(y[j] - line))
    return errors


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@SETTINGS
@given(data=series(), deviation=st.floats(0, 1e3), max_interval=st.sampled_from([math.inf, 0.5, 2.0, 50.0]))
def test_sdt_keeps_every_point_within_the_deviation(impl, data, deviation, max_interval):
    t, y = data
    keep = impl.sdt_compress(t, y, deviation, max_interval)
    assert keep.dtype == np.intp
    if len(t) == 0:
        assert len(keep) == 0
        return
    assert keep[0] == 0
    assert keep[-1] == len(t) - 1
    assert (np.diff(keep) > 0).all()
    tolerance = 1e-9 * (1 + np.nanmax(np.abs(np.where(np.isfinite(y), y, 0.0))))
    assert all(e <= deviation + tolerance for e in reconstruction_errors(t, y, keep))
    for i in np.flatnonzero(~np.isfinite(y)):  # a gap and both its edges are kept
        assert {i, max(i - 1, 0), min(i + 1, len(t) - 1)} <= set(keep.tolist())
    if math.isfinite(max_interval):
        gaps = np.diff(t[keep])
        raw = np.diff(t)
        assert all(g <= max_interval or g <= raw.max() for g in gaps)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_sdt_on_a_ramp_and_a_step(impl):
    t = np.arange(100.0)
    ramp = 2.0 * t
    assert impl.sdt_compress(t, ramp, 0.01).tolist() == [0, 99]  # a straight line needs its two ends
    step = np.where(t < 50, 0.0, 10.0)
    assert impl.sdt_compress(t, step, 0.5).tolist() == [0, 49, 50, 99]
    assert impl.sdt_compress(t, ramp, 0.01, max_interval=30.0).tolist() == [0, 30, 60, 90, 99]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@SETTINGS
@given(data=series(), band=st.floats(0, 1e3), max_interval=st.sampled_from([math.inf, 1.0, 10.0]))
def test_deadband_holds_every_point_within_the_band(impl, data, band, max_interval):
    t, y = data
    keep = impl.deadband_filter(t, y, band, max_interval)
    if len(t) == 0:
        assert len(keep) == 0
        return
    held = y[keep[np.searchsorted(keep, np.arange(len(t)), side="right") - 1]]  # step-hold reconstruction
    finite = np.isfinite(y)
    assert (np.isfinite(held) == finite).all()  # a gap is never bridged, a value never hidden by one
    assert (np.abs(y[finite] - held[finite]) <= band).all()


@SETTINGS
@given(data=series(), deviation=st.floats(0, 1e3), max_interval=st.sampled_from([math.inf, 0.5, 2.0]))
def test_compiled_and_twin_agree_exactly(data, deviation, max_interval):
    t, y = data
    np.testing.assert_array_equal(kernels.sdt_compress(t, y, deviation, max_interval),
                                  twins.sdt_compress(t, y, deviation, max_interval))
    np.testing.assert_array_equal(kernels.deadband_filter(t, y, deviation, max_interval),
                                  twins.deadband_filter(t, y, deviation, max_interval))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    ("t", "y", "deviation", "max_interval", "message"),
    [([0.0, 2.0, 1.0], [1.0, 2.0, 3.0], 0.1, math.inf, "t must not decrease"),
     ([0.0, math.nan], [1.0, 2.0], 0.1, math.inf, "t must be finite"),
     ([0.0, 2.0, 1.0, 5.0, math.inf], [1.0] * 5, 0.1, math.inf, "t must be finite"),  # both: reported alike
     ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0], 0.1, math.inf, "same length"),
     ([0.0, 1.0], [1.0, 2.0], -1.0, math.inf, "(deviation|deadband) must be a finite number >= 0"),
     ([0.0, 1.0], [1.0, 2.0], 0.1, 0.0, "max_interval must be > 0")],
)
def test_bad_arguments_are_named_the_same_way(impl, t, y, deviation, max_interval, message):
    for compress, name in ((impl.sdt_compress, "deviation"), (impl.deadband_filter, "deadband")):
        with pytest.raises(ValueError, match=message) as caught:
            compress(np.array(t), np.array(y), deviation, max_interval)
        if "finite number" in message:
            assert str(caught.value).startswith(name)  # each names its own parameter
