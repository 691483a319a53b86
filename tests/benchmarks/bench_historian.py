"""Historian: live ingest, burst backfill, reading an hour out of a large store, and bytes per stored value.

The four goals of the historian issue, measured in one run (python -m tests.benchmarks.bench_historian):

1. Ingest: 10,000 tags at 10 Hz (100,000 values/s) of noisy analog random walks, swinging door on, through
   a real asyncio loop that submits one list of 10,000 TagUpdates every 0.1 s (as the tag registry does),
   the historian at its defaults (flush_interval_s=1 s, batch_rows=500,000). Goal: <= 25 % of one core.
   CPU = process time (every thread) / wall time; the benchmark's own cost of building the TagUpdates is
   measured on its thread (thread_time) and subtracted. A second run with batch_rows at one tenth of a second of
   samples (10 flushes a second) shows what flushing more often than the interval costs.
2. Backfill: N tags x M samples (mode "all") through `Historian.backfill` vs raw sqlite3 `executemany`
   (INSERT OR REPLACE, the historian's statement and pragmas, transactions of the same size) into a file
   created by `open_database` (the same schema). The baseline includes turning the arrays into rows (the
   input of both is arrays). The backfill also computes and stores the roll-ups. Goal: >= 0.8x raw.
3. One hour (3,600 samples at 1 s) of one tag from a store of >= 100M rows, `HistoryStore.raw` (what a trend
   and an export call: a fresh read-only connection, the samples and the acquisition stops in one snapshot,
   read by `ext.SqliteReader`), 200 random tags and hours. Goal: median <= 2 ms. Also the compiled reader
   alone (`ext._sqlite_read.read_series`, the same query) and its twin (Python's sqlite3), against the
   baseline: the bare sqlite3 query (fresh read-only connection) + fetchall + np.array; all four interleaved,
   and the compiled reader and the baseline again on one open connection. The store is built once (minutes)
   into bench-results/cache and reused (tests/benchmarks/historian_store.py). The page cache is warm after
   the build or previous runs: these are warm-cache figures.
4. Bytes per stored value: 100 tags x 100,000 samples of a noisy random walk, mode "sdt" at 0.5 % of each
   signal's range vs mode "all", written by backfill; file bytes (after a WAL checkpoint) / input values.

LINEWISE_BENCH_QUICK=1 runs a smaller version of everything (a 10M-row store instead of 100M).
LINEWISE_BENCH_ONLY=query (or ingest, backfill, size; comma-separated) runs only those goals; their JSON is then
bench-historian-<goals>.json, so a partial run does not replace the full one.
"""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import io
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

import ext
from drivers.model import Quality, TagUpdate
from ext import sqlite_read_twins
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG
from hmi.storage.database import open_database
from hmi.storage.historian import BACKFILL_ROWS, Historian, HistoryTag
from hmi.storage.queries import HistoryStore
from tests.benchmarks import historian_store, write_result

QUICK = os.environ.get("LINEWISE_BENCH_QUICK", "") not in ("", "0")

# 1. ingest
INGEST_TAGS, INGEST_HZ = 10_000, 10
INGEST_SECONDS = 6.0 if QUICK else 15.0
INGEST_DEVIATION = 0.1  # twice the walk's step: about a fifth of the samples are kept
INGEST_CPU_GOAL = 0.25
# 2. backfill
BACKFILL_TAGS, BACKFILL_SAMPLES = (5, 100_000) if QUICK else (30, 100_000)
BACKFILL_REPEATS = 2 if QUICK else 3
BACKFILL_GOAL = 0.8
# 3. query
STORE_TAGS, STORE_SAMPLES = (100, 100_000) if QUICK else (1_000, 100_000)
QUERIES = 200
QUERY_GOAL_S = 0.002
FREE_DISK_NEEDED = 10e9
# 4. bytes per value
SIZE_TAGS, SIZE_SAMPLES = (20, 100_000) if QUICK else (100, 100_000)
SIZE_DEVIATION = 0.005  # of each signal's range

TAG_PREFIX = "t"


def tag_names(n: int) -> list[str]:
    return [f"{TAG_PREFIX}{i:05d}" for i in range(n)]


def noisy_walk(rng: np.random.Generator, n: int) -> np.ndarray:
    return 50.0 + np.cumsum(rng.normal(0.0, 0.05, n)) + rng.normal(0.0, 0.02, n)


def top_of(profile: cProfile.Profile, lines: int = 14) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(lines)
    text = out.getvalue()
    start = text.find("   ncalls")
    return text[start:].rstrip() if start >= 0 else text


def checkpoint(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


# -- 1. ingest ----------------------------------------------------------------------------------------


def ingest(folder: Path, batch_rows: int | None, seconds: float, profile: bool = False) -> dict[str, Any]:
    names = tag_names(INGEST_TAGS)
    specs = [HistoryTag(n, HistorySpec(mode="sdt", deviation=INGEST_DEVIATION), ANALOG) for n in names]
    rng = np.random.default_rng(5)
    level = 50.0 + rng.normal(0.0, 5.0, INGEST_TAGS)
    good = Quality.GOOD

    def updates(ts: float) -> list[TagUpdate]:
        nonlocal level
        level = level + rng.normal(0.0, 0.05, INGEST_TAGS)
        values = (level + rng.normal(0.0, 0.02, INGEST_TAGS)).tolist()
        return [TagUpdate(n, v, good, ts, ts) for n, v in zip(names, values, strict=True)]

    async def run() -> dict[str, Any]:
        options = {} if batch_rows is None else {"batch_rows": batch_rows}  # flush_interval_s: default 1 s
        historian = Historian(folder / "ingest.sqlite", **options)
        await historian.start(specs)
        writes: list[float] = []  # writer thread CPU per flush
        write = historian._write
        profiler = cProfile.Profile() if profile else None

        def timed_write(*args: Any) -> None:
            began = time.thread_time()
            if profiler is not None:
                profiler.enable()
            try:
                write(*args)
            finally:
                if profiler is not None:
                    profiler.disable()
                writes.append(time.thread_time() - began)

        historian._write = timed_write  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1.2)  # the first flush (the acquisition start) out of the way
        writes.clear()
        ticks = round(seconds * INGEST_HZ)
        build_cpu = submit_cpu = 0.0
        late = 0
        wall0, cpu0, rows0 = time.perf_counter(), time.process_time(), historian.rows_written
        next_at = loop.time()
        for _ in range(ticks):
            t0 = time.thread_time()
            batch = updates(time.time())
            t1 = time.thread_time()
            historian.submit(batch)
            submit_cpu += time.thread_time() - t1
            build_cpu += t1 - t0
            next_at += 1.0 / INGEST_HZ
            delay = next_at - loop.time()
            late += delay < 0
            await asyncio.sleep(max(0.0, delay))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        rows = historian.rows_written - rows0
        flushes, writer_cpu = len(writes), sum(writes)
        waiting = historian._pending_count + historian.backlog
        close0 = time.perf_counter()
        await historian.close()
        close_s = time.perf_counter() - close0
        values = ticks * INGEST_TAGS
        return {
            "batch_rows": historian.batch_rows, "flush_interval_s": historian.flush_interval_s, "seconds": wall,
            "values": values, "values_per_s": values / wall, "rows_stored": rows, "rows_per_s": rows / wall,
            "kept_ratio": historian.rows_written / max(1, historian.samples_received),
            "cpu_fraction_total": cpu / wall, "cpu_fraction_building_updates": build_cpu / wall,
            "cpu_fraction_historian": (cpu - build_cpu) / wall, "cpu_fraction_submit": submit_cpu / wall,
            "cpu_fraction_writer_thread": writer_cpu / wall, "flushes": flushes, "flushes_per_s": flushes / wall,
            "writer_cpu_per_flush_ms": 1e3 * writer_cpu / max(1, flushes), "late_ticks": int(late),
            "waiting_at_end": waiting, "close_s": close_s, "rows_dropped": historian.rows_dropped,
            "profile": top_of(profiler) if profiler is not None else None,
        }

    return asyncio.run(run())


# -- 2. backfill --------------------------------------------------------------------------------------


def backfill_data() -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(7)
    t = 1.6e9 + np.arange(BACKFILL_SAMPLES, dtype=np.float64)
    return t, [noisy_walk(rng, BACKFILL_SAMPLES) for _ in range(BACKFILL_TAGS)]


def backfill_ours(path: Path, t: np.ndarray, values: list[np.ndarray], mode: str = "all",
                  deviations: list[float] | None = None, profile: bool = False) -> tuple[float, int, str | None]:
    names = tag_names(len(values))
    specs = [HistoryTag(n, HistorySpec(mode=mode, deviation=deviations[i] if deviations else 0.0), ANALOG)
             for i, n in enumerate(names)]
    quality = np.zeros(len(t), dtype=np.int64)

    async def run() -> tuple[float, int, str | None]:
        historian = Historian(path)
        await historian.start(specs)
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            inner = historian._backfill

            def profiled(*args: Any) -> int:
                profiler.enable()
                try:
                    return inner(*args)
                finally:
                    profiler.disable()

            historian._backfill = profiled  # type: ignore[method-assign]
        stored = 0
        began = time.perf_counter()
        for name, y in zip(names, values, strict=True):
            stored += await historian.backfill(name, t, y, quality)
        elapsed = time.perf_counter() - began
        await historian.close()
        return elapsed, stored, top_of(profiler) if profiler is not None else None

    return asyncio.run(run())


def backfill_raw(path: Path, t: np.ndarray, values: list[np.ndarray]) -> tuple[float, int]:
    open_database(path).dispose()  # the same schema (and WAL mode)
    ts = np.round(t * 1e6).astype(np.int64)
    quality = np.zeros(len(t), dtype=np.int64)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # the historian's pragmas
        began = time.perf_counter()
        stored = 0
        for tag_id, y in enumerate(values, start=1):
            rows = list(zip([tag_id] * len(ts), ts.tolist(), y.tolist(), quality.tolist(), strict=True))
            for at in range(0, len(rows), BACKFILL_ROWS):
                conn.execute("BEGIN")
                conn.executemany("INSERT OR REPLACE INTO samples (tag_id, ts_us, value, quality) VALUES (?, ?, ?, ?)",
                                 rows[at:at + BACKFILL_ROWS])
                conn.execute("COMMIT")
            stored += len(rows)
        elapsed = time.perf_counter() - began
    return elapsed, stored


def bench_backfill(folder: Path) -> dict[str, Any]:
    t, values = backfill_data()
    total = BACKFILL_TAGS * BACKFILL_SAMPLES
    raw_s, ours_s = [], []
    for k in range(BACKFILL_REPEATS):  # interleaved, best of: the machine is small and noisy
        path = folder / f"raw-{k}.sqlite"
        elapsed, stored = backfill_raw(path, t, values)
        assert stored == total
        raw_s.append(elapsed)
        path.unlink()
        path = folder / f"ours-{k}.sqlite"
        elapsed, stored, _ = backfill_ours(path, t, values)
        assert stored == total, (stored, total)
        ours_s.append(elapsed)
        path.unlink()
    raw, ours = min(raw_s), min(ours_s)
    result: dict[str, Any] = {
        "tags": BACKFILL_TAGS, "samples_per_tag": BACKFILL_SAMPLES, "rows": total, "transaction_rows": BACKFILL_ROWS,
        "raw_rows_per_s": total / raw, "ours_rows_per_s": total / ours, "ratio_ours_vs_raw": raw / ours,
        "raw_s": raw_s, "ours_s": ours_s, "rollups_included": True,
    }
    if result["ratio_ours_vs_raw"] < BACKFILL_GOAL:
        _, _, result["profile"] = backfill_ours(folder / "profiled.sqlite", t, values[:3], profile=True)
    return result


# -- 3. query -----------------------------------------------------------------------------------------


QUERY_SQL = "SELECT ts_us, value, quality FROM samples WHERE tag_id = ? AND ts_us >= ? AND ts_us <= ? ORDER BY ts_us"


def bare_query(path: Path, tag_id: int, lo: int, hi: int) -> np.ndarray:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(QUERY_SQL, (tag_id, lo, hi)).fetchall()
    return np.array(rows, dtype=np.float64)


def bench_query() -> dict[str, Any]:
    rows = STORE_TAGS * STORE_SAMPLES
    path = historian_store.cache_dir() / f"history-{rows // 1_000_000}M.sqlite"
    meta = historian_store.describe(path)
    reused = meta is not None and meta["tags"] == STORE_TAGS and meta["samples"] == STORE_SAMPLES
    free = shutil.disk_usage(path.parent if path.parent.exists() else Path.cwd()).free
    if not reused and free < FREE_DISK_NEEDED:
        message = f"skipped: {free / 1e9:.1f} GB free, {FREE_DISK_NEEDED / 1e9:.0f} GB needed to build the store"
        print(f"3. query: {message}")
        return {"skipped": message}
    if reused:
        print(f"3. query: reusing the cached store {path} ({meta['rows']:,} rows, {meta['bytes'] / 1e9:.2f} GB)")
    else:
        print(f"3. query: building the store {path} ({rows:,} rows; takes minutes, cached for the next runs)")
    began = time.perf_counter()
    meta, _ = historian_store.ensure(path, STORE_TAGS, STORE_SAMPLES)
    built_s = 0.0 if reused else time.perf_counter() - began
    store = HistoryStore(path)
    compiled = _compiled_reader()
    rng = random.Random(3)
    cases = []
    for _ in range(QUERIES):
        i = rng.randrange(STORE_TAGS)
        start = meta["t0"] + rng.randrange(STORE_SAMPLES - 3600)
        cases.append((i, start, (i + 1, round(start * 1e6), round((start + 3600) * 1e6))))
    # interleaved, case by case: the machine is shared, so all four see the same moments of it
    times: dict[str, list[float]] = {"ours": [], "compiled": [], "twin": [], "bare": []}
    counts = []
    for i, start, params in cases:
        began = time.perf_counter()
        series = store.raw(historian_store.tag_name(i), start, start + 3600)
        times["ours"].append(time.perf_counter() - began)
        if compiled is not None:
            began = time.perf_counter()
            ts, _, _ = compiled.read_series(path, QUERY_SQL, params)
            times["compiled"].append(time.perf_counter() - began)
            assert len(ts) == len(series)
        began = time.perf_counter()
        sqlite_read_twins.read_series(path, QUERY_SQL, params)
        times["twin"].append(time.perf_counter() - began)
        began = time.perf_counter()
        table = bare_query(path, *params)
        times["bare"].append(time.perf_counter() - began)
        assert len(table) == len(series), (len(table), len(series))
        counts.append(len(series))
    # the same queries on one open connection: what the query itself costs, without the connect
    kept: dict[str, list[float]] = {"compiled": [], "bare": []}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        reader = compiled.SqliteReader(path) if compiled is not None else None
        try:
            for _, _, params in cases:
                if reader is not None:
                    began = time.perf_counter()
                    reader.read_series(QUERY_SQL, params)
                    kept["compiled"].append(time.perf_counter() - began)
                began = time.perf_counter()
                np.array(conn.execute(QUERY_SQL, params).fetchall(), dtype=np.float64)
                kept["bare"].append(time.perf_counter() - began)
        finally:
            if reader is not None:
                reader.close()

    def ms(xs: list[float], q: float = 50) -> float | None:
        return float(1e3 * np.percentile(xs, q)) if xs else None

    result: dict[str, Any] = {
        "store": str(path), "store_rows": meta["rows"], "store_bytes": meta["bytes"], "store_reused": reused,
        "store_build_s": built_s or meta.get("build_s"), "queries": QUERIES,
        "rows_per_query": statistics.median(counts), "reader": ext.SqliteReader.__module__,
        **{f"{k}_median_ms": ms(v) for k, v in times.items()}, **{f"{k}_p90_ms": ms(v, 90) for k, v in times.items()},
        "compiled_open_connection_median_ms": ms(kept["compiled"]),
        "bare_open_connection_median_ms": ms(kept["bare"]),
        "ratio_ours_vs_bare": statistics.median(times["bare"]) / statistics.median(times["ours"]),
        "warm_cache": True,
    }
    if compiled is not None:
        result["ratio_compiled_vs_bare"] = result["bare_median_ms"] / result["compiled_median_ms"]
        result["ratio_compiled_vs_bare_open_connection"] = (result["bare_open_connection_median_ms"]
                                                            / result["compiled_open_connection_median_ms"])
    if result["ours_median_ms"] > QUERY_GOAL_S * 1e3:
        profiler = cProfile.Profile()
        profiler.enable()
        for i, start, _ in cases[:50]:
            store.raw(historian_store.tag_name(i), start, start + 3600)
        profiler.disable()
        result["profile"] = top_of(profiler)
    store.close()
    return result


def _compiled_reader() -> Any:
    """ext._sqlite_read, or None when it is not built."""
    try:
        return importlib.import_module("ext._sqlite_read")
    except ImportError:
        return None


# -- 4. bytes per value -------------------------------------------------------------------------------


def bench_size(folder: Path) -> dict[str, Any]:
    rng = np.random.default_rng(13)
    t = 1.6e9 + np.arange(SIZE_SAMPLES, dtype=np.float64)
    values = [noisy_walk(rng, SIZE_SAMPLES) for _ in range(SIZE_TAGS)]
    deviations = [SIZE_DEVIATION * float(np.ptp(y)) for y in values]
    inputs = SIZE_TAGS * SIZE_SAMPLES
    result: dict[str, Any] = {"tags": SIZE_TAGS, "samples_per_tag": SIZE_SAMPLES, "values": inputs,
                              "deviation_of_range": SIZE_DEVIATION}
    for mode in ("sdt", "all"):
        path = folder / f"size-{mode}.sqlite"
        elapsed, stored, _ = backfill_ours(path, t, values, mode, deviations)
        checkpoint(path)
        size = file_bytes(path)
        with closing(sqlite3.connect(path)) as conn:
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            free_pages = conn.execute("PRAGMA freelist_count").fetchone()[0]
            try:
                samples_bytes = conn.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = 'samples'").fetchone()[0]
            except sqlite3.OperationalError:  # SQLite built without dbstat
                samples_bytes = None
        result[mode] = {"rows": stored, "kept_ratio": stored / inputs, "file_bytes": size,
                        "bytes_per_value": size / inputs, "bytes_per_stored_row": size / max(1, stored),
                        "samples_table_bytes": samples_bytes, "free_bytes": free_pages * page,
                        "backfill_s": elapsed}
        path.unlink()
    result["compression_ratio"] = result["all"]["file_bytes"] / result["sdt"]["file_bytes"]
    return result


# -- report -------------------------------------------------------------------------------------------


def timed(label: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    began = time.perf_counter()
    result = fn()
    print(f"   ({label}: {time.perf_counter() - began:.0f} s)", flush=True)
    return result


def only() -> list[str]:
    """The goals to run: LINEWISE_BENCH_ONLY (comma-separated names of GOALS), default all."""
    names = [n.strip() for n in os.environ.get("LINEWISE_BENCH_ONLY", "").split(",") if n.strip()]
    unknown = sorted(set(names) - set(GOALS))
    if unknown:
        raise SystemExit(f"LINEWISE_BENCH_ONLY: no goal {', '.join(unknown)} (choose from {', '.join(GOALS)})")
    return [g for g in GOALS if g in names] or list(GOALS)


GOALS = ("ingest", "backfill", "query", "size")


def main() -> None:
    run = only()
    print(f"historian benchmark{' (LINEWISE_BENCH_QUICK: smaller sizes)' if QUICK else ''}"
          f"{'' if len(run) == len(GOALS) else ' (LINEWISE_BENCH_ONLY: ' + ', '.join(run) + ')'}", flush=True)
    results: dict[str, Any] = {"quick": QUICK}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "ingest" in run:
            print(f"1. ingest: {INGEST_TAGS:,} tags x {INGEST_HZ} Hz, SDT, {INGEST_SECONDS:.0f} s per run", flush=True)
            ingest_default = timed("ingest, defaults", lambda: ingest(folder / "a", None, INGEST_SECONDS))
            ingest_1s = timed("ingest, early flushes", lambda: ingest(folder / "b", 10_000, INGEST_SECONDS))
            if ingest_default["cpu_fraction_historian"] > INGEST_CPU_GOAL:
                ingest_default["profile"] = timed("ingest, profiled", lambda: ingest(
                    folder / "c", None, min(INGEST_SECONDS, 6.0), profile=True))["profile"]
            results.update(ingest_defaults=ingest_default, ingest_1s_flushes=ingest_1s)
        if "backfill" in run:
            print(f"2. backfill: {BACKFILL_TAGS} tags x {BACKFILL_SAMPLES:,} samples, mode all", flush=True)
            results["backfill"] = timed("backfill", lambda: bench_backfill(folder))
        if "size" in run:
            print(f"4. size: {SIZE_TAGS} tags x {SIZE_SAMPLES:,} samples, SDT at {SIZE_DEVIATION:.1%} of range vs "
                  "all", flush=True)
            results["size"] = timed("size", lambda: bench_size(folder))
    if "query" in run:
        results["query"] = timed("query", bench_query)

    print()
    goals = []
    if "ingest" in run:
        goals.append(report_ingest(results["ingest_defaults"], results["ingest_1s_flushes"]))
    if "backfill" in run:
        goals.append(report_backfill(results["backfill"]))
    if "query" in run:
        goals.append(report_query(results["query"]))
    if "size" in run:
        goals.append(report_size(results["size"]))
    print()
    print(f"{'goal':<52}{'measured':<44}status")
    for goal, measured, met in goals:
        status = "reported" if met is None else ("met" if met else "NOT met")
        if goal.startswith("3.") and "skipped" not in results["query"] and results["query"]["store_rows"] < 100e6:
            status += " (quick store < 100M rows)"
        print(f"{goal:<52}{measured:<44}{status}")
    for label, key in (("ingest (writer thread)", "ingest_defaults"), ("backfill (writer thread)", "backfill"),
                       ("query", "query")):
        if results.get(key, {}).get("profile"):
            print(f"\nprofile, {label}, by own time:\n{results[key]['profile']}")
    results["goals"] = {goal: {"measured": measured, "met": met} for goal, measured, met in goals}
    write_result("bench-historian" if len(run) == len(GOALS) else f"bench-historian-{'-'.join(run)}", results)


def report_ingest(ingest_default: dict[str, Any], ingest_1s: dict[str, Any]) -> tuple[str, str, bool | None]:
    print("1. ingest (process CPU / wall; the benchmark's building of TagUpdates subtracted)")
    print(f"   {'run':<34}{'values/s':>10}{'rows/s':>9}{'CPU total':>10}{'building':>9}{'historian':>10}"
          f"{'writer':>8}{'submit':>8}{'flushes/s':>10}{'ms/flush':>9}")
    for label, r in ((f"defaults (1 s, batch_rows {ingest_default['batch_rows']:,})", ingest_default),
                     (f"early flushes (batch_rows {ingest_1s['batch_rows']:,})", ingest_1s)):
        print(f"   {label:<34}{r['values_per_s']:>10,.0f}{r['rows_per_s']:>9,.0f}{r['cpu_fraction_total']:>10.1%}"
              f"{r['cpu_fraction_building_updates']:>9.1%}{r['cpu_fraction_historian']:>10.1%}"
              f"{r['cpu_fraction_writer_thread']:>8.1%}{r['cpu_fraction_submit']:>8.1%}{r['flushes_per_s']:>10.1f}"
              f"{r['writer_cpu_per_flush_ms']:>9.1f}")
        print(f"   {'':<34}writer thread {1e3 * r['writer_cpu_per_flush_ms'] / INGEST_TAGS:.1f} µs of CPU per tag per "
              f"flush; submit {1e6 * r['cpu_fraction_submit'] / r['values_per_s']:.2f} µs per TagUpdate")
        print(f"   {'':<34}kept {r['kept_ratio']:.1%} of the samples, {r['late_ticks']} late ticks, "
              f"{r['waiting_at_end']:,} samples/rows waiting at the end, close {r['close_s']:.1f} s, "
              f"{r['rows_dropped']} dropped")
    return ("1. ingest 100k values/s, <= 25 % of a core", f"{ingest_default['cpu_fraction_historian']:.1%} of a core "
            f"at {ingest_default['values_per_s']:,.0f} values/s",
            ingest_default["cpu_fraction_historian"] <= INGEST_CPU_GOAL
            and ingest_default["values_per_s"] >= 0.97 * INGEST_TAGS * INGEST_HZ)


def report_backfill(backfill: dict[str, Any]) -> tuple[str, str, bool | None]:
    print("2. backfill (best of the interleaved runs; the historian's includes its roll-ups)")
    print(f"   raw sqlite3 executemany {backfill['raw_rows_per_s']:>12,.0f} rows/s")
    print(f"   Historian.backfill      {backfill['ours_rows_per_s']:>12,.0f} rows/s   ratio "
          f"{backfill['ratio_ours_vs_raw']:.2f}")
    return ("2. backfill >= 0.8x raw executemany", f"{backfill['ratio_ours_vs_raw']:.2f}x",
            backfill["ratio_ours_vs_raw"] >= BACKFILL_GOAL)


def report_query(query: dict[str, Any]) -> tuple[str, str, bool | None]:
    goal = "3. 1 h of 1 tag from >= 100M rows, median <= 2 ms"
    if "skipped" in query:
        print(f"3. query: {query['skipped']}")
        return goal, "skipped", None
    print(f"3. query: one hour ({query['rows_per_query']:,.0f} rows) of one tag from {query['store_rows']:,} rows "
          f"({query['store_bytes'] / 1e9:.2f} GB, {'cached' if query['store_reused'] else 'built this run'}; "
          f"warm page cache); {query['queries']} random tags and hours, interleaved; median, p90")
    print(f"   {'(a fresh connection per query)':<44}{'median':>8}{'p90':>8}   {'one open connection: median':>28}")

    def line(label: str, key: str, kept: str | None = None) -> None:
        open_ = f"{query[kept]:.2f} ms" if kept and query.get(kept) is not None else ""
        print(f"   {label:<44}{query[key + '_median_ms']:8.2f}{query[key + '_p90_ms']:8.2f} ms{open_:>28}")

    line(f"HistoryStore.raw ({query['reader']})", "ours")
    if query["compiled_median_ms"] is not None:
        line("compiled reader (ext._sqlite_read)", "compiled", "compiled_open_connection_median_ms")
    line("twin (Python sqlite3: fetchall + arrays)", "twin")
    line("bare sqlite3 fetchall + np.array (baseline)", "bare", "bare_open_connection_median_ms")
    if query["compiled_median_ms"] is None:
        print("   (ext._sqlite_read is not compiled: no compiled reader to compare)")
    else:
        print(f"   compiled reader vs baseline: {query['ratio_compiled_vs_bare']:.1f}x as fast on a fresh connection, "
              f"{query['ratio_compiled_vs_bare_open_connection']:.1f}x on an open one")
    return (goal, f"{query['ours_median_ms']:.2f} ms ({query['store_rows'] / 1e6:.0f}M rows)",
            query["ours_median_ms"] <= QUERY_GOAL_S * 1e3 and query["store_rows"] >= 100e6)


def report_size(size: dict[str, Any]) -> tuple[str, str, bool | None]:
    print("4. bytes per value (file after a WAL checkpoint / input values)")
    for mode in ("sdt", "all"):
        r = size[mode]
        print(f"   {mode:<4} {r['bytes_per_value']:6.2f} B/value, {r['rows']:>10,} rows ({r['kept_ratio']:.1%}), "
              f"{r['file_bytes'] / 1e6:7.1f} MB, {r['bytes_per_stored_row']:.1f} B/stored row"
              + ("" if r["samples_table_bytes"] is None else
                 f"; samples table alone {r['samples_table_bytes'] / r['rows']:.1f} B/row, "
                 f"{r['samples_table_bytes'] / size['values']:.2f} B/value (the rest: roll-ups, tags)"))
    print(f"   compression ratio {size['compression_ratio']:.1f}x")
    return ("4. bytes/value, SDT 0.5 % vs raw", f"{size['sdt']['bytes_per_value']:.2f} vs "
            f"{size['all']['bytes_per_value']:.2f} B ({size['compression_ratio']:.1f}x)", None)


if __name__ == "__main__":
    main()
