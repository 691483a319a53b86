"""`linewise alarms report`: alarm system performance (ISA-18.2 / EEMUA 191) for a period, from the journal.

    linewise alarms report --site DIR [--data-dir DIR] [--hours 24 | --from T --to T] [--csv FILE]

Activations, rates and floods come from the event journal (so any past period can be reported); standing,
stale, shelved, suppressed and out-of-service alarms are as the running station last saved them. `--csv`
also writes one row per figure (and per bad actor and chattering alarm) for a spreadsheet.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hmi.alarms.engine import AlarmEngine
from hmi.alarms.report import MAX_ENTRIES, format_report, read_kpis, write_csv
from hmi.cli_support import add_site_arguments, iso_time, open_site
from hmi.runtime.runtime import ALARM_STATE_FILE
from hmi.storage.database import HistorianError

# the report itself lives in hmi.alarms.report, where the alarm summary's Performance tab uses it too
__all__ = ["MAX_ENTRIES", "alarms_main", "format_report", "write_csv"]


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
    priorities = {alarm_id: point.priority for alarm_id, point in engine.points.items()}
    try:
        kpis = read_kpis(opened.target, start, end, priorities, engine.snapshot(), engine.settings, now)
    except HistorianError as exc:
        print(f"linewise alarms: {exc}", file=sys.stderr)
        return 1
    print(format_report(site.project.name, kpis))
    if args.csv:
        write_csv(args.csv, kpis)
        print(f"written to {args.csv}")
    return 0
