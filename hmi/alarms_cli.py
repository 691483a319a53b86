"""`linewise alarms report`: alarm system performance (ISA-18.2 / EEMUA 191) for a period, from the journal.

    linewise alarms report --site DIR [--data-dir DIR] [--hours 24 | --from T --to T] [--csv FILE]

Activations, rates and floods come from the event journal (so any past period can be reported); standing,
stale, shelved, suppressed and out-of-service alarms are as the running station last saved them. `--csv`
also writes one row per figure (and per bad actor and chattering alarm) for a spreadsheet.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from hmi.alarms.engine import AlarmEngine
from hmi.alarms.kpi import AlarmKpis, compute_kpis
from hmi.cli_support import add_site_arguments, iso_time, open_site
from hmi.runtime.runtime import ALARM_STATE_FILE
from hmi.site.alarm_schema import Priority
from hmi.storage.database import HistorianError
from hmi.storage.journal import read_journal

MAX_ENTRIES = 5_000_000


def alarms_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linewise alarms", description="Alarm system performance of a site.")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="alarm KPIs (ISA-18.2 / EEMUA 191) for a period")
    add_site_arguments(report)
    report.add_argument("--hours", type=float, default=24.0, help="the last N hours (default 24)")
    report.add_argument("--from", dest="start", type=iso_time, metavar="TIME", help="ISO 8601 with zone")
    report.add_argument("--to", dest="end", type=iso_time, metavar="TIME", help="ISO 8601 with zone (default now)")
    report.add_argument("--csv", type=Path, metavar="FILE", help="also write the figures as CSV")
    args = parser.parse_args(argv)
    opened = open_site(args, "linewise alarms")
    if opened is None:
        return 2
    site, data_dir = opened.site, opened.data_dir
    now = time.time()
    end = args.end if args.end is not None else now
    start = args.start if args.start is not None else end - args.hours * 3600
    if end <= start:
        parser.error("the period must end after it starts")
    engine = AlarmEngine(site, state_file=data_dir / ALARM_STATE_FILE)
    engine.restore()
    try:
        # a flood that began before the period counts from its start: read its flood_start too
        entries = [s.entry for s in read_journal(opened.target,
                                                 start=start - engine.settings.flood_window_s * 6, end=end,
                                                 limit=MAX_ENTRIES)]
    except HistorianError as exc:
        print(f"linewise alarms: {exc}", file=sys.stderr)
        return 1
    priorities = {alarm_id: point.priority for alarm_id, point in engine.points.items()}
    kpis = compute_kpis(entries, start, end, priorities, engine.snapshot(), engine.settings, now)
    print(format_report(site.project.name, kpis))
    if args.csv:
        write_csv(args.csv, kpis)
        print(f"written to {args.csv}")
    return 0


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
        f"  now                 {k.standing} standing, {len(k.stale)} stale (over 24 h)"
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
