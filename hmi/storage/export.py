"""History to CSV: any set of tags over any range, in time chunks, with progress and cancellation.

The file is "tall" (one row per stored sample: time, tag, value, quality), the layout historians export and
spreadsheets and pandas pivot easily; times are UTC ISO 8601 with microseconds. Acquisition stops are rows
too (quality `not acquiring`, no value), so a reader sees where nothing was recorded. The range is read a
chunk of time at a time, so memory stays bounded whatever the range; the file is written beside its target
and renamed into place at the end, so a cancelled or failed export leaves no half file behind.

Blocking: run it on a worker thread (the CLI runs it on the main thread).
"""

from __future__ import annotations

import csv
import heapq
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drivers.model import Quality
from hmi.storage.queries import NOT_ACQUIRING, HistoryStore, check_range

CHUNK_S = 3600.0  # history read per query: an hour of every tag
QUALITY_TEXT = {int(q): q.name.lower().replace("_", " ") for q in Quality} | {NOT_ACQUIRING: "not acquiring"}


class ExportCancelled(Exception):
    pass


@dataclass
class ExportResult:
    path: Path
    rows: int


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def export_csv(store: HistoryStore, tags: Sequence[str], start: float, end: float, path: Path, *,
               progress: Callable[[float], None] | None = None, cancel: threading.Event | None = None,
               chunk_s: float = CHUNK_S) -> ExportResult:
    """Write every stored sample of `tags` with start <= t <= end to `path`; `progress(fraction)` after each
    chunk; `cancel.set()` stops it (ExportCancelled, no file written)."""
    check_range(start, end)
    if not tags:
        raise ValueError("no tags to export")
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    rows = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["time_utc", "tag", "value", "quality"])
            lo = start
            while lo <= end:
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled(f"export to {path} cancelled")
                hi = min(lo + chunk_s, end)
                last = hi >= end
                series = [(tag, store.raw(tag, lo, hi, end_open=not last)) for tag in tags]
                merged = heapq.merge(*([(float(t), tag, v, int(q)) for t, v, q in
                                        zip(s.t.tolist(), s.value.tolist(), s.quality.tolist(), strict=True)]
                                       for tag, s in series))
                for t, tag, value, quality in merged:
                    writer.writerow([iso(t), tag, "" if value != value else repr(value),
                                     QUALITY_TEXT.get(quality, str(quality))])
                    rows += 1
                if progress is not None:
                    progress(1.0 if last else (hi - start) / max(end - start, 1e-9))
                if last:
                    break
                lo = hi
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(path, rows)
