"""Time-bucket roll-ups (rollup_stream): a slow reference written from the definition, in exact rational
arithmetic, agrees with both implementations; a stream gives exactly the rows of one call over any split;
and the compiled kernel gives exactly the twin's rows and states, on random and adversarial input."""

from __future__ import annotations

import dataclasses
import itertools
import math
import struct
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ext
from ext import rollup_twins as twins
from ext.compression_twins import DECREASING_T_MESSAGE
from ext.rollup_twins import EMPTY_ROLLUPS, FIELDS, INT_FIELDS, OVERFLOW_MESSAGE, Rollups, RollupState

SETTINGS = settings(max_examples=400, deadline=None, database=None)
kernels = pytest.importorskip(
    "ext._rollups", reason="ext._rollups is not compiled (python setup.py build_ext --inplace)"
)
IMPLEMENTATIONS = [pytest.param(twins, id="twin"), pytest.param(kernels, id="compiled")]
NAN, INF = math.nan, math.inf
NEG_NAN = struct.unpack("<d", struct.pack("<Q", 0xFFF8_0000_0000_0001))[0]  # sign and payload: kept as stored

HOUR = 1_699_999_200.0  # a multiple of 3600 (and of 60): samples land on bucket edges


# -- strategies -----------------------------------------------------------------------------------------


@st.composite
def series(draw, max_n: int = 40, adversarial: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time steps that repeat, cross a bucket, land on edges and skip many buckets; NaN and bad qualities."""
    n = draw(st.integers(0, max_n))
    steps = [0.0, 0.0, 0.25, 1.0, 7.5, 30.0, 59.75, 60.0, 120.0, 900.0, 3600.0, 10_000.0]
    if adversarial:
        steps += [5e-324, 1e-9, 1e9]
    dt = draw(hnp.arrays(np.float64, n, elements=st.sampled_from(steps)))
    t0 = draw(st.sampled_from([0.0, HOUR, HOUR + 59.75, HOUR - 0.25, -7200.0, 30.0]))
    t = t0 + np.cumsum(dt)
    values = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, -0.0, 1.0, NAN]))
    if adversarial:
        values = st.one_of(values, st.floats(), st.sampled_from([INF, -INF, 1e308, -1e308, 5e-324, NEG_NAN]))
    y = draw(hnp.arrays(np.float64, n, elements=values))
    q = draw(hnp.arrays(np.int64, n, elements=st.sampled_from([0, 0, 0, 0, 1, 192, -5])))
    return t, y, q


BUCKETS = st.sampled_from([60.0, 3600.0, 60.0, 1.0, 7.0, 0.25])


@st.composite
def stop_after(draw, end: float, next_t: float | None) -> float | None:
    """A final_at for a part ending at ``end`` (None: no stop); not after the next part's first sample."""
    if next_t is None:
        offset = draw(st.sampled_from([None, None, 0.0, 0.25, 30.0, 60.0, 3600.0, 100_000.0]))
        return None if offset is None else end + offset
    return draw(st.sampled_from([None, None, end, (end + next_t) / 2, next_t]))


def cut(draw, t: np.ndarray, stops: bool) -> list[tuple[int, int, float | None]]:
    """Cut a series into calls (repeated cuts: empty calls), each maybe ending with a stop (``final_at``);
    without ``stops`` only the last call may end with one."""
    cuts = sorted(draw(st.lists(st.integers(0, len(t)), max_size=6)))
    bounds = [0, *cuts, len(t)]
    reached = float(t[0]) - 1.0 if len(t) else 0.0  # where the stream is: its last sample, or the stop after it
    plan = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        if b > a:
            reached = float(t[b - 1])
        final_at = None
        if stops or i == len(bounds) - 2:
            final_at = draw(stop_after(reached, float(t[b]) if b < len(t) else None))
        reached = reached if final_at is None else final_at
        plan.append((a, b, final_at))
    return plan


@st.composite
def stream_case(draw, stops: bool = True, adversarial: bool = False):  # type: ignore[no-untyped-def]
    t, y, q = draw(series(adversarial=adversarial))
    return t, y, q, cut(draw, t, stops)


# -- feeding and comparing ------------------------------------------------------------------------------


def feed(impl, t, y, q, bucket_s, analog, plan):  # type: ignore[no-untyped-def]
    """Calls ``impl.rollup_stream`` per the plan; (rows, state) of each call. ``analog`` may be one per call."""
    state, out = None, []
    for i, (a, b, final_at) in enumerate(plan):
        lin = analog[i] if isinstance(analog, list) else analog
        rows, state = impl.rollup_stream(t[a:b], y[a:b], q[a:b], bucket_s, lin, state=state, final_at=final_at)
        check_shape(rows)
        out.append((rows, state))
    return out


def check_shape(rows: Rollups) -> None:
    assert type(rows) is Rollups
    n = len(rows.start)
    for name in FIELDS:
        column = getattr(rows, name)
        assert type(column) is np.ndarray
        assert column.shape == (n,)
        assert column.dtype == (np.int64 if name in INT_FIELDS else np.float64), name
    assert len(rows) == n


def joined(results) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The rows of several calls, one after the other, as bytes (bit for bit: NaN signs and payloads too)."""
    return {name: b"".join(getattr(rows, name).tobytes() for rows, _ in results) for name in FIELDS}


def row_bits(rows: Rollups) -> dict[str, bytes]:
    return {name: getattr(rows, name).tobytes() for name in FIELDS}


def state_bits(state: RollupState) -> tuple:
    """A state's fields, floats as their bits; plain floats and ints only (O(1), nothing else inside)."""
    values = [getattr(state, f.name) for f in dataclasses.fields(state)]
    assert all(type(v) in (float, int) for v in values), values
    assert type(state) is RollupState
    return tuple(struct.pack("<d", v) if type(v) is float else v for v in values)


# -- the reference: every closed bucket, every sample and segment, in exact rational arithmetic -------------


def line(a: Fraction, ya: Fraction, c: Fraction, yc: Fraction):  # type: ignore[no-untyped-def]
    slope = (yc - ya) / (c - a)
    return lambda x: ya + slope * (x - a)


def reference(t, y, q, bucket_s, analog, final_at) -> list[dict]:  # type: ignore[no-untyped-def]
    """The rows of one stream (one call, final_at or not), straight from the definition. Finite values only."""
    n = len(t)
    t, y, q = t.tolist(), y.tolist(), q.tolist()
    k_of = [math.floor(x / bucket_s) for x in t]
    good = [q[i] == 0 and not math.isnan(y[i]) for i in range(n)]
    segments = []  # (a, c, value at x or None when not good), every sample's, up to the next or final_at
    for i in range(n):
        if i + 1 < n:
            c = t[i + 1]
        elif final_at is not None:
            c = final_at
        else:
            continue  # the last sample's segment is still open: not counted
        a = Fraction(t[i])
        if not good[i]:
            value = None
        elif analog and i + 1 < n and good[i + 1] and c > t[i]:
            value = line(a, Fraction(y[i]), Fraction(c), Fraction(y[i + 1]))
        else:
            value = line(a, Fraction(y[i]), a + 1, Fraction(y[i]))  # held
        segments.append((a, Fraction(c), value))
    closed = sorted(set(k_of))
    if final_at is None and n:
        closed.remove(k_of[-1])  # still open
    rows = []
    for k in closed:
        start, end = Fraction(k * bucket_s), Fraction((k + 1) * bucket_s)
        members = [i for i in range(n) if k_of[i] == k]
        values = [Fraction(y[i]) for i in members if good[i]]
        extremes = list(values)
        integral = good_s = covered_s = Fraction(0)
        for a, c, value in segments:
            lo, hi = max(a, start), min(c, end)
            if hi > lo:
                covered_s += hi - lo
                if value is not None:
                    good_s += hi - lo
                    integral += (hi - lo) * (value(lo) + value(hi)) / 2  # exact: the value is linear
            if value is not None:
                if a < start < c:  # covers the bucket's start, coming in from before
                    extremes.append(value(start))
                if a < end <= c:  # reaches the bucket's end (its limit from the left)
                    extremes.append(value(end))
        first, last = members[0], members[-1]
        rows.append({
            "start": k * bucket_s, "count": len(members), "good_count": len(values), "sum": float(sum(values)),
            "min": float(min(extremes)) if extremes else NAN, "max": float(max(extremes)) if extremes else NAN,
            "first_t": t[first], "first_y": y[first], "first_q": q[first],
            "last_t": t[last], "last_y": y[last], "last_q": q[last],
            "integral": float(integral), "good_s": float(good_s), "covered_s": float(covered_s),
        })
    return rows


def reference_of_plan(t, y, q, bucket_s, analog, plan) -> list[dict]:  # type: ignore[no-untyped-def]
    """The reference over each run of calls ended by a stop (and the last, open run)."""
    rows, begin = [], 0
    for _, b, final_at in plan:
        if final_at is not None:
            rows += reference(t[begin:b], y[begin:b], q[begin:b], bucket_s, analog, final_at)
            begin = b
    end = plan[-1][1] if plan else 0
    return rows + reference(t[begin:end], y[begin:end], q[begin:end], bucket_s, analog, None)


def assert_rows_match(got: Rollups, expected: list[dict], scale: float, bucket_s: float) -> None:
    """Exact where the kernel only copies or counts; to rounding where it computes."""
    assert len(got) == len(expected)
    value_tol = 1e-9 * scale
    for i, row in enumerate(expected):
        for name in ("start", "count", "good_count", "first_t", "first_q", "last_t", "last_q"):
            assert getattr(got, name)[i] == row[name], (i, name)
        for name in ("first_y", "last_y"):
            assert struct.pack("<d", getattr(got, name)[i]) == struct.pack("<d", row[name]), (i, name)
        for name in ("sum", "min", "max"):
            assert getattr(got, name)[i] == pytest.approx(row[name], rel=1e-12, abs=value_tol, nan_ok=True), (i, name)
        for name in ("good_s", "covered_s"):
            assert getattr(got, name)[i] == pytest.approx(row[name], rel=1e-12, abs=1e-9 * bucket_s), (i, name)
        assert got.integral[i] == pytest.approx(row["integral"], rel=1e-9, abs=value_tol * bucket_s), i


def concat(results) -> Rollups:  # type: ignore[no-untyped-def]
    return Rollups(*(np.concatenate([getattr(rows, name) for rows, _ in results]) for name in FIELDS))


# -- the definition ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@SETTINGS
@given(case=stream_case(), bucket_s=BUCKETS, analog=st.booleans())
def test_rows_match_a_reference_written_from_the_definition(impl, case, bucket_s, analog):
    t, y, q, plan = case
    got = concat(feed(impl, t, y, q, bucket_s, analog, plan))
    expected = reference_of_plan(t, y, q, bucket_s, analog, plan)
    scale = 1.0 + float(np.nanmax(np.abs(y), initial=0.0))
    assert_rows_match(got, expected, scale, bucket_s)
    assert (np.diff(got.start) >= 0).all()  # in time order (a stop and a restart may repeat a bucket)
    assert (got.count >= 1).all()
    assert (got.good_count <= got.count).all()
    assert (got.good_s <= got.covered_s).all()
    assert (got.covered_s <= bucket_s).all()


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@SETTINGS
@given(case=stream_case(stops=False, adversarial=True), bucket_s=BUCKETS, analog=st.booleans())
def test_a_stream_gives_exactly_the_rows_of_one_call(impl, case, bucket_s, analog):
    t, y, q, plan = case
    final_at = plan[-1][2]
    streamed = feed(impl, t, y, q, bucket_s, analog, plan)
    batch_rows, batch_state = impl.rollup_stream(t, y, q, bucket_s, analog, final_at=final_at)
    assert joined(streamed) == row_bits(batch_rows)
    assert state_bits(streamed[-1][1]) == state_bits(batch_state)


@SETTINGS
@given(case=stream_case(adversarial=True), bucket_s=BUCKETS, analog=st.lists(st.booleans(), min_size=7, max_size=7))
def test_compiled_and_twin_agree_exactly(case, bucket_s, analog):
    t, y, q, plan = case  # stops anywhere, analog switched between calls: every call's rows and state must agree
    for (c_rows, c_state), (t_rows, t_state) in zip(feed(kernels, t, y, q, bucket_s, analog, plan),
                                                    feed(twins, t, y, q, bucket_s, analog, plan), strict=True):
        assert row_bits(c_rows) == row_bits(t_rows)
        assert state_bits(c_state) == state_bits(t_state)


@SETTINGS
@given(data=series(max_n=12), bucket_s=BUCKETS, layout=st.sampled_from(["list", "strided", "float32", "int32", "be"]))
def test_any_array_like_gives_what_float64_arrays_give(data, bucket_s, layout):
    t, y, q = data
    if layout == "list":
        args = (t.tolist(), y.tolist(), q.tolist())
    elif layout == "strided":
        args = tuple(np.repeat(a, 2)[::2] for a in (t, y, q))
    elif layout == "float32":
        t, y = t.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64)
        args = (t.astype(np.float32), y.astype(np.float32), q)
    elif layout == "int32":
        args = (t, y, q.astype(np.int32))
    else:
        args = (t.astype(">f8"), y.astype(">f8"), q.astype(">i8"))
    expected = twins.rollup_stream(t, y, q, bucket_s, True, final_at=float(t[-1]) if len(t) else None)
    for impl in (twins, kernels):
        got = impl.rollup_stream(*args, bucket_s, True, final_at=float(t[-1]) if len(t) else None)
        assert row_bits(got[0]) == row_bits(expected[0])
        assert state_bits(got[1]) == state_bits(expected[1])


# -- worked examples --------------------------------------------------------------------------------------


def one(impl, t, y, q=None, bucket_s=60.0, analog=True, final_at=None, state=None):  # type: ignore[no-untyped-def]
    q = np.zeros(len(t), dtype=np.int64) if q is None else np.array(q, dtype=np.int64)
    rows, state = impl.rollup_stream(np.array(t, dtype=float), np.array(y, dtype=float), q, bucket_s, analog,
                                     state=state, final_at=final_at)
    check_shape(rows)
    return [{name: getattr(rows, name)[i].item() for name in FIELDS} for i in range(len(rows))], state


def pick(rows: list[dict], *names: str) -> list[tuple]:
    return [tuple(row[name] for name in names) for row in rows]


AGG = ("start", "count", "good_count", "sum", "min", "max", "integral", "good_s", "covered_s")


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_ramp_across_a_bucket_edge_analog_and_step(impl):
    rows, _ = one(impl, [30.0, 90.0], [0.0, 60.0], final_at=100.0)
    assert pick(rows, *AGG) == [
        (0.0, 1, 1, 0.0, 0.0, 30.0, 450.0, 30.0, 30.0),  # the line reaches 30 at the bucket's end
        (60.0, 1, 1, 60.0, 30.0, 60.0, 1350.0 + 600.0, 40.0, 40.0),  # from 30 at its start; held 60 to the stop
    ]
    rows, _ = one(impl, [30.0, 90.0], [0.0, 60.0], analog=False, final_at=100.0)
    assert pick(rows, *AGG) == [(0.0, 1, 1, 0.0, 0.0, 0.0, 0.0, 30.0, 30.0),
                                (60.0, 1, 1, 60.0, 0.0, 60.0, 600.0, 40.0, 40.0)]
    assert pick(rows, "first_t", "first_y", "last_t", "last_y") == [(30.0, 0.0, 30.0, 0.0), (90.0, 60.0, 90.0, 60.0)]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_samples_on_bucket_edges(impl):
    rows, _ = one(impl, [0.0, 60.0, 120.0], [1.0, 2.0, 3.0], final_at=120.0)
    assert pick(rows, *AGG) == [
        (0.0, 1, 1, 1.0, 1.0, 2.0, 90.0, 60.0, 60.0),  # the sample at 60 starts bucket 1; the line reaches 2
        (60.0, 1, 1, 2.0, 2.0, 3.0, 150.0, 60.0, 60.0),  # no value at its start from before: the sample is there
        (120.0, 1, 1, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0),  # the stop at the sample: a zero-length segment
    ]
    rows, _ = one(impl, [0.0, 60.0], [1.0, 2.0], analog=False, final_at=90.0)
    assert pick(rows, "min", "max", "integral") == [(1.0, 1.0, 60.0), (2.0, 2.0, 60.0)]  # a step: 1 up to 60


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_duplicate_times(impl):
    rows, _ = one(impl, [10.0, 10.0, 20.0, 20.0], [1.0, 5.0, 3.0, 7.0], final_at=30.0)
    (row,) = rows
    assert pick(rows, *AGG) == [(0.0, 4, 4, 16.0, 1.0, 7.0, (5.0 + 3.0) / 2 * 10 + 7.0 * 10, 20.0, 20.0)]
    assert (row["first_t"], row["first_y"], row["last_t"], row["last_y"]) == (10.0, 1.0, 20.0, 7.0)  # later wins
    rows, _ = one(impl, [10.0, 10.0], [INF, 1.0], final_at=10.0)  # zero-length segments add nothing (no inf * 0)
    assert pick(rows, "integral", "good_s", "covered_s", "max") == [(0.0, 0.0, 0.0, INF)]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_gap_of_many_empty_buckets(impl):
    rows, state = one(impl, [30.0, 3630.0], [0.0, 3600.0], final_at=3630.0)
    assert pick(rows, *AGG) == [
        (0.0, 1, 1, 0.0, 0.0, 30.0, 450.0, 30.0, 30.0),
        (3600.0, 1, 1, 3600.0, 3570.0, 3600.0, (3570.0 + 3600.0) / 2 * 30, 30.0, 30.0),
    ]  # the 59 buckets between have no sample: no row, and nothing of the line counted in these two
    assert state_bits(state) == state_bits(RollupState(3630.0))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_bad_quality_and_missing_values_are_not_interpolated(impl):
    rows, _ = one(impl, [0.0, 30.0], [1.0, 2.0], q=[1, 0], final_at=60.0)
    assert pick(rows, *AGG) == [(0.0, 2, 1, 2.0, 2.0, 2.0, 60.0, 30.0, 60.0)]
    rows, _ = one(impl, [0.0, 30.0], [1.0, 2.0], q=[0, 1], final_at=60.0)  # the next is bad: held, not a line
    assert pick(rows, *AGG) == [(0.0, 2, 1, 1.0, 1.0, 1.0, 30.0, 30.0, 60.0)]
    rows, _ = one(impl, [0.0, 30.0, 45.0], [1.0, NAN, 5.0], final_at=120.0)
    assert pick(rows, *AGG) == [(0.0, 3, 2, 6.0, 1.0, 5.0, 30.0 + 5.0 * 15, 45.0, 60.0)]
    rows, _ = one(impl, [0.0, 30.0], [NAN, NAN], q=[0, 3], final_at=60.0)
    assert rows[0]["good_count"] == 0
    assert math.isnan(rows[0]["min"])
    assert math.isnan(rows[0]["max"])
    assert (rows[0]["sum"], rows[0]["integral"], rows[0]["good_s"], rows[0]["covered_s"]) == (0.0, 0.0, 0.0, 60.0)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_bucket_closes_when_a_later_sample_or_a_stop_comes(impl):
    rows, state = one(impl, [], [])
    assert rows == []
    assert state_bits(state) == state_bits(RollupState())
    rows, state = one(impl, [5.0], [1.0])  # one sample: its bucket is open
    assert rows == []
    assert (state.count, state.last_t, state.bucket_s, state.first_y) == (1, 5.0, 60.0, 1.0)
    rows, state = one(impl, [10.0, 59.0], [2.0, 3.0], state=state)  # all in the same bucket: still open
    assert rows == []
    assert (state.count, state.sum, state.integral) == (3, 6.0, 1.5 * 5 + 2.5 * 49)
    rows, state = one(impl, [60.0], [4.0], state=state)  # the next bucket's first sample closes it
    assert pick(rows, "start", "count", "last_t", "max") == [(0.0, 3, 59.0, 4.0)]
    rows, state = one(impl, [], [], state=state, final_at=60.0)  # a stop closes the open bucket
    assert pick(rows, "start", "count", "covered_s") == [(60.0, 1, 0.0)]
    assert state_bits(state) == state_bits(RollupState(60.0))
    rows, state = one(impl, [], [], state=state, final_at=70.0)  # nothing open: nothing to close
    assert rows == []
    assert state.last_t == 70.0


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_stop_ends_the_stream_and_a_restart_in_the_same_bucket_gets_its_own_row(impl):
    rows, state = one(impl, [10.0, 20.0], [1.0, 2.0], final_at=25.0)
    assert pick(rows, "start", "count", "integral", "covered_s") == [(0.0, 2, 15.0 + 10.0, 15.0)]
    with pytest.raises(ValueError, match=DECREASING_T_MESSAGE):  # nothing before the stop
        one(impl, [24.0], [1.0], state=state)
    rows, state = one(impl, [40.0, 50.0], [5.0, 5.0], state=state, final_at=60.0)  # no line from 20 to 40
    assert pick(rows, "start", "count", "integral", "covered_s", "min") == [(0.0, 2, 100.0, 20.0, 5.0)]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_empty_calls_change_nothing_and_return_the_shared_empty_rows(impl):
    _, state = one(impl, [1.0, 2.0], [1.0, 2.0])
    rows, after = impl.rollup_stream(np.empty(0), np.empty(0), np.empty(0, dtype=np.int64), 60.0, True, state=state)
    assert rows is EMPTY_ROLLUPS
    assert state_bits(after) == state_bits(state)
    assert not EMPTY_ROLLUPS.start.flags.writeable


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_state_belongs_to_one_bucket_width(impl):
    _, minute = one(impl, [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"state is for bucket_s=60.0, not 3600.0"):
        one(impl, [3.0], [1.0], bucket_s=3600.0, state=minute)
    _, stopped = one(impl, [], [], state=minute, final_at=3.0)
    rows, _ = one(impl, [3.0], [1.0], bucket_s=3600.0, state=stopped, final_at=4.0)  # after a stop: any width
    assert pick(rows, "start", "count") == [(0.0, 1)]
    with pytest.raises(TypeError, match="RollupState returned by rollup_stream, not dict"):
        one(impl, [3.0], [1.0], state={})


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    ("t", "y", "q", "bucket_s", "final_at", "error", "message"),
    [([0.0, 2.0, 1.0], [1.0] * 3, [0] * 3, 60.0, None, ValueError, "t must not decrease"),
     ([0.0, NAN], [1.0] * 2, [0] * 2, 60.0, None, ValueError, "t must be finite"),
     ([0.0, 2.0, 1.0, INF], [1.0] * 4, [0] * 4, 60.0, None, ValueError, "t must be finite"),  # both: reported alike
     ([0.0, 1.0], [1.0] * 3, [0] * 2, 60.0, None, ValueError, "t and y must have the same length"),
     ([0.0, 1.0], [1.0] * 2, [0] * 3, 60.0, None, ValueError, "t and q must have the same length"),
     ([[0.0, 1.0]], [[1.0, 2.0]], [[0, 0]], 60.0, None, ValueError, "t must be 1-D"),
     ([0.0, 1.0], [1.0] * 2, [0.0, 0.0], 60.0, None, TypeError, "q must hold integer quality codes"),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, 0.0, None, ValueError, "bucket_s must be a finite number of seconds > 0"),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, -60.0, None, ValueError, "bucket_s must be a finite number"),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, INF, None, ValueError, "bucket_s must be a finite number"),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, NAN, None, ValueError, "bucket_s must be a finite number"),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, 60.0, 0.5, ValueError, r"final_at must be a finite time >= the last t \(1.0\)"),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, 60.0, NAN, ValueError, "final_at must be a finite time"),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, 60.0, INF, ValueError, "final_at must be a finite time"),
     ([0.0, 2.0, 1.0], [1.0] * 3, [0] * 3, 60.0, 0.5, ValueError, "t must not decrease"),  # times first
     ([0.0, 1e300], [1.0] * 2, [0] * 2, 1e-10, None, ValueError, OVERFLOW_MESSAGE),
     ([0.0, 1.0], [1.0] * 2, [0] * 2, 1e-300, 1e300, ValueError, OVERFLOW_MESSAGE)],
)
def test_bad_arguments_are_refused_alike(impl, t, y, q, bucket_s, final_at, error, message):
    with pytest.raises(error, match=message):
        impl.rollup_stream(np.array(t), np.array(y), np.array(q), bucket_s, True, final_at=final_at)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_call_going_back_in_time_is_refused_and_changes_nothing(impl):
    t, y = np.arange(0.0, 200.0, 7.0), np.sin(np.arange(0.0, 200.0, 7.0))
    q = np.zeros(len(t), dtype=np.int64)
    first, state = impl.rollup_stream(t[:10], y[:10], q[:10], 60.0, True)
    for bad_t, message in (([60.0, 80.0], DECREASING_T_MESSAGE), ([70.0, 65.0], DECREASING_T_MESSAGE),
                           ([70.0, NAN], "t must be finite"), ([INF, 80.0], "t must be finite")):
        with pytest.raises(ValueError, match=message):
            impl.rollup_stream(np.array(bad_t), np.zeros(2), np.zeros(2, dtype=np.int64), 60.0, True, state=state,
                               final_at=500.0)
    with pytest.raises(ValueError, match="final_at must be"):
        impl.rollup_stream(t[10:], y[10:], q[10:], 60.0, True, state=state, final_at=190.0)
    rest = impl.rollup_stream(t[10:], y[10:], q[10:], 60.0, True, state=state, final_at=200.0)
    whole = impl.rollup_stream(t, y, q, 60.0, True, final_at=200.0)
    assert joined([(first, state), rest]) == row_bits(whole[0])
    assert state_bits(rest[1]) == state_bits(whole[1])


def test_ext_exports_the_stream_and_its_state():
    assert ext.KERNELS["rollup_stream"] == ("ext._rollups", "ext.rollup_twins")
    assert ext.RollupState is RollupState
    assert ext.rollup_stream in (kernels.rollup_stream, twins.rollup_stream)
