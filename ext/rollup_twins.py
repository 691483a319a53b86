"""Time-bucket roll-ups of a tag's stored history, as a stream: pure Python, the twin of ``ext._rollups``.

The historian keeps 1-minute and 1-hour aggregates per tag; ``rollup_stream`` computes them from the stored
samples batch by batch, with an O(1) ``RollupState`` per tag and bucket width. The compiled kernel has the
same arguments, checks, messages and states, and gives identical output bit for bit (tests/ext).

**The signal.** Samples ``(t, y, q)`` in time order; a sample *has a value* when y is not NaN, and is *good*
when it has one and ``q == 0``. Sample i holds over its segment ``[t[i], t[i+1])`` up to the next sample of
the stream, or up to ``final_at`` for the last one; without ``final_at`` the last sample's segment is still
open and not counted yet. A segment is good when its sample is; its value is then linear from y[i] to
y[i+1] when ``analog`` and sample i+1 is good too, else y[i] held (a step; the last segment before
``final_at`` is always a step). Nothing is interpolated across bad quality, a missing value or a stop. A
segment that is not good only counts as covered time. A zero-length segment (duplicate times) adds nothing.

**Buckets.** Bucket k is ``[k * bucket_s, (k + 1) * bucket_s)``; sample i belongs to bucket
``floor(t[i] / bucket_s)`` (a sample on an edge starts the bucket there). Edges are always ``k * bucket_s``
and ``(k + 1) * bucket_s``, never sums. One row per *closed* bucket that holds at least one sample, in time
order; a bucket is closed when a sample of a later bucket arrives, or when ``final_at`` ends the stream
(which closes the last bucket too, its last segment ending at ``final_at``). Buckets without a sample have
no row; the parts of segments inside them belong to no row. Row fields (``Rollups``):

- ``start``: ``k * bucket_s``; ``count``: samples in the bucket, any quality; ``good_count``: good samples;
  ``sum``: the sum of their values, in time order (mean = sum / good_count);
- ``min``, ``max``: over the good samples' values and the good segments' values at the bucket's edges: at
  ``start`` when a good segment from an earlier sample covers it (``t[i] < start < t[i+1]``), at
  ``start + bucket_s`` when a good segment reaches it (its limit from the left: y[i+1] for a linear segment
  ending exactly there, y[i] for a step); what a trend draws in the bucket. NaN when there is none;
- ``first_t``, ``first_y``, ``first_q``, ``last_t``, ``last_y``, ``last_q``: the first and the last sample
  in the bucket as stored (the later of two at the same time is the last);
- ``integral``: the integral of the value over the good segments' parts inside the bucket, including the
  part from ``start`` to the first sample when a good segment from before covers it (time-weighted mean =
  integral / good_s); ``good_s``: seconds covered by good segments; ``covered_s``: by any segment (good
  fraction = good_s / covered_s).

**Exactness.** Floating-point sums are accumulated in time order, one segment piece (the part of a segment
inside one bucket) at a time: a linear piece ``[lo, hi]`` adds ``(v(lo) + v(hi)) * 0.5 * (hi - lo)``, a step
piece ``y[i] * (hi - lo)``, where ``v(x) = y[i] + (y[i+1] - y[i]) * ((x - t[i]) / (t[i+1] - t[i]))`` inside
the segment and exactly y[i] or y[i+1] at its ends. Both implementations do exactly these operations in
this order, so a series fed in any split gives exactly the rows (and final state) of one call.

**Streams.** ``state=None`` starts a stream. ``final_at`` (a stop, a shutdown) ends the last segment there and
the stream: the open bucket is emitted and the next sample starts afresh, without a segment from the old last
sample. Times must be finite and never decrease, also across calls and from a ``final_at`` on (a sample after
a stop is not older than the stop). After a stop the stream may restart within the bucket it closed: that
bucket then gets a second row with the same ``start`` (each covers its own part; counts, sums, integrals and
seconds add up, min/max combine). A state belongs to one ``bucket_s``: another one is refused while a bucket
is open. On an error nothing is returned and the state passed is still the one to pass next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ext.compression_twins import DECREASING_T_MESSAGE, check_state
from ext.numpy_twins import NONFINITE_T_MESSAGE, check_series

OVERFLOW_MESSAGE = "t / bucket_s must be finite: bucket_s is too small for times this large"


@dataclass(frozen=True, slots=True)
class RollupState:
    """Where a ``rollup_stream`` call stopped: the last sample and the open bucket's partial aggregates.

    ``count == 0`` (the default, and after ``final_at``) means no bucket is open: the next sample starts a
    stream. ``last_t`` is then only the time the stream reached (``-inf``, or the ``final_at`` that ended it);
    otherwise ``last_t, last_y, last_q`` are the last sample, whose segment is still open, and the open bucket
    is ``floor(last_t / bucket_s)``. ``min``/``max`` are ``inf``/``-inf`` while the bucket has no good value.
    """

    last_t: float = -math.inf  # the next sample must not be older
    last_y: float = math.nan
    last_q: int = 0
    bucket_s: float = math.nan  # the width of the open bucket (NaN when none is open)
    count: int = 0
    good_count: int = 0
    sum: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    first_t: float = math.nan
    first_y: float = math.nan
    first_q: int = 0
    integral: float = 0.0
    good_s: float = 0.0
    covered_s: float = 0.0


@dataclass(frozen=True, slots=True, eq=False)
class Rollups:
    """One row per closed bucket: equal-length arrays (float64, but the int64 counts and qualities)."""

    start: np.ndarray
    count: np.ndarray
    good_count: np.ndarray
    sum: np.ndarray
    min: np.ndarray
    max: np.ndarray
    first_t: np.ndarray
    first_y: np.ndarray
    first_q: np.ndarray
    last_t: np.ndarray
    last_y: np.ndarray
    last_q: np.ndarray
    integral: np.ndarray
    good_s: np.ndarray
    covered_s: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


FIELDS = tuple(Rollups.__dataclass_fields__)
INT_FIELDS = frozenset({"count", "good_count", "first_q", "last_q"})


def _empty_column(name: str) -> np.ndarray:
    column = np.empty(0, dtype=np.int64 if name in INT_FIELDS else np.float64)
    column.flags.writeable = False
    return column


# what a call without a closed bucket returns (most calls): shared, read-only
EMPTY_ROLLUPS = Rollups(*(_empty_column(name) for name in FIELDS))


# -- argument checks (shared with the compiled module, so both fail alike) ----------------------------


def check_rollup(t: object, y: object, q: object, bucket_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapes, the quality codes' type and ``bucket_s``; the times are `check_rollup_times`."""
    t_arr, y_arr = check_series(t, y)
    q_arr = np.asarray(q)
    if q_arr.dtype != np.int64:
        if q_arr.size and q_arr.dtype.kind not in "iub":
            raise TypeError(f"q must hold integer quality codes, not {q_arr.dtype}")
        q_arr = q_arr.astype(np.int64)
    if q_arr.ndim != 1:
        raise ValueError(f"q must be 1-D, got shape {q_arr.shape}")
    if q_arr.shape[0] != t_arr.shape[0]:
        raise ValueError(f"t and q must have the same length, got {t_arr.shape[0]} and {q_arr.shape[0]}")
    if not bucket_s > 0 or not math.isfinite(bucket_s):
        raise ValueError(f"bucket_s must be a finite number of seconds > 0, not {bucket_s!r}")
    return t_arr, y_arr, q_arr


def check_rollup_state(state: object, bucket_s: float) -> RollupState:
    before = check_state(state, RollupState, "rollup_stream")
    if before.count and before.bucket_s != bucket_s:
        raise ValueError(f"state is for bucket_s={before.bucket_s!r}, not {bucket_s!r}: each bucket width needs "
                         "its own state")
    return before


def check_rollup_times(t: np.ndarray, last_t: float, bucket_s: float, final_at: float | None) -> None:
    """t finite and non-decreasing from ``last_t`` on; ``final_at`` finite and not before any t; every time
    divisible by ``bucket_s`` without overflow. The compiled kernel calls this when its loop finds a fault."""
    if not np.isfinite(t).all():
        raise ValueError(NONFINITE_T_MESSAGE)
    if t.shape[0] and (t[0] < last_t or (t.shape[0] > 1 and (np.diff(t) < 0).any())):
        raise ValueError(DECREASING_T_MESSAGE)
    if final_at is not None:
        end = float(t[-1]) if t.shape[0] else last_t
        if not (math.isfinite(final_at) and final_at >= end):
            raise ValueError(f"final_at must be a finite time >= the last t ({end!r}), not {final_at!r}")
    # t is sorted: if its ends divide without overflow, every time does
    ends = (t[0], t[-1]) if t.shape[0] else ()
    if not all(math.isfinite(float(x) / bucket_s) for x in (*ends, *(() if final_at is None else (final_at,)))):
        raise ValueError(OVERFLOW_MESSAGE)


# -- the stream ---------------------------------------------------------------------------------------


def rollup_stream(t: np.ndarray, y: np.ndarray, q: np.ndarray, bucket_s: float, analog: bool,
                  state: RollupState | None = None, final_at: float | None = None) -> tuple[Rollups, RollupState]:
    """Roll-ups of one tag's samples into buckets of ``bucket_s`` seconds: ``(rows, state)``, the rows of the
    buckets this call closed and the state to pass with the next batch. See the module docstring."""
    t_arr, y_arr, q_arr = check_rollup(t, y, q, bucket_s)
    b = float(bucket_s)
    before = check_rollup_state(state, b)
    if final_at is not None:
        if isinstance(final_at, str | bytes | bytearray):  # (float() would parse it; the kernel refuses it too)
            raise TypeError(f"final_at must be a number of seconds, not {type(final_at).__name__}")
        final_at = float(final_at)
    check_rollup_times(t_arr, before.last_t, b, final_at)
    if not t_arr.shape[0] and final_at is None:
        return EMPTY_ROLLUPS, before

    (last_t, last_y, last_q, _, count, good_count, total, mn, mx, first_t, first_y, first_q, integral, good_s,
     covered_s) = (getattr(before, name) for name in RollupState.__dataclass_fields__)
    k = math.floor(last_t / b) if count else 0  # the open bucket
    analog = bool(analog)
    rows: list[tuple] = []

    def advance(c: float, yc: float, good_c: bool, kc: int, final: bool) -> None:
        """The segment of the last sample up to ``c``: the next sample (good or not, in bucket ``kc``), or
        ``final_at`` (``final``: a step, and the open bucket closes). Its piece in the open bucket; when it
        leaves that bucket or ``final``, the bucket's row; then the piece in the next sample's bucket."""
        nonlocal count, good_count, total, mn, mx, first_t, first_y, first_q, integral, good_s, covered_s, k
        a, ya = last_t, last_y
        good = last_q == 0 and ya == ya
        linear = analog and good and good_c
        if kc == k:
            hi = c
        else:
            end = (k + 1) * b
            hi = a if end < a else (c if end > c else end)  # the bucket's end, within the segment
            if good:  # the value reaching the end of the bucket
                v = _value(hi, a, ya, c, yc, linear)
                if v < mn:
                    mn = v
                if v > mx:
                    mx = v
        if hi > a:
            length = hi - a
            covered_s += length
            if good:
                good_s += length
                integral += (ya + _value(hi, a, ya, c, yc, True)) * 0.5 * length if linear else ya * length
        if kc == k and not final:
            return
        rows.append((k * b, count, good_count, total, mn if mn <= mx else math.nan, mx if mn <= mx else math.nan,
                     first_t, first_y, first_q, last_t, last_y, last_q, integral, good_s, covered_s))
        count = good_count = 0
        total = integral = good_s = covered_s = 0.0
        mn, mx, k = math.inf, -math.inf, kc
        if final:
            return
        start = kc * b
        lo = a if start < a else (c if start > c else start)  # the bucket's start, within the segment
        if good and a < start < c:  # the value at the start of the bucket
            v = _value(lo, a, ya, c, yc, linear)
            if v < mn:
                mn = v
            if v > mx:
                mx = v
        if c > lo:
            length = c - lo
            covered_s += length
            if good:
                good_s += length
                integral += (_value(lo, a, ya, c, yc, True) + yc) * 0.5 * length if linear else ya * length

    for ti, yi, qi in zip(t_arr.tolist(), y_arr.tolist(), q_arr.tolist(), strict=True):
        ki = math.floor(ti / b)
        good_i = qi == 0 and yi == yi
        if count:
            advance(ti, yi, good_i, ki, False)
        else:
            k = ki
        if not count:
            first_t, first_y, first_q = ti, yi, qi
        count += 1
        if good_i:
            good_count += 1
            total += yi
            if yi < mn:
                mn = yi
            if yi > mx:
                mx = yi
        last_t, last_y, last_q = ti, yi, qi

    if final_at is not None:
        if count:
            advance(final_at, math.nan, False, math.floor(final_at / b), True)
        return _rows(rows), RollupState(final_at)
    return _rows(rows), RollupState(last_t, last_y, last_q, b, count, good_count, total, mn, mx, first_t, first_y,
                                    first_q, integral, good_s, covered_s)


def _value(x: float, a: float, ya: float, c: float, yc: float, linear: bool) -> float:
    """The segment's value at x in [a, c]: exactly ya at a, yc at c (linear) and ya throughout (step)."""
    if not linear or x <= a:
        return ya
    if x >= c:
        return yc
    return ya + (yc - ya) * ((x - a) / (c - a))


def _rows(rows: list[tuple]) -> Rollups:
    if not rows:
        return EMPTY_ROLLUPS
    columns = zip(*rows, strict=True)
    return Rollups(*(np.array(column, dtype=np.int64 if name in INT_FIELDS else np.float64)
                     for name, column in zip(FIELDS, columns, strict=True)))
