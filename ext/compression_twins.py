"""History compression, pure Python/NumPy: swinging-door trending (SDT) and a deadband filter.

These are the twins of the compiled kernels in ``ext._compression`` (same arguments, same checks,
identical output and states); the historian uses whichever ``ext`` exports.

SDT bound: every input point with a finite value lies within ``deviation`` of the straight line
between the two kept points around it (linear interpolation), and kept points are at most
``max_interval`` apart unless the input itself has a longer gap. The doors are checked against the
real endpoint, not the ideal slope, so the bound is exact rather than the classic "about 2x".
Non-finite values (bad-quality gaps) are always kept, with the last finite point before them and
the first after, so gaps stay gaps. The first and the last point are always kept.

Streaming (``sdt_stream``, ``deadband_stream``): the historian compresses each tag batch by batch. A
call returns the points that became final archive points, as times and values (one may be the last
point of the batch before: whether it is kept is only known at the next point), and a small immutable
state that either implementation accepts (``state=None`` starts a stream). Fed a series in any split
with ``final=True`` on the last batch, the streams keep exactly what one batch call keeps, bit for bit;
deadband_stream also keeps the last value before a gap (see there). Both implementations run the same
loop for the batch and the stream kernels, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ext.numpy_twins import NONFINITE_T_MESSAGE, check_series

DECREASING_T_MESSAGE = "t must not decrease: history is compressed in time order"


# -- stream states (O(1) per tag; independent of the parameters: a retuned compressor continues) -------


@dataclass(frozen=True, slots=True)
class SdtState:
    """Where an ``sdt_stream`` call stopped.

    ``pivot`` is the last archived point, where the doors hinge; ``upper``/``lower`` bound the slopes from
    it that keep every point since within ``deviation``. A pivot value that is not finite (the default,
    and after ``final``) means the next point is kept: a stream starts, or a gap ends.
    """

    last_t: float = -math.inf  # the last point seen; the next batch must not start before last_t
    last_y: float = math.nan
    last_archived: bool = True  # whether the last point is archived already (True when there is none)
    pivot_t: float = math.nan
    pivot_y: float = math.nan
    upper: float = -math.inf
    lower: float = math.inf


@dataclass(frozen=True, slots=True)
class DeadbandState:
    """Where a ``deadband_stream`` call stopped.

    ``kept`` is the last kept point, the value the archive holds; ``kept_t = -inf`` (the default, and after
    ``final``) means the next point is kept: a stream starts.
    """

    last_t: float = -math.inf  # the last point seen; the next batch must not start before last_t
    last_y: float = math.nan
    last_archived: bool = True  # whether the last point is kept already (True when there is none)
    kept_t: float = -math.inf
    kept_y: float = math.nan


# -- argument checks (shared with the compiled module, so both fail alike) ----------------------------


def check_compression(t: object, y: object, deviation: float, max_interval: float,
                      name: str = "deviation") -> tuple[np.ndarray, np.ndarray]:
    """Shapes and parameters; the time checks (finite, not decreasing) are `check_times`, which the
    compiled kernels do inside their loop instead (a separate pass cost more than the compression)."""
    t_arr, y_arr = check_series(t, y)
    if not deviation >= 0 or not math.isfinite(deviation):
        raise ValueError(f"{name} must be a finite number >= 0, not {deviation!r}")
    if not max_interval > 0:
        raise ValueError(f"max_interval must be > 0 seconds (inf for none), not {max_interval!r}")
    return t_arr, y_arr


def check_times(t: np.ndarray, t_end: float = -math.inf) -> None:
    """t finite and non-decreasing, also from ``t_end`` (where the batch before ended) on."""
    if not np.isfinite(t).all():
        raise ValueError(NONFINITE_T_MESSAGE)
    if t.shape[0] and (t[0] < t_end or (t.shape[0] > 1 and (np.diff(t) < 0).any())):
        raise ValueError(DECREASING_T_MESSAGE)


def check_state(state: object, kind: type, caller: str) -> object:
    if state is None:
        return kind()
    if not isinstance(state, kind):
        raise TypeError(f"state must be None or the {kind.__name__} returned by {caller}, not {type(state).__name__}")
    return state


def _points(t_arr: np.ndarray, y_arr: np.ndarray, keep: list[int], before: SdtState | DeadbandState
            ) -> tuple[np.ndarray, np.ndarray]:
    """The kept points as (times, values); index -1 is the last point of the batch before."""
    tl, yl = [before.last_t, *t_arr.tolist()], [before.last_y, *y_arr.tolist()]
    return (np.array([tl[k + 1] for k in keep], dtype=np.float64),
            np.array([yl[k + 1] for k in keep], dtype=np.float64))


# -- swinging door ----------------------------------------------------------------------------------


def _sdt(tl: list[float], yl: list[float], deviation: float, max_interval: float, state: SdtState,
         final: bool) -> tuple[list[int], SdtState]:
    """The swinging door over one batch from ``state``: the indices archived (ascending; -1 is the held
    last point of the batch before) and the state after. ``archived`` is whether the point before i is
    archived, which is the same as its being the pivot."""
    last_t, last_y, archived, pivot_t, pivot_y, upper, lower = (
        state.last_t, state.last_y, state.last_archived, state.pivot_t, state.pivot_y, state.upper, state.lower)
    isfinite, inf = math.isfinite, math.inf
    keep: list[int] = []
    for i, (ti, yi) in enumerate(zip(tl, yl, strict=True)):
        prev_t, prev_y, prev_archived = last_t, last_y, archived
        last_t, last_y, archived = ti, yi, True  # every path but the last one below archives i
        if not isfinite(yi) or not isfinite(pivot_y):
            # a gap, the first point after one or of a stream: both ends of a gap are kept, no line crosses it
            if not prev_archived:
                keep.append(i - 1)
            keep.append(i)
            pivot_t, pivot_y, upper, lower = ti, yi, -inf, inf
            continue
        dt = ti - pivot_t
        if dt > max_interval and not prev_archived:  # too long since the pivot: the point before is archived
            keep.append(i - 1)
            pivot_t, pivot_y, upper, lower, prev_archived = prev_t, prev_y, -inf, inf, True
            dt = ti - pivot_t
        if dt <= 0.0:  # same time as the pivot: a vertical step, keep it as the new pivot
            keep.append(i)
            pivot_t, pivot_y, upper, lower = ti, yi, -inf, inf
            continue
        inv = 1.0 / dt  # one division per point: the bounds below multiply (the kernel does the same)
        slope = (yi - pivot_y) * inv
        if not upper <= slope <= lower:  # the line to i would leave a door for some point in between
            if not prev_archived:  # (it is the pivot already only when the slope is NaN: dt subnormal or inf)
                keep.append(i - 1)
                pivot_t, pivot_y = prev_t, prev_y
                dt = ti - pivot_t
                if dt <= 0.0:
                    keep.append(i)
                    pivot_t, pivot_y, upper, lower = ti, yi, -inf, inf
                    continue
                inv = 1.0 / dt
            upper, lower = -inf, inf
        upper = max(upper, (yi - pivot_y - deviation) * inv)
        lower = min(lower, (yi - pivot_y + deviation) * inv)
        archived = False
    if final:
        if not archived:
            keep.append(len(tl) - 1)
        return keep, SdtState(last_t, last_y)
    return keep, SdtState(last_t, last_y, archived, pivot_t, pivot_y, upper, lower)


def sdt_compress(t: np.ndarray, y: np.ndarray, deviation: float, max_interval: float = math.inf) -> np.ndarray:
    """Indices of the points to keep (ascending)."""
    t_arr, y_arr = check_compression(t, y, deviation, max_interval)
    check_times(t_arr)
    keep, _ = _sdt(t_arr.tolist(), y_arr.tolist(), deviation, max_interval, SdtState(), True)
    return np.asarray(keep, dtype=np.intp)


def sdt_stream(t: np.ndarray, y: np.ndarray, deviation: float, max_interval: float = math.inf,
               state: SdtState | None = None, final: bool = False) -> tuple[np.ndarray, np.ndarray, SdtState]:
    """Swinging door on a stream: ``(times, values, state)`` of the points archived by this batch.

    The last point is held until the next one shows whether it is archived; ``final=True`` ends the stream
    (a gap, bad quality, a stop): the held point is archived too, and the next batch starts a new stream
    with its first point kept. Time order is checked across batches either way (same errors as
    ``sdt_compress``; on an error nothing is returned and ``state`` is still the one to pass next).
    """
    t_arr, y_arr = check_compression(t, y, deviation, max_interval)
    before = check_state(state, SdtState, "sdt_stream")
    check_times(t_arr, before.last_t)
    keep, after = _sdt(t_arr.tolist(), y_arr.tolist(), float(deviation), float(max_interval), before, final)
    return *_points(t_arr, y_arr, keep, before), after


# -- deadband ---------------------------------------------------------------------------------------


def _deadband(tl: list[float], yl: list[float], deadband: float, max_interval: float, state: DeadbandState,
              gap_edges: bool, final: bool) -> tuple[list[int], DeadbandState]:
    """The deadband filter over one batch from ``state``: the indices kept (-1 is the held last point of
    the batch before) and the state after. ``gap_edges``: also keep the last point before a non-finite one."""
    last_t, last_y, archived, kept_t, kept_y = (
        state.last_t, state.last_y, state.last_archived, state.kept_t, state.kept_y)
    isfinite = math.isfinite
    keep: list[int] = []
    for i, (ti, yi) in enumerate(zip(tl, yl, strict=True)):
        finite = isfinite(yi)
        if (finite != isfinite(kept_y) or (not finite and not _same(yi, kept_y))
                or (finite and abs(yi - kept_y) > deadband) or ti - kept_t >= max_interval):
            # (a finite point not kept is within the band of a finite kept one: i is kept when gap_edges adds)
            if gap_edges and not finite and not archived and isfinite(last_y):
                keep.append(i - 1)
            keep.append(i)
            kept_t, kept_y, archived = ti, yi, True
        else:
            archived = False
        last_t, last_y = ti, yi
    if final:
        if not archived:
            keep.append(len(tl) - 1)
        return keep, DeadbandState(last_t, last_y)
    return keep, DeadbandState(last_t, last_y, archived, kept_t, kept_y)


def deadband_filter(t: np.ndarray, y: np.ndarray, deadband: float, max_interval: float = math.inf) -> np.ndarray:
    """Indices of the points to keep: the first, each one that moved more than ``deadband`` from
    the last kept value, one at least every ``max_interval``, and every change into or out of a
    non-finite value (a step-hold reconstruction is then within ``deadband`` everywhere)."""
    t_arr, y_arr = check_compression(t, y, deadband, max_interval, "deadband")
    check_times(t_arr)
    keep, _ = _deadband(t_arr.tolist(), y_arr.tolist(), deadband, max_interval, DeadbandState(), False, False)
    return np.asarray(keep, dtype=np.intp)


def deadband_stream(t: np.ndarray, y: np.ndarray, deadband: float, max_interval: float = math.inf,
                    state: DeadbandState | None = None, final: bool = False
                    ) -> tuple[np.ndarray, np.ndarray, DeadbandState]:
    """Deadband filter on a stream: ``(times, values, state)`` of the points kept by this batch.

    What ``deadband_filter`` keeps, and also the last value before a gap (a finite point followed by a
    non-finite one), as the historian always stores it: so that last point is held until the next one is
    seen. ``final=True`` ends the stream: the held point is kept if it was not, and the next batch starts a
    new stream with its first point kept. Time order is checked across batches (same errors as
    ``deadband_filter``; on an error nothing is returned and ``state`` is still the one to pass next).
    """
    t_arr, y_arr = check_compression(t, y, deadband, max_interval, "deadband")
    before = check_state(state, DeadbandState, "deadband_stream")
    check_times(t_arr, before.last_t)
    keep, after = _deadband(t_arr.tolist(), y_arr.tolist(), float(deadband), float(max_interval), before,
                            True, final)
    return *_points(t_arr, y_arr, keep, before), after


def _same(a: float, b: float) -> bool:
    """Non-finite values are 'the same' when both are NaN or both the same infinity."""
    return (math.isnan(a) and math.isnan(b)) or a == b


# -- many series at once (the historian's writer: every tag of a flush in one call) -------------------


def check_many(t: object, y: object, starts: object, parameter: object, max_interval: object, states: object,
               name: str = "deviation") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shapes and parameters of a ``*_stream_many`` call: (t, y, segment bounds incl. the end, parameter,
    max_interval) as arrays."""
    t_arr, y_arr = check_series(t, y)
    starts_arr = np.asarray(starts, dtype=np.int64).ravel()
    m = starts_arr.shape[0]
    bounds = np.append(starts_arr, t_arr.shape[0])
    if m and (starts_arr[0] != 0 or (np.diff(bounds) < 0).any()):
        raise ValueError("starts must begin at 0 and not decrease, and not pass the end of t")
    if not m and t_arr.shape[0]:
        raise ValueError("points without a segment: starts is empty")
    par = np.broadcast_to(np.asarray(parameter, dtype=np.float64), (m,))
    mx = np.broadcast_to(np.asarray(max_interval, dtype=np.float64), (m,))
    if not (np.isfinite(par) & (par >= 0)).all():
        raise ValueError(f"{name} must be finite numbers >= 0")
    if not (mx > 0).all():
        raise ValueError("max_interval must be > 0 seconds (inf for none)")
    if not isinstance(states, list | tuple) or len(states) != m:
        raise ValueError(f"states must be a list of one state (or None) per segment: {m} expected")
    return t_arr, y_arr, bounds, np.ascontiguousarray(par), np.ascontiguousarray(mx)


def _stream_many(stream, t: object, y: object, starts: object, parameter: object, max_interval: object,
                 states: list, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    t_arr, y_arr, bounds, par, mx = check_many(t, y, starts, parameter, max_interval, states, name)
    segments, times, values, after = [], [], [], []
    for i in range(len(bounds) - 1):
        a, b = int(bounds[i]), int(bounds[i + 1])
        try:
            kept_t, kept_y, state = stream(t_arr[a:b], y_arr[a:b], float(par[i]), float(mx[i]), states[i])
        except ValueError as exc:
            raise ValueError(f"segment {i}: {exc}") from None
        segments.append(np.full(len(kept_t), i, dtype=np.int64))
        times.append(kept_t)
        values.append(kept_y)
        after.append(state)
    if not segments:
        return np.empty(0, np.int64), np.empty(0), np.empty(0), []
    return np.concatenate(segments), np.concatenate(times), np.concatenate(values), after


def sdt_stream_many(t: np.ndarray, y: np.ndarray, starts: np.ndarray, deviation: np.ndarray | float,
                    max_interval: np.ndarray | float, states: list[SdtState | None]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[SdtState]]:
    """``sdt_stream`` on many series in one call: segment i is ``t[starts[i]:starts[i + 1]]`` (the last runs
    to the end), with its own deviation, max_interval and state (None starts a stream; never final). Returns
    ``(segment, times, values, states)``: the segment index of each archived point, the points, and each
    segment's state after, exactly as one ``sdt_stream`` call per segment gives them. A segment whose time
    goes back raises ValueError naming it, and nothing is returned."""
    return _stream_many(sdt_stream, t, y, starts, deviation, max_interval, states, "deviation")


def deadband_stream_many(t: np.ndarray, y: np.ndarray, starts: np.ndarray, deadband: np.ndarray | float,
                         max_interval: np.ndarray | float, states: list[DeadbandState | None]
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[DeadbandState]]:
    """``deadband_stream`` on many series in one call; see ``sdt_stream_many``."""
    return _stream_many(deadband_stream, t, y, starts, deadband, max_interval, states, "deadband")
