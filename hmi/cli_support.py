"""What the site commands (`linewise history|audit|alarms ...`) share: the site and data-directory arguments,
the site's database, and times given as ISO 8601 with a zone (a report never depends on the machine's zone)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hmi.runtime.runtime import default_data_dir, history_target
from hmi.site import Site, SiteError, load_site


def iso_time(text: str) -> float:
    """An argparse type: '2026-11-01T06:00Z' or with an offset -> epoch seconds."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (e.g. 2026-11-01T06:00Z)") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone: add Z (UTC) or an offset such as +01:00")
    return moment.timestamp()


def add_site_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", type=Path, required=True, help="site folder containing site.yaml")
    parser.add_argument("--data-dir", type=Path, help="where the historian is kept (default: per-user data dir)")


@dataclass(frozen=True)
class SiteData:
    site: Site
    data_dir: Path
    target: Path | str  # the historian's (and journal's) database: a SQLite file or a URL


def open_site(args: argparse.Namespace, program: str) -> SiteData | None:
    """The site of `--site` and its data; None (after saying why on stderr) when the site is invalid."""
    try:
        site = load_site(args.site)
    except SiteError as exc:
        print(f"{program}: the site project is invalid:\n{exc}", file=sys.stderr)
        return None
    data_dir = args.data_dir or default_data_dir(site)
    return SiteData(site, data_dir, history_target(site.project.historian.database, data_dir))
