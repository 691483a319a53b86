"""Times on the command line: ISO 8601 with a zone, so that a report never depends on the machine's zone."""

from __future__ import annotations

import argparse
from datetime import datetime


def iso_time(text: str) -> float:
    """An argparse type: '2026-11-01T06:00Z' or with an offset -> epoch seconds."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (e.g. 2026-11-01T06:00Z)") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone: add Z (UTC) or an offset such as +01:00")
    return moment.timestamp()
