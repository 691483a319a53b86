"""`linewise audit ...`: the event journal from a terminal.

    linewise audit verify --site DIR                  check every station's hash chain and the anchor
    linewise audit list   --site DIR [--from T --to T --category C --source S --user U --text T --limit N]

The journal is in the site's historian database (`historian.database`, default history.sqlite in the data
directory); `--data-dir` as for `linewise --site`. `verify` exits 0 when the journal is intact, 1 when it is
not (each problem printed) or cannot be read, 2 for an invalid site.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from hmi.cli_support import add_site_arguments, iso_time, open_site
from hmi.storage.database import HistorianError
from hmi.storage.journal import Category, StoredEntry, default_anchor, read_journal, verify_journal


def audit_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linewise audit", description="Verify and list a site's event journal.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check the journal's hash chains and anchor (exit 1 if tampered)")
    listing = commands.add_parser("list", help="print journal entries, newest first")
    for sub in (verify, listing):
        add_site_arguments(sub)
    verify.add_argument("--anchor", type=Path, help="the anchor file (default: journal-head.json in the data "
                                                    "directory)")
    listing.add_argument("--from", dest="start", type=iso_time, metavar="TIME", help="ISO 8601 with zone")
    listing.add_argument("--to", dest="end", type=iso_time, metavar="TIME", help="ISO 8601 with zone")
    listing.add_argument("--category", choices=[c.value for c in Category])
    listing.add_argument("--source", help="a tag, alarm or connection name (exact)")
    listing.add_argument("--user", help="a user name (exact)")
    listing.add_argument("--text", help="text anywhere in the entry (case-insensitive)")
    listing.add_argument("--limit", type=int, default=100, help="at most this many entries (default 100)")
    args = parser.parse_args(argv)
    opened = open_site(args, "linewise audit")
    if opened is None:
        return 2
    data_dir, target = opened.data_dir, opened.target
    try:
        if args.command == "verify":
            return _verify(target, args.anchor or default_anchor(target, data_dir))
        entries = read_journal(target, start=args.start, end=args.end, category=args.category, source=args.source,
                               user=args.user, text=args.text, limit=args.limit)
    except HistorianError as exc:
        print(f"linewise audit: {exc}", file=sys.stderr)
        return 1
    for stored in entries:
        print(_line(stored))
    return 0


def _verify(target, anchor: Path | None) -> int:  # type: ignore[no-untyped-def]
    report = verify_journal(target, anchor)
    for warning in report.warnings:
        print(f"warning: {warning}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    stations = ", ".join(f"{s} (seq 1..{n})" for s, n in sorted(report.heads.items())) or "no stations"
    verdict = "intact" if report.ok else f"NOT intact: {len(report.problems)} problem(s)"
    print(f"journal {verdict}: {report.entries_checked} entries checked; {stations}")
    return 0 if report.ok else 1


def _line(stored: StoredEntry) -> str:
    e = stored.entry
    when = datetime.fromtimestamp(e.ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    parts = [when, f"{stored.station}#{stored.seq}", str(e.category), e.event]
    parts += [text for text in (e.source, e.user and f"user={e.user}") if text]
    if e.old_value or e.new_value:
        parts.append(f"{e.old_value!r} -> {e.new_value!r}")
    parts += [text for text in (e.reason and f"reason={e.reason!r}", e.message,
                                e.result != "ok" and f"[{e.result}]") if text]
    return "  ".join(parts)
