"""Alarm engine: 10,000 alarm points evaluated at 100,000 updates/s on a real asyncio loop, and a flood of
1,000 alarms in one second written to the real journal.

1. Evaluation: 5,000 analog tags with a high and a low alarm each (10,000 points; deadbands, a few with
   on-delays), fed as the tag registry does: one list of 5,000 TagUpdates every 50 ms for 10 s (random walks
   that cross their limits now and then, so transitions, listener calls, journal entries and saved alarm
   states happen too; the journal writes on its own thread, which the process time includes).
   The batches are built before the run; CPU = process time / wall time of the run. Goal: <= 50 % of one
   core. Baseline in the same run: a bare loop that looks up each update's tag and compares its value with
   two limits (the least any engine must do), reported as a ratio.
2. Flood: 1,000 alarms become active within one second (10 batches of 100), with the hash-chained journal
   on a SQLite file. Reported: the io-loop time per batch, how long until the journal has every entry, and
   that the chain verifies. (The GUI side of a flood is measured by bench_alarm_screen.)
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from drivers.model import Quality, TagUpdate
from hmi.alarms.engine import AlarmEngine
from hmi.site.loader import Site
from hmi.site.schema import SiteProject
from hmi.storage.journal import Journal, read_journal, verify_journal
from tests.benchmarks import write_result

TAGS = 5_000
RATE_HZ = 20  # 5,000 tags x 20 Hz = 100,000 updates/s
SECONDS = 10
CPU_GOAL = 0.5
FLOOD_ALARMS = 1_000


def make_site(tags: int, delays: bool = True) -> Site:
    project = SiteProject.model_validate({
        "schema_version": 1, "name": "bench", "connections": [{"name": "m", "url": "mem://"}],
        "alarms": {"flood_alarms": 10},
        "tags": [{"name": f"t{i:05d}", "address": f"mem://m/t{i:05d}", "units": "bar",
                  "alarms": [{"type": "hi", "limit": 80.0, "deadband": 1.0,
                              "on_delay_s": 2.0 if delays and i % 10 == 0 else 0},
                             {"type": "lo", "limit": 20.0, "deadband": 1.0}]}
                 for i in range(tags)]})
    return Site(Path("."), project, addresses={}, connection_settings={})


def make_batches(tags: int, steps: int, seed: int = 1) -> list[list[TagUpdate]]:
    rng = np.random.default_rng(seed)
    walk = 50.0 + np.cumsum(rng.normal(0.0, 1.5, size=(steps, tags)), axis=0)
    walk = 50.0 + 45.0 * np.tanh((walk - 50.0) / 45.0)  # stays in 5..95: crosses 20 and 80 now and then
    names = [f"t{i:05d}" for i in range(tags)]
    t0 = time.time()
    good = Quality.GOOD
    return [[TagUpdate(name, float(v), good, t0 + k / RATE_HZ, t0 + k / RATE_HZ)
             for name, v in zip(names, row, strict=True)]
            for k, row in enumerate(walk)]


async def feed(batches: list[list[TagUpdate]], submit) -> tuple[float, float, int]:
    """Hand one batch to `submit` every 1/RATE_HZ s; (wall s, process CPU s, late periods)."""
    period = 1.0 / RATE_HZ
    late = 0
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    for k, batch in enumerate(batches):
        submit(batch)
        delay = start_wall + (k + 1) * period - time.perf_counter()
        if delay < 0:
            late += 1
        await asyncio.sleep(max(0.0, delay))
    return time.perf_counter() - start_wall, time.process_time() - start_cpu, late


def bare_loop(limits: dict[str, tuple[float, float]]):
    def submit(batch: list[TagUpdate]) -> None:
        for update in batch:
            limit = limits.get(update.tag)
            if limit is not None and (update.value > limit[0] or update.value < limit[1]):
                pass

    return submit


async def evaluation(folder: Path) -> dict:
    site = make_site(TAGS)
    batches = make_batches(TAGS, SECONDS * RATE_HZ)
    journal = Journal(folder / "evaluation.sqlite")
    await journal.start()
    engine = AlarmEngine(site, journal, state_file=folder / "alarm-state.json")
    changes = 0

    def listener(changed, _flood) -> None:
        nonlocal changes
        changes += len(changed)

    engine.add_listener(listener)
    await engine.start()
    try:
        wall, cpu, late = await feed(batches, engine.submit)
    finally:
        await engine.close()
        await journal.close()
    limits = {f"t{i:05d}": (80.0, 20.0) for i in range(TAGS)}
    bare_wall, bare_cpu, _ = await feed(batches, bare_loop(limits))
    updates = sum(len(b) for b in batches)
    return {"alarm_points": len(engine.points), "updates": updates, "updates_per_s": updates / wall,
            "cpu_fraction": cpu / wall, "us_per_update": cpu / updates * 1e6, "late_periods": late,
            "alarm_changes": changes, "bare_cpu_fraction": bare_cpu / bare_wall,
            "bare_us_per_update": bare_cpu / updates * 1e6, "goal_cpu_fraction": CPU_GOAL}


async def flood(folder: Path) -> dict:
    site = make_site(FLOOD_ALARMS, delays=False)
    journal = Journal(folder / "history.sqlite", flush_interval_s=0.2)
    await journal.start()
    engine = AlarmEngine(site, journal)
    await engine.start()
    t0 = time.time()
    per_batch = []
    try:
        for k in range(10):
            batch = [TagUpdate(f"t{i:05d}", 99.0, Quality.GOOD, t0, t0) for i in range(k * 100, (k + 1) * 100)]
            start = time.perf_counter()
            engine.submit(batch)
            per_batch.append(time.perf_counter() - start)
            await asyncio.sleep(0.1)
        start = time.perf_counter()
        await journal.flush()
        drained = time.perf_counter() - start
    finally:
        await engine.close()
        await journal.close()
    stored = [e for e in read_journal(folder / "history.sqlite", limit=100_000) if e.entry.event == "alarm_active"]
    report = verify_journal(folder / "history.sqlite")
    return {"alarms": FLOOD_ALARMS, "batch_ms_median": statistics.median(per_batch) * 1e3,
            "batch_ms_max": max(per_batch) * 1e3, "journal_drain_after_last_batch_ms": drained * 1e3,
            "alarm_active_entries": len(stored), "chain_ok": report.ok, "flood_detected": engine.flood.active}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "evaluation").mkdir()
        (Path(folder) / "flood").mkdir()
        result = asyncio.run(evaluation(Path(folder) / "evaluation"))
        result["flood"] = asyncio.run(flood(Path(folder) / "flood"))
    path = write_result("bench_alarms", result)
    f = result["flood"]
    print(f"alarm evaluation: {result['alarm_points']:,} points, {result['updates_per_s']:,.0f} updates/s: "
          f"{result['cpu_fraction']:.1%} of one core ({result['us_per_update']:.2f} us/update; goal <= "
          f"{CPU_GOAL:.0%}), {result['alarm_changes']:,} alarm changes, {result['late_periods']} late periods")
    print(f"  bare lookup + two compares: {result['bare_cpu_fraction']:.1%} of one core "
          f"({result['bare_us_per_update']:.2f} us/update); engine/bare "
          f"{result['us_per_update'] / result['bare_us_per_update']:.1f}x")
    print(f"alarm flood: {f['alarms']:,} alarms in 1 s: io loop {f['batch_ms_median']:.1f} ms median / "
          f"{f['batch_ms_max']:.1f} ms max per 100; journal complete {f['journal_drain_after_last_batch_ms']:.0f} ms "
          f"after the last; {f['alarm_active_entries']:,} entries stored, chain "
          f"{'verified' if f['chain_ok'] else 'BROKEN'}, flood {'detected' if f['flood_detected'] else 'NOT detected'}")
    print(f"  -> {path}")


if __name__ == "__main__":
    main()
