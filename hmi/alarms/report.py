"""The alarm performance report, the same on the screen (the alarm summary's Performance tab) and from the
command line (`linewise alarms report`): the KPIs of a period read from the journal, as text and as CSV, and
the EEMUA 191 / ISA-18.2 benchmarks they are judged against, in words. Qt-free; `read_kpis` reads the
database, so it runs on a worker thread in the GUI.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hmi.alarms.kpi import AlarmKpis, compute_kpis
from hmi.alarms.model import AlarmSnapshot
from hmi.site.alarm_schema import AlarmSettings, Priority
from hmi.storage.journal import read_journal

MAX_ENTRIES = 5_000_000
FLOOD_LOOKBACK_WINDOWS = 6  # a flood that began before the period counts from its start: read its flood_start

# EEMUA 191 / ISA-18.2 benchmarks (annunciated alarms per 10 minutes and per period)
ACCEPTABLE_PER_10_MIN = 1.0  # very likely acceptable
MANAGEABLE_PER_10_MIN = 2.0  # the most that is manageable
FLOOD_PER_10_MIN = 10  # more than this in 10 minutes is a flood
FLOOD_TIME_TARGET = 0.01  # ISA-18.2: in flood less than about 1 % of the time
STALE_TARGET = 5  # ISA-18.2: fewer than 5 stale alarms on any day
PRIORITY_AIM = {Priority.LOW: 0.80, Priority.MEDIUM: 0.15, Priority.HIGH: 0.05}  # HIGH: high and critical
MIN_FOR_DISTRIBUTION = 10  # fewer activations than this say nothing about the distribution


def read_kpis(target: Path | str, start: float, end: float, priorities: Mapping[str, Priority],
              current: Sequence[AlarmSnapshot], settings: AlarmSettings, now: float,
              limit: int = MAX_ENTRIES) -> AlarmKpis:
    """The journal's entries of [start, end] (and a little before, for a flood already on) made into KPIs.
    Raises HistorianError when the database cannot be read (worker thread)."""
    entries = [s.entry for s in read_journal(target, start=start - settings.flood_window_s * FLOOD_LOOKBACK_WINDOWS,
                                             end=end, limit=limit)]
    return compute_kpis(entries, start, end, priorities, current, settings, now)


# -- judged against the benchmarks --------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    words: str
    beyond: bool  # beyond its benchmark (shown in amber on the screen, always with these words)


def average_verdict(per_10_min: float) -> Verdict:
    if per_10_min <= ACCEPTABLE_PER_10_MIN:
        return Verdict("very likely acceptable", False)
    if per_10_min <= MANAGEABLE_PER_10_MIN:
        return Verdict("manageable", False)
    if per_10_min <= FLOOD_PER_10_MIN:
        return Verdict("over the manageable rate of about 2", True)
    return Verdict("a flood rate (over 10 in 10 min)", True)


def peak_verdict(peak: int) -> Verdict:
    if peak > FLOOD_PER_10_MIN:
        return Verdict("a flood: over 10 in 10 min", True)
    return Verdict("no flood (10 or fewer in 10 min)", False)


def flood_time_verdict(fraction: float) -> Verdict:
    if fraction > FLOOD_TIME_TARGET:
        return Verdict("over the ISA-18.2 target of about 1 %", True)
    return Verdict("within the ISA-18.2 target of about 1 %" if fraction else "never in flood", False)


def stale_verdict(stale: int) -> Verdict:
    if stale >= STALE_TARGET:
        return Verdict("ISA-18.2: fewer than 5", True)
    return Verdict("none" if not stale else "ISA-18.2: fewer than 5", False)


def high_share(k: AlarmKpis) -> float:
    """The share of high and critical alarms (ISA-18.2's 'high' of about 5 %)."""
    return k.priority_distribution[Priority.HIGH] + k.priority_distribution[Priority.CRITICAL]


def priority_verdict(k: AlarmKpis) -> Verdict:
    """Of the high and critical alarms together (`high_share`): too many urgent alarms make priority meaningless,
    flagged when they are more than twice their aim (and there are enough alarms to say so)."""
    if k.activations < MIN_FOR_DISTRIBUTION:
        return Verdict(f"too few alarms ({k.activations}) to judge the distribution", False)
    if high_share(k) > 2 * PRIORITY_AIM[Priority.HIGH]:
        return Verdict("far over the aim of about 5 %: priority no longer tells the operator what is most urgent",
                       True)
    return Verdict("close to the aim of about 5 %", False)


def load_verdict(k: AlarmKpis) -> str:
    """The alarm load in one sentence (the screen's headline)."""
    if not k.activations:
        return "No alarms were shown in this period."
    average, peak = average_verdict(k.per_10_min_average), peak_verdict(k.per_10_min_peak)
    text = f"On average {average.words} ({k.per_10_min_average:.2f} alarms per 10 min); "
    if peak.beyond:
        return text + f"at worst a flood ({k.per_10_min_peak} alarms in 10 min)."
    return text + f"no flood (at most {k.per_10_min_peak} in 10 min)."


# -- text and CSV -------------------------------------------------------------------------------------------

def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%MZ")


def format_report(site: str, k: AlarmKpis) -> str:
    share = ", ".join(f"{p.label.lower()} {k.priority_distribution[p]:.0%}" for p in Priority)
    lines = [
        f"Alarm performance of {site}: {_when(k.start)} to {_when(k.end)} ({k.hours:g} h)",
        f"  alarms shown        {k.activations}",
        f"  per 10 minutes      {k.per_10_min_average:.2f} on average, {k.per_10_min_peak} at worst"
        + (f" (from {_when(k.peak_window_start)})" if k.peak_window_start is not None else "")
        + "   [EEMUA 191: about 1 very likely acceptable, 2 manageable, over 10 a flood]",
        f"  time in flood       {k.flood_fraction:.1%}",
        f"  priorities          {share}   [aim: about 80 % low, 15 % medium, 5 % high]",
        f"  chattering          {', '.join(f'{a} ({n} in 1 min)' for a, n in k.chattering) or 'none'}",
        "  bad actors          " + (", ".join(f"{b.alarm} {b.activations} ({b.share:.0%})" for b in k.bad_actors)
                                    or "none"),
        f"  now                 {k.standing} standing, {len(k.stale)} stale (over {k.stale_after_h:g} h)"
        + (f": {', '.join(k.stale)}" if k.stale else "")
        + f"; {k.shelved} shelved, {k.suppressed} suppressed, {k.out_of_service} out of service",
    ]
    return "\n".join(lines)


def write_csv(path: Path, k: AlarmKpis) -> None:
    rows: list[tuple[str, str, object]] = [
        ("period_start_utc", "", _when(k.start)), ("period_end_utc", "", _when(k.end)),
        ("alarms_shown", "", k.activations), ("per_10_min_average", "", round(k.per_10_min_average, 4)),
        ("per_10_min_peak", "", k.per_10_min_peak), ("flood_fraction", "", round(k.flood_fraction, 4)),
        *[("priority_share", p.label.lower(), round(k.priority_distribution[p], 4)) for p in Priority],
        *[("chattering", alarm, n) for alarm, n in k.chattering],
        *[("bad_actor", b.alarm, b.activations) for b in k.bad_actors],
        ("standing", "", k.standing), ("stale", "", len(k.stale)), ("shelved", "", k.shelved),
        ("suppressed", "", k.suppressed), ("out_of_service", "", k.out_of_service)]
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        writer.writerow(["figure", "alarm", "value"])
        writer.writerows(rows)
