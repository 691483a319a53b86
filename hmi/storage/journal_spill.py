"""Journal entries that could not be written before Linewise stopped (the database was down, locked, full):
kept in a small JSON-lines file next to the journal's anchor and recorded first at the next start, so a
stop during an outage loses no audit entry. The file is replaced whole (`hmi.files.write_atomically`)
and removed once its entries are committed."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

from hmi.files import write_atomically
from hmi.storage.journal_chain import Category, JournalEntry

log = logging.getLogger(__name__)

SPILL_FILE = "journal-pending.jsonl"


def spill_path(anchor_file: Path | None) -> Path | None:
    return None if anchor_file is None else anchor_file.with_name(SPILL_FILE)


def write_spill(path: Path, entries: list[JournalEntry]) -> None:
    write_atomically(path, "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in entries))


def read_spill(path: Path) -> list[JournalEntry]:
    """The entries of a spill file; a line that cannot be read is logged and skipped (the rest are kept)."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            fields = json.loads(line)
            entries.append(JournalEntry(**{**fields, "category": Category(fields["category"])}))
        except (ValueError, TypeError, KeyError) as exc:
            log.error("journal: %s:%d cannot be read (%s): that entry is lost", path, number, exc)
    return entries
