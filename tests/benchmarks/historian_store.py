"""The large history store of bench_historian (goal 3), built once with raw sqlite3 and cached.

The file is created by `open_database` (so its schema is exactly the historian's, migrations included), then
filled tag after tag in primary-key order (tag_id, ts_us) in large transactions with journaling off (a
throwaway benchmark file; the page cache is the limit), and switched back to WAL at the end, as the
historian leaves it. A sidecar `<file>.json` is written last: a store without it (an interrupted build) or
with another shape is rebuilt.

Run on its own to build the store ahead of the benchmark:
    python -m tests.benchmarks.historian_store [TAGS SAMPLES]
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from hmi.storage.database import open_database

T0 = 1_700_000_000.0  # epoch s of every tag's first sample (2023-11-14 22:13:20 UTC)
PERIOD_S = 1.0
CHUNK = 2_000_000  # rows per transaction while building
BYTES_PER_ROW_MIN = 15  # a store much smaller than this per row is not the one described by its sidecar


def cache_dir() -> Path:
    return Path(os.environ.get("LINEWISE_BENCH_DIR", "bench-results")) / "cache"


def tag_name(i: int) -> str:
    return f"h{i:05d}"


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def describe(path: Path) -> dict | None:
    """The store's shape when it is present and complete, else None."""
    try:
        meta = json.loads(sidecar(path).read_text())
    except (OSError, ValueError):
        return None
    if not path.exists() or path.stat().st_size < meta.get("rows", 0) * BYTES_PER_ROW_MIN:
        return None
    return meta


def signal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A noisy process value: a random walk plus measurement noise."""
    return 50.0 + np.cumsum(rng.normal(0.0, 0.05, n)) + rng.normal(0.0, 0.02, n)


def build(path: Path, tags: int, samples: int, progress: bool = True) -> dict:
    """Create the store (replacing any file there) and return its sidecar description."""
    for suffix in ("", "-wal", "-shm", ".json"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    open_database(path).dispose()  # the historian's schema, migrated to head
    began = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MB
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO tags (id, name, kind) VALUES (?, ?, 'analog')",
                     [(i + 1, tag_name(i)) for i in range(tags)])
    conn.execute("COMMIT")
    ts = (np.round((T0 + np.arange(samples) * PERIOD_S) * 1e6)).astype(np.int64).tolist()
    quality = [0] * samples
    rng = np.random.default_rng(11)
    total = tags * samples
    done = 0
    conn.execute("BEGIN")
    in_tx = 0
    for i in range(tags):
        tag_id = [i + 1] * samples
        conn.executemany("INSERT INTO samples (tag_id, ts_us, value, quality) VALUES (?, ?, ?, ?)",
                         zip(tag_id, ts, signal(rng, samples).tolist(), quality, strict=True))
        done += samples
        in_tx += samples
        if in_tx >= CHUNK:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
            in_tx = 0
            if progress:
                spent = time.perf_counter() - began
                print(f"  building {path.name}: {done / 1e6:.0f}M of {total / 1e6:.0f}M rows, {spent:.0f} s "
                      f"({done / spent / 1e6:.2f}M rows/s)", flush=True)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")  # as the historian leaves its file
    conn.close()
    meta = {"tags": tags, "samples": samples, "rows": total, "t0": T0, "period_s": PERIOD_S,
            "build_s": time.perf_counter() - began, "bytes": path.stat().st_size}
    sidecar(path).write_text(json.dumps(meta, indent=2))
    return meta


def ensure(path: Path, tags: int, samples: int) -> tuple[dict, bool]:
    """The store with that shape, built unless already cached; returns (description, reused)."""
    meta = describe(path)
    if meta is not None and meta["tags"] == tags and meta["samples"] == samples:
        return meta, True
    return build(path, tags, samples), False


if __name__ == "__main__":
    n_tags, n_samples = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) == 3 else (1_000, 100_000)
    target = cache_dir() / f"history-{n_tags * n_samples // 1_000_000}M.sqlite"
    print(ensure(target, n_tags, n_samples))
