"""History compression: the documented error bound holds for every point (property-based), gaps
stay gaps, and the compiled kernels give exactly the twins' answer on random and adversarial input."""

from __future__ import annotations

import dataclasses
import itertools
import math
import struct

import numpy as np
import pytest
from hypothesis import example, given, settings
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


def test_sdt_keeps_no_point_twice_when_the_slope_is_nan():
    # dt subnormal: 1 / dt is inf and the slope 0 * inf NaN, which breaks the doors at the pivot itself
    t, y = np.array([0.0, 5e-324, 1.0]), np.array([1.0, 1.0, 1.0])
    assert twins.sdt_compress(t, y, 0.1).tolist() == kernels.sdt_compress(t, y, 0.1).tolist() == [0, 2]


# -- streams: sdt_stream and deadband_stream ----------------------------------------------------------

STREAMS = {"sdt": ("sdt_stream", "sdt_compress"), "deadband": ("deadband_stream", "deadband_filter")}


@st.composite
def adversarial_series(draw) -> tuple[np.ndarray, np.ndarray]:
    """Duplicate, subnormal and huge time steps; signed zeros, extremes, NaN and both infinities."""
    n = draw(st.integers(0, 40))
    steps = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 0.0, 5e-324, 1e-300, 0.001, 1.0, 1e300])))
    t = np.cumsum(steps) + draw(st.sampled_from([0.0, -1e6, 1.7e9, -1e300]))
    special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 5e-324, 1e308, -1e308, math.nan, math.inf, -math.inf])
    y = draw(hnp.arrays(np.float64, n, elements=st.one_of(special, st.floats(-1e6, 1e6))))
    return t, y


@st.composite
def split(draw, data) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """A series and where it is cut into batches (repeated cuts give empty batches)."""
    t, y = draw(data)
    cuts = sorted(draw(st.lists(st.integers(0, len(t)), max_size=6)))
    return t, y, [0, *cuts, len(t)]


def feed(stream, t, y, bounds, params, finals, max_interval):  # type: ignore[no-untyped-def]
    """Calls ``stream`` batch by batch; (times, values, state) of each call."""
    state, calls = None, []
    for (a, b), param, final in zip(itertools.pairwise(bounds), params, finals, strict=True):
        out_t, out_y, state = stream(t[a:b], y[a:b], param, max_interval, state=state, final=final)
        assert out_t.dtype == out_y.dtype == np.float64
        assert out_t.ndim == 1
        assert out_t.shape == out_y.shape
        calls.append((out_t, out_y, state))
    return calls


def joined(calls) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    return b"".join(c[0].tobytes() for c in calls), b"".join(c[1].tobytes() for c in calls)


def state_bits(state) -> tuple:  # type: ignore[no-untyped-def]
    """A state's fields, floats as their bits (NaN equals NaN, -0.0 differs from 0.0); plain floats and bools."""
    values = [getattr(state, f.name) for f in dataclasses.fields(state)]
    assert all(type(v) in (float, bool) for v in values), values
    return type(state), tuple(struct.pack("<d", v) if type(v) is float else v for v in values)


def deadband_stream_reference(impl, t, y, band, max_interval) -> np.ndarray:  # type: ignore[no-untyped-def]
    """What deadband_stream keeps of a whole series ending with final=True: deadband_filter's points, the
    last finite point before each non-finite one, and the last point."""
    keep = set(impl.deadband_filter(t, y, band, max_interval).tolist())
    finite = np.isfinite(y)
    keep |= {i - 1 for i in range(1, len(y)) if finite[i - 1] and not finite[i]}
    keep |= {len(y) - 1} if len(y) else set()
    return np.array(sorted(keep), dtype=np.intp)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("kind", STREAMS)
@SETTINGS
@given(data=split(st.one_of(series(), adversarial_series())), param=st.floats(0, 1e3),
       max_interval=st.sampled_from([math.inf, 0.5, 2.0, 50.0]))
def test_a_stream_keeps_what_one_call_keeps(impl, kind, data, param, max_interval):
    t, y, bounds = data
    stream, batch = (getattr(impl, name) for name in STREAMS[kind])
    n_calls = len(bounds) - 1
    calls = feed(stream, t, y, bounds, [param] * n_calls, [False] * (n_calls - 1) + [True], max_interval)
    if kind == "sdt":
        keep = batch(t, y, param, max_interval)
    else:
        keep = deadband_stream_reference(impl, t, y, param, max_interval)
    assert joined(calls) == (t[keep].tobytes(), y[keep].tobytes())
    end = calls[-1][2]  # after final: a fresh state, but for the last point (time order is still checked)
    assert state_bits(end) == state_bits(type(end)(end.last_t, end.last_y))


@pytest.mark.parametrize("kind", STREAMS)
@SETTINGS
@given(data=split(st.one_of(series(), adversarial_series())), params=st.lists(st.floats(0, 1e3), min_size=7),
       finals=st.lists(st.booleans(), min_size=7), max_interval=st.sampled_from([math.inf, 0.5, 2.0]))
def test_compiled_and_twin_streams_agree_exactly(kind, data, params, finals, max_interval):
    t, y, bounds = data
    n_calls = len(bounds) - 1  # parameters retuned between batches, streams ended anywhere: states must agree
    compiled, twin = (feed(getattr(m, STREAMS[kind][0]), t, y, bounds, params[:n_calls], finals[:n_calls],
                           max_interval) for m in (kernels, twins))
    for (ct, cy, cstate), (tt, ty, tstate) in zip(compiled, twin, strict=True):
        assert (ct.tobytes(), cy.tobytes()) == (tt.tobytes(), ty.tobytes())
        assert state_bits(cstate) == state_bits(tstate)


def archived_indices(t: np.ndarray, y: np.ndarray, out_t: np.ndarray, out_y: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Where the streamed points are in the input (a subsequence of it: matched bit for bit, each to the first
    candidate), and the run of each input point: consecutive points with the same time and value are one run. Which of
    a run was archived cannot be told from the output, and makes no difference to the reconstruction."""
    tb, yb, otb, oyb = (a.view(np.int64).tolist() for a in (t, y, out_t, out_y))
    found = []
    for i in range(len(tb)):
        if len(found) < len(otb) and (tb[i], yb[i]) == (otb[len(found)], oyb[len(found)]):
            found.append(i)
    assert len(found) == len(otb)
    # a run: consecutive points equal in value (0.0 and -0.0 are one run: the output cannot tell them apart)
    same = [t[i] == t[i - 1] and (y[i] == y[i - 1] or (np.isnan(y[i]) and np.isnan(y[i - 1])))
            for i in range(1, len(tb))]
    new_run = [True] + [not s for s in same]
    return np.array(found, dtype=np.intp), np.cumsum(new_run[: len(tb)])


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@SETTINGS
@given(data=split(series()), deviation=st.floats(0, 1e3), max_interval=st.sampled_from([math.inf, 0.5, 2.0]))
@example(data=(np.array([0.0, 0.001, 0.001, 0.001]), np.array([0.0, 0.0, -0.0, 0.0]), [0, 4]), deviation=0.0,
         max_interval=math.inf)  # -0.0 between equal points: one run, not three
def test_sdt_stream_keeps_every_point_within_the_deviation(impl, data, deviation, max_interval):
    t, y, bounds = data
    n_calls = len(bounds) - 1
    calls = feed(impl.sdt_stream, t, y, bounds, [deviation] * n_calls, [False] * (n_calls - 1) + [True], max_interval)
    out_t, out_y = np.concatenate([c[0] for c in calls]), np.concatenate([c[1] for c in calls])
    keep, run = archived_indices(t, y, out_t, out_y)
    kept_runs = set(run[keep].tolist())
    if len(t):
        assert {run[0], run[-1]} <= kept_runs
    tolerance = 1e-9 * (1 + np.nanmax(np.abs(np.where(np.isfinite(y), y, 0.0)), initial=0.0))
    assert all(e <= deviation + tolerance for e in reconstruction_errors(t, y, keep))
    for i in np.flatnonzero(~np.isfinite(y)):  # no line crosses a gap
        assert {run[i], run[max(i - 1, 0)], run[min(i + 1, len(t) - 1)]} <= kept_runs


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_sdt_stream_archives_the_last_point_of_the_batch_before(impl):
    out_t, out_y, state = impl.sdt_stream([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], 0.1)
    assert (out_t.tolist(), out_y.tolist()) == ([0.0], [0.0])
    assert (state.last_t, state.last_y, state.last_archived) == (2.0, 2.0, False)
    assert (state.pivot_t, state.pivot_y) == (0.0, 0.0)
    out_t, out_y, state = impl.sdt_stream([3.0, 4.0], [10.0, 10.0], 0.1, state=state, final=True)
    assert (out_t.tolist(), out_y.tolist()) == ([2.0, 3.0, 4.0], [2.0, 10.0, 10.0])  # the step breaks the doors
    assert state.last_archived
    assert math.isnan(state.pivot_y)
    assert state.last_t == 4.0


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_deadband_stream_keeps_the_last_value_before_a_gap(impl):
    out_t, _, state = impl.deadband_stream([0.0, 1.0, 2.0], [1.0, 1.1, 1.2], 0.5)
    assert out_t.tolist() == [0.0]
    out_t, out_y, state = impl.deadband_stream([3.0, 4.0], [math.nan, 1.0], 0.5, state=state)
    assert out_t.tolist() == [2.0, 3.0, 4.0]
    assert out_y[0] == 1.2
    assert math.isnan(out_y[1])
    assert impl.deadband_filter([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 1.1, 1.2, math.nan, 1.0], 0.5).tolist() == [0, 3, 4]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("kind", STREAMS)
def test_a_flat_stream_is_archived_every_max_interval(impl, kind):
    stream = getattr(impl, STREAMS[kind][0])
    t, y = np.arange(100.0), np.full(100, 5.0)
    bounds = list(range(0, 101, 10))
    calls = feed(stream, t, y, bounds, [0.5] * 10, [False] * 9 + [True], 30.0)
    assert np.concatenate([c[0] for c in calls]).tolist() == [0.0, 30.0, 60.0, 90.0, 99.0]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("kind", STREAMS)
def test_final_ends_a_stream_and_the_next_batch_starts_one(impl, kind):
    stream = getattr(impl, STREAMS[kind][0])
    _, _, state = stream([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], 0.5)
    out_t, _, after = stream(np.empty(0), np.empty(0), 0.5, state=state)  # an empty batch changes nothing
    assert out_t.shape == (0,)
    assert state_bits(after) == state_bits(state)
    out_t, _, ended = stream([], [], 0.5, state=state, final=True)  # a gap: the held point is archived
    assert out_t.tolist() == [2.0]
    assert stream([], [], 0.5, state=ended, final=True)[0].shape == (0,)  # once
    with pytest.raises(ValueError, match=twins.DECREASING_T_MESSAGE):  # time order still holds
        stream([1.5, 3.0], [0.0, 0.0], 0.5, state=ended)
    out_t, _, _ = stream([2.0, 3.0, 4.0], [0.0, 0.0, 0.0], 0.5, state=ended)
    assert out_t.tolist() == [2.0]  # a new stream: its first point is kept (at the time it left off)
    assert state_bits(ended) == state_bits(type(state)(2.0, 0.0))  # as if state=None, but for the time


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("kind", STREAMS)
def test_a_batch_going_back_in_time_is_refused_and_changes_nothing(impl, kind):
    stream = getattr(impl, STREAMS[kind][0])
    t, y = np.arange(10.0), np.sin(np.arange(10.0))
    first_t, first_y, state = stream(t[:5], y[:5], 0.1)
    for bad_t, message in (([3.0, 6.0], twins.DECREASING_T_MESSAGE), ([5.0, 4.5], twins.DECREASING_T_MESSAGE),
                           ([3.0, math.nan], "t must be finite"), ([math.inf, 6.0], "t must be finite")):
        with pytest.raises(ValueError, match=message):
            stream(np.array(bad_t), np.zeros(2), 0.1, state=state, final=True)
    rest = stream(t[5:], y[5:], 0.1, state=state, final=True)  # the state is still the one to pass
    whole = stream(t, y, 0.1, final=True)
    assert np.concatenate([first_t, rest[0]]).tolist() == whole[0].tolist()
    assert np.concatenate([first_y, rest[1]]).tolist() == whole[1].tolist()
    assert state_bits(rest[2]) == state_bits(whole[2])


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_stream_refuses_another_kind_of_state(impl):
    _, _, sdt_state = impl.sdt_stream([0.0], [1.0], 0.1)
    with pytest.raises(TypeError, match="DeadbandState returned by deadband_stream, not SdtState"):
        impl.deadband_stream([1.0], [1.0], 0.1, state=sdt_state)
    with pytest.raises(TypeError, match="SdtState returned by sdt_stream, not dict"):
        impl.sdt_stream([1.0], [1.0], 0.1, state={})


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    ("t", "y", "param", "max_interval", "message"),
    [([0.0, 2.0, 1.0], [1.0, 2.0, 3.0], 0.1, math.inf, "t must not decrease"),
     ([0.0, 2.0, 1.0, 5.0, math.inf], [1.0] * 5, 0.1, math.inf, "t must be finite"),
     ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0], 0.1, math.inf, "same length"),
     ([[0.0, 1.0]], [[1.0, 2.0]], 0.1, math.inf, "t must be 1-D"),
     ([0.0, 1.0], [1.0, 2.0], math.inf, math.inf, "(deviation|deadband) must be a finite number >= 0"),
     ([0.0, 1.0], [1.0, 2.0], math.nan, math.inf, "(deviation|deadband) must be a finite number >= 0"),
     ([0.0, 1.0], [1.0, 2.0], 0.1, -1.0, "max_interval must be > 0")],
)
def test_streams_check_their_arguments_as_the_batch_kernels_do(impl, t, y, param, max_interval, message):
    for kind in STREAMS:
        for name in STREAMS[kind]:
            with pytest.raises(ValueError, match=message):
                getattr(impl, name)(np.array(t), np.array(y), param, max_interval)
