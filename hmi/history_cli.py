"""`linewise history ...`: the historian from a terminal.

    linewise history export --site DIR --tags a,b --from 2026-11-01T00:00Z --to 2026-11-02T00:00Z --out F.csv
    linewise history usage  --site DIR                     what the history takes on disk

The database is the site's (`historian.database`, default history.sqlite in the data directory); `--data-dir`
as for `linewise --site`. An export shows its progress and stops cleanly on Ctrl-C, leaving no half file.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from hmi.cli_support import add_site_arguments, iso_time, open_site
from hmi.storage.database import HistorianError, open_database
from hmi.storage.export import ExportCancelled, export_csv
from hmi.storage.queries import HistoryStore
from hmi.storage.retention import disk_usage


def history_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linewise history", description="Export and inspect a site's history.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write stored samples to CSV (time_utc, tag, value, quality)")
    usage = commands.add_parser("usage", help="what the history takes on disk")
    for sub in (export, usage):
        add_site_arguments(sub)
    export.add_argument("--tags", required=True, help="comma-separated tag names, or * for every tag of the site")
    export.add_argument("--from", dest="start", type=iso_time, required=True, metavar="TIME", help="ISO 8601 with zone")
    export.add_argument("--to", dest="end", type=iso_time, required=True, metavar="TIME", help="ISO 8601 with zone")
    export.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    args = parser.parse_args(argv)
    opened = open_site(args, "linewise history")
    if opened is None:
        return 2
    site, target = opened.site, opened.target
    if args.command == "usage":
        return _usage(target)
    tags = list(site.tags) if args.tags.strip() == "*" else [t.strip() for t in args.tags.split(",") if t.strip()]
    unknown = [t for t in tags if t not in site.tags]
    if unknown:
        parser.error(f"not tags of this site: {', '.join(unknown)}")
    if args.end < args.start:
        parser.error("--to is before --from")
    return _export(target, tags, args.start, args.end, args.out)


def _export(target, tags: list[str], start: float, end: float, out: Path) -> int:  # type: ignore[no-untyped-def]
    cancel = threading.Event()

    def progress(fraction: float) -> None:
        print(f"\rexporting {len(tags)} tags: {fraction:6.1%}", end="", file=sys.stderr, flush=True)

    store = HistoryStore(target)
    try:
        result = export_csv(store, tags, start, end, out, progress=progress, cancel=cancel)
    except KeyboardInterrupt:
        print("\nexport cancelled; nothing written", file=sys.stderr)
        return 130
    except ExportCancelled:
        return 130
    except (OSError, HistorianError) as exc:
        print(f"\nlinewise history: export failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"\n{result.rows} samples written to {result.path}", file=sys.stderr)
    return 0


def _usage(target) -> int:  # type: ignore[no-untyped-def]
    try:
        database = open_database(target, migrate=False)
    except HistorianError as exc:
        print(f"linewise history: {exc}", file=sys.stderr)
        return 1
    try:
        used = disk_usage(database)
    finally:
        database.dispose()
    reusable = f" ({used.reusable_bytes / 1e6:.1f} MB of it free pages, reused by new samples)" \
        if used.reusable_bytes else ""
    print(f"{database.where}: {used.bytes / 1e6:.1f} MB{reusable}")
    for name, table in used.tables.items():
        rows = "" if table.rows is None else f", ~{table.rows} rows"
        print(f"  {name}: {table.bytes / 1e6:.1f} MB{rows}")
    return 0
