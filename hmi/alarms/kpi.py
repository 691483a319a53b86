"""Alarm system performance (ISA-18.2 section 16 / EEMUA 191), computed from the event journal.

The journal holds every transition, so the figures can be computed for any period after the fact, the same
way on a screen and in a report. What counts as an alarm here is an *annunciated* activation: a transition
to "unacknowledged" (a local alarm that became active while in service, a shelved or suppressed one that was
still active when it came back, or a PLC's own condition). Activations while shelved, suppressed or out of
service are not shown to the operator and are not counted.

- Alarm rate: annunciated alarms per 10 minutes, average and the worst 10-minute window (EEMUA 191: about 1
  is very likely acceptable, 2 manageable; more than 10 is a flood).
- Time in flood: the share of the period between the engine's flood_start and flood_end events.
- Chattering: alarms activated 3 or more times within one minute (the site's chattering_per_min).
- Bad actors: the ten alarms with most activations and their share of the total.
- Priority distribution of the activations (target about 80 % low, 15 % medium, 5 % high and critical).
- Stale (active for more than the site's stale_after_h, 24 h by default) and shelved: from the alarms as they
  are now.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hmi.alarms.model import AlarmSnapshot, AlarmState
from hmi.site.alarm_schema import AlarmSettings, Priority
from hmi.storage.journal import JournalEntry

WINDOW_S = 600.0  # the benchmark interval of ISA-18.2 and EEMUA 191
ANNUNCIATED = AlarmState.UNACKNOWLEDGED.value


@dataclass(frozen=True)
class BadActor:
    alarm: str
    activations: int
    share: float  # of all activations in the period


@dataclass(frozen=True)
class AlarmKpis:
    start: float
    end: float
    activations: int
    per_10_min_average: float
    per_10_min_peak: int
    peak_window_start: float | None
    flood_fraction: float  # of the period
    chattering: list[tuple[str, int]]  # alarm, most activations within one minute
    bad_actors: list[BadActor]
    priority_distribution: dict[Priority, float]  # share of activations per priority
    stale: list[str]  # active longer than stale_after_h, now
    shelved: int  # now
    suppressed: int  # now
    out_of_service: int  # now
    standing: int  # active now, annunciated
    stale_after_h: float = 24.0  # the site's threshold for `stale`

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600


def annunciations(entries: Iterable[JournalEntry]) -> list[tuple[float, str]]:
    """(time, alarm id) of every annunciated activation, in time order."""
    found = [(e.ts, e.source) for e in entries
             if e.new_value == ANNUNCIATED and e.old_value != ANNUNCIATED
             and e.event in ("alarm_active", "unshelve", "unsuppressed", "return_to_service", "condition")]
    found.sort()
    return found


def compute_kpis(entries: Sequence[JournalEntry], start: float, end: float, priorities: Mapping[str, Priority],
                 current: Sequence[AlarmSnapshot], settings: AlarmSettings, now: float) -> AlarmKpis:
    """KPIs over [start, end) from the journal's entries of that period (and just before it, for a flood that
    was already on), with `current` the alarms as they are at `now`. `priorities` maps alarm ids to their
    priority; an alarm not in it (a condition the PLC no longer reports) counts as low."""
    if end <= start:
        raise ValueError("the period must end after it starts")
    events = annunciations(e for e in entries if start <= e.ts < end)
    times = [t for t, _ in events]
    peak, peak_at = _peak_window(times)
    per_alarm: dict[str, list[float]] = defaultdict(list)
    for t, alarm in events:
        per_alarm[alarm].append(t)
    counts = Counter({alarm: len(ts) for alarm, ts in per_alarm.items()})
    total = len(events)
    by_priority = Counter(priorities.get(alarm, Priority.LOW) for _, alarm in events)
    stale_after = settings.stale_after_h * 3600
    return AlarmKpis(
        start=start, end=end, activations=total,
        per_10_min_average=total / ((end - start) / WINDOW_S), per_10_min_peak=peak, peak_window_start=peak_at,
        flood_fraction=_flood_seconds(entries, start, end) / (end - start),
        chattering=sorted(((alarm, n) for alarm, ts in per_alarm.items()
                           if (n := _most_within(ts, 60.0)) >= settings.chattering_per_min),
                          key=lambda item: (-item[1], item[0])),
        bad_actors=[BadActor(alarm, n, n / total) for alarm, n in
                    sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]],
        priority_distribution={p: (by_priority[p] / total if total else 0.0) for p in Priority},
        stale=sorted(a.id for a in current if a.active and a.state.annunciated and a.activated_at is not None
                     and now - a.activated_at > stale_after),
        shelved=sum(a.state is AlarmState.SHELVED for a in current),
        suppressed=sum(a.state is AlarmState.SUPPRESSED for a in current),
        out_of_service=sum(a.state is AlarmState.OUT_OF_SERVICE for a in current),
        standing=sum(a.active and a.state.annunciated for a in current), stale_after_h=settings.stale_after_h)


def _peak_window(times: list[float]) -> tuple[int, float | None]:
    """The most activations in any 10-minute window (sliding, starting at an activation)."""
    best, best_at = 0, None
    for i, t in enumerate(times):
        n = bisect.bisect_left(times, t + WINDOW_S, lo=i) - i
        if n > best:
            best, best_at = n, t
    return best, best_at


def _most_within(times: list[float], span: float) -> int:
    best = 0
    for i, t in enumerate(times):
        best = max(best, bisect.bisect_left(times, t + span, lo=i) - i)
    return best


def _flood_seconds(entries: Iterable[JournalEntry], start: float, end: float) -> float:
    """Seconds of [start, end) between flood_start and flood_end events (a flood still on counts to `end`;
    one that started before `start` counts from `start`)."""
    total, since = 0.0, None
    for e in sorted((e for e in entries if e.category == "alarm" and e.event in ("flood_start", "flood_end")),
                    key=lambda e: e.ts):
        if e.ts >= end:
            break
        if e.event == "flood_start" and since is None:
            since = max(e.ts, start)
        elif e.event == "flood_end" and since is not None:
            total += max(0.0, e.ts - since) if e.ts > start else 0.0
            since = None
    if since is not None:
        total += end - since
    return total
