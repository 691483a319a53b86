"""Historian ingest: our writer (SQLAlchemy, batched on its own thread) vs raw sqlite3
executemany into the same WITHOUT ROWID table, in the same run. Reports rows/s and the ratio."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG
from hmi.storage.historian import Historian, HistoryTag
from tests.benchmarks import write_result

TAGS = 100
ROWS = 200_000
BATCH = 10_000


def make_updates() -> list[list[TagUpdate]]:
    start = 1.7e9
    batches, batch = [], []
    for i in range(ROWS):
        batch.append(TagUpdate(f"t{i % TAGS}", float(i), Quality.GOOD, start + i * 0.001, start + i * 0.001))
        if len(batch) == BATCH:
            batches.append(batch)
            batch = []
    return batches


def bench_ours(folder: Path, batches: list[list[TagUpdate]]) -> float:
    async def run() -> float:
        historian = Historian(folder / "ours.sqlite", flush_interval_s=3600, batch_rows=BATCH)
        await historian.start([HistoryTag(f"t{i}", HistorySpec(mode="all"), ANALOG) for i in range(TAGS)])
        began = time.perf_counter()
        for batch in batches:
            historian.submit(batch)
            await historian._flush()  # one commit per batch, as the writer task does
        elapsed = time.perf_counter() - began
        await historian.close()
        assert historian.rows_written == ROWS
        return elapsed

    return asyncio.run(run())


def bench_raw(folder: Path, batches: list[list[TagUpdate]]) -> float:
    conn = sqlite3.connect(folder / "raw.sqlite")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE samples (tag_id INTEGER, ts_us INTEGER, value REAL, quality INTEGER NOT NULL,"
                 " PRIMARY KEY (tag_id, ts_us)) WITHOUT ROWID")
    ids = {f"t{i}": i + 1 for i in range(TAGS)}
    began = time.perf_counter()
    for batch in batches:
        rows = [(ids[u.tag], int(u.source_ts * 1e6), u.value, int(u.quality)) for u in batch]
        with conn:
            conn.executemany("INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


def main() -> None:
    batches = make_updates()
    raw_times, our_times = [], []
    for _ in range(3):  # interleaved, best of three: this machine is small and noisy
        with tempfile.TemporaryDirectory() as tmp:
            raw_times.append(bench_raw(Path(tmp), batches))
        with tempfile.TemporaryDirectory() as tmp:
            our_times.append(bench_ours(Path(tmp), batches))
    raw, ours = min(raw_times), min(our_times)
    result = {"rows": ROWS, "batch": BATCH, "raw_rows_per_s": ROWS / raw, "ours_rows_per_s": ROWS / ours,
              "ratio_ours_vs_raw": raw / ours}
    print(f"{'writer':<28}{'rows/s':>14}")
    print(f"{'raw sqlite3 executemany':<28}{result['raw_rows_per_s']:>14,.0f}")
    print(f"{'linewise Historian':<28}{result['ours_rows_per_s']:>14,.0f}")
    print(f"ratio (ours / raw): {result['ratio_ours_vs_raw']:.2f}")
    write_result("bench-historian", result)


if __name__ == "__main__":
    main()
