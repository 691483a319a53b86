"""The historian writer: storage modes, batches, acquisition events, renamed tags, and what happens when the
database misbehaves (locked, full, read-only, corrupt, newer, killed mid-write): acquisition goes on and
nothing already stored is lost."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec, RetentionSpec
from hmi.storage.compression import ANALOG, DISCRETE
from hmi.storage.historian import Historian, HistoryTag, read_history
from hmi.storage.schema import ACQUISITION_STARTED, ACQUISITION_STOPPED
from tests.support import async_wait_until

ROOT = Path(__file__).resolve().parents[2]


def every_sample(*names: str) -> list[HistoryTag]:
    return [HistoryTag(n, HistorySpec(mode="all"), ANALOG) for n in names]


def sample(tag: str, value, t: float, quality: Quality = Quality.GOOD) -> TagUpdate:
    return TagUpdate(tag, value, quality, t, t)


def record(path, tags: list[HistoryTag], *batches: list[TagUpdate], **options) -> Historian:
    async def scenario() -> Historian:
        historian = Historian(path, flush_interval_s=60, **options)
        await historian.start(tags)
        for updates in batches:
            historian.submit(updates)
            await historian._flush()
        await historian.close()
        return historian

    return asyncio.run(scenario())


def stored(path, tag: str) -> list[tuple[float, float | None, Quality]]:
    return [(s.ts, s.value, s.quality) for s in read_history(path, tag, 0, 4e9)]


# -- writing ------------------------------------------------------------------------------------------


def test_samples_are_written_in_batches_and_flushed_on_close(tmp_path):
    path = tmp_path / "h.sqlite"

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=60)
        await historian.start(every_sample("a", "b"))
        historian.submit([sample("a", float(i), 1000 + i * 0.1) for i in range(500)])
        historian.submit([sample("b", True, 5.0), sample("b", None, 6.0, Quality.COMM_LOST)])
        await historian.close()  # long flush interval: only close() can have written them
        assert historian.rows_written == 502

    asyncio.run(scenario())
    assert [v for _, v, _ in stored(path, "a")] == [float(i) for i in range(500)]
    assert [(v, q) for _, v, q in stored(path, "b")] == [(1.0, Quality.GOOD), (None, Quality.COMM_LOST)]


def test_the_samples_table_is_without_rowid_and_migrated(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, every_sample("a"))
    conn = sqlite3.connect(path)
    sql = conn.execute("select sql from sqlite_master where name='samples'").fetchone()[0]
    assert "WITHOUT ROWID" in sql.upper()
    assert "PRIMARY KEY (tag_id, ts_us)" in sql
    assert conn.execute("select version_num from alembic_version").fetchone()[0] == "0004"


def test_start_and_stop_of_acquisition_are_recorded(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, every_sample("a"), [sample("a", 1.0, 10.0)])
    record(path, every_sample("a"), [sample("a", 2.0, 20.0)])
    events = [e for (e,) in sqlite3.connect(path).execute("select event from acquisition order by ts_us")]
    assert events == [ACQUISITION_STARTED, ACQUISITION_STOPPED] * 2


# -- storage modes ------------------------------------------------------------------------------------


def test_swinging_door_keeps_every_value_within_its_deviation(tmp_path):
    path = tmp_path / "h.sqlite"
    rng = np.random.default_rng(5)
    t = 1000.0 + np.arange(2000) * 0.1
    y = np.cumsum(rng.standard_normal(2000)) * 0.1
    tag = HistoryTag("a", HistorySpec(mode="sdt", deviation=0.3), ANALOG)
    updates = [sample("a", float(v), float(s)) for s, v in zip(t, y, strict=True)]
    record(path, [tag], *(updates[i:i + 137] for i in range(0, 2000, 137)))  # batches of any size
    kept = stored(path, "a")
    kept_t = np.array([k[0] for k in kept])
    kept_y = np.array([k[1] for k in kept])
    assert len(kept) < 2000 / 3  # it compresses
    assert kept_t[0] == t[0]
    assert kept_t[-1] == pytest.approx(t[-1])  # the last, held by the compressor until close
    assert np.abs(np.interp(t, kept_t, kept_y) - y).max() <= 0.3 + 1e-9


def test_a_straight_line_is_stored_at_its_ends_and_at_least_every_max_interval(tmp_path):
    path = tmp_path / "h.sqlite"
    tag = HistoryTag("a", HistorySpec(mode="sdt", max_interval_s=10.0), ANALOG)
    record(path, [tag], [sample("a", 2.0 * i, 100.0 + i) for i in range(60)])
    times = [k[0] for k in stored(path, "a")]
    assert (times[0], times[-1]) == (100.0, 159.0)
    assert max(np.diff(times)) <= 10.0
    assert len(times) <= 8


def test_quality_changes_and_the_last_value_before_a_gap_are_kept(tmp_path):
    path = tmp_path / "h.sqlite"
    tag = HistoryTag("a", HistorySpec(mode="deadband", deadband=1.0), DISCRETE)
    updates = [sample("a", 5.0 + i * 0.01, 10.0 + i) for i in range(10)]  # within the deadband: only the first
    updates += [sample("a", None, 20.0, Quality.COMM_LOST), sample("a", None, 21.0, Quality.COMM_LOST)]
    updates += [sample("a", 5.0, 22.0, Quality.UNCERTAIN), sample("a", 5.0, 23.0)]
    record(path, [tag], updates)
    assert stored(path, "a") == [
        (10.0, 5.0, Quality.GOOD),
        (19.0, pytest.approx(5.09), Quality.GOOD),  # the last value before the gap
        (20.0, None, Quality.COMM_LOST),  # the gap starts (once)
        (22.0, 5.0, Quality.UNCERTAIN),
        (23.0, 5.0, Quality.GOOD),  # quality change, same value
    ]


def test_periodic_tags_store_the_held_value_on_a_fixed_grid_as_time_passes(tmp_path):
    path = tmp_path / "h.sqlite"
    tag = HistoryTag("a", HistorySpec(mode="periodic", period_s=0.1), ANALOG)

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=0.05)
        await historian.start([tag])
        historian.submit([sample("a", 1.0, time.time())])  # reported once (by exception): it holds
        await asyncio.sleep(0.6)
        await historian.close()

    asyncio.run(scenario())
    rows = stored(path, "a")
    assert len(rows) >= 3
    assert {(v, q) for _, v, q in rows} == {(1.0, Quality.GOOD)}
    assert all(abs(ts * 10 - round(ts * 10)) < 1e-6 for ts, _, _ in rows)  # on the 0.1 s grid
    assert np.diff([ts for ts, _, _ in rows]) == pytest.approx(0.1, abs=2e-6)  # µs in the database


def test_off_stores_nothing(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, [HistoryTag("a", HistorySpec(mode="off"), ANALOG)], [sample("a", 1.0, 10.0)])
    assert stored(path, "a") == []


def test_samples_older_than_what_is_stored_do_not_rewrite_it(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, every_sample("a"), [sample("a", 1.0, 10.0), sample("a", 2.0, 11.0)], [sample("a", 9.0, 10.5)])
    assert [v for _, v, _ in stored(path, "a")] == [1.0, 2.0]


def test_a_value_unchanged_through_a_stop_is_stored_again_at_the_start(tmp_path):
    path = tmp_path / "h.sqlite"
    before = time.time() - 3600
    record(path, every_sample("a", "b"), [sample("a", 1.0, before), sample("b", 5.0, before)])
    time.sleep(0.01)
    historian = record(path, every_sample("a", "b"), [sample("a", 1.0, before),  # reported again: unchanged
                                                      sample("b", 6.0, time.time())])  # changed while away
    a, b = stored(path, "a"), stored(path, "b")
    assert [v for _, v, _ in a] == [1.0, 1.0]
    assert a[1][0] == pytest.approx(historian._started_at, abs=1e-6)
    assert [v for _, v, _ in b] == [5.0, 6.0]


# -- the project changes ---------------------------------------------------------------------------------


def test_a_renamed_tag_carries_its_history_on(tmp_path, caplog):
    path = tmp_path / "h.sqlite"
    now = time.time()
    record(path, every_sample("level", "spare"), [sample("level", 1.0, now - 60), sample("spare", 7.0, now - 60)])
    renamed = HistoryTag("tank_level", HistorySpec(mode="all", renamed_from=["level"]), ANALOG)
    with caplog.at_level("INFO"):
        record(path, [renamed], [sample("tank_level", 2.0, time.time() + 1)])
    assert [v for _, v, _ in stored(path, "tank_level")] == [1.0, 2.0]
    assert "level was renamed to tank_level" in caplog.text
    assert "history kept for tags no longer in the site: spare" in caplog.text


# -- a database that misbehaves --------------------------------------------------------------------------


def test_a_locked_database_keeps_rows_for_retry(tmp_path):
    path = tmp_path / "h.sqlite"

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=0.05, busy_timeout_s=0.05)
        await historian.start(every_sample("a"))
        blocker = sqlite3.connect(path, timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")  # another program holds the database: commits fail
        historian.submit([sample("a", float(i), 10.0 + i) for i in range(10)])
        await asyncio.sleep(0.3)
        assert historian.rows_written == 0
        assert "locked" in historian.last_error
        blocker.rollback()
        blocker.close()
        for _ in range(100):
            if historian.rows_written == 10:
                break
            await asyncio.sleep(0.05)
        await historian.close()
        assert historian.rows_dropped == 0
        assert historian.last_error == ""

    asyncio.run(scenario())
    assert len(stored(path, "a")) == 10


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_new_one_started(tmp_path, caplog):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not SQLite" * 100)
    with caplog.at_level("ERROR"):
        record(path, every_sample("a"), [sample("a", 1.0, 10.0)])
    assert stored(path, "a") == [(10.0, 1.0, Quality.GOOD)]
    (aside,) = tmp_path.glob("h.sqlite.unreadable-*")
    assert aside.read_bytes() == b"this is not SQLite" * 100  # kept as it was, for recovery
    assert "is not a readable historian database" in caplog.text
    assert str(aside) in caplog.text


def test_a_database_from_a_newer_linewise_is_left_alone_and_the_backlog_is_bounded(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, every_sample("a"), [sample("a", 1.0, 10.0)])
    conn = sqlite3.connect(path)
    conn.execute("update alembic_version set version_num = '9999'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    historian = record(path, every_sample("a"), [sample("a", float(i), 20.0 + i) for i in range(25_000)],
                       backlog_rows=10_000)
    assert "written by a newer Linewise (schema revision 9999" in historian.last_error
    assert historian.samples_received == 25_000  # acquisition went on
    assert historian.rows_written == 0
    assert historian.backlog == 10_000  # bounded: samples and roll-ups beyond it were dropped, the oldest first
    assert historian.rows_dropped >= 25_000 - 10_000
    assert path.read_bytes() == before


def run_child(mode: str, path: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.hmi.historian_child", mode, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, **popen)


def test_a_kill_9_loses_nothing_committed_and_never_corrupts_the_file(tmp_path):
    path = tmp_path / "h.sqlite"
    child = run_child("crash", path)
    try:
        reports = [json.loads(child.stdout.readline()) for _ in range(15)]  # several commits in
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    committed = reports[-1]["written"]
    assert committed > 0
    conn = sqlite3.connect(path)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    rows = conn.execute("select count(*) from samples").fetchone()[0]
    assert rows >= committed  # everything reported committed survived (and what came after, up to a flush)
    assert rows <= reports[-1]["sent"] + 200 * 20


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_a_full_disk_keeps_rows_until_there_is_space_again(tmp_path):
    path = tmp_path / "h.sqlite"
    child = run_child("full", path)
    out, _ = child.communicate(timeout=60)
    full, freed = (json.loads(line) for line in out.splitlines())
    assert full["written"] == 1000
    assert "full" in full["error"]
    assert full["backlog"] > 0
    assert full["received"] == 51_000  # acquisition went on
    assert (freed["backlog"], freed["dropped"], freed["error"]) == (0, 0, "")
    assert sqlite3.connect(path).execute("select count(*) from samples").fetchone()[0] == 51_000


@pytest.fixture
def root_owned_folder():
    """A folder root owns and others may only read (pytest's own tmp folders are closed to other users)."""
    folder = Path(tempfile.mkdtemp(prefix="linewise-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="drops to user nobody to make the file read-only (needs root)")
def test_a_read_only_database_is_reported_and_acquisition_goes_on(root_owned_folder):
    path = root_owned_folder / "h.sqlite"
    record(path, every_sample(*(f"t{i}" for i in range(10))), [sample("t0", 1.0, 10.0)])
    child = run_child("readonly", path)
    out, _ = child.communicate(timeout=60)
    report = json.loads(out.splitlines()[0])
    assert (report["received"], report["written"]) == (100, 0)
    assert report["backlog"] > 0
    assert "readonly" in report["error"] or "read-only" in report["error"] or "unable to open" in report["error"]
    assert stored(path, "t0") == [(10.0, 1.0, Quality.GOOD)]  # what was stored is still there


def test_backfill_stores_a_block_of_history_with_its_roll_ups(tmp_path):
    path = tmp_path / "h.sqlite"
    t = 1_800_000_000.0 + np.arange(7200.0)  # two hours at 1 Hz

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=60)
        await historian.start(every_sample("a"))
        assert await historian.backfill("a", t[:3600], np.ones(3600), np.zeros(3600, np.int64)) == 3600
        # a second block overlapping the first: its hours are recomputed from everything stored
        assert await historian.backfill("a", t[1800:], np.full(5400, 3.0), np.zeros(5400, np.int64)) == 5400
        with pytest.raises(ValueError, match="not a historised tag"):
            await historian.backfill("nope", t, t, t)
        await historian.close()

    asyncio.run(scenario())
    assert len(stored(path, "a")) == 7200
    conn = sqlite3.connect(path)
    hours = conn.execute("select count, integral / good_s from rollup_1h order by start_us").fetchall()
    assert hours == [(3600, pytest.approx(2.0, abs=1e-3)), (3600, pytest.approx(3.0))]
    assert conn.execute("select sum(count) from rollup_1m").fetchone()[0] == 7200


def test_retention_runs_in_the_background_and_disk_usage_is_reported(tmp_path):
    path = tmp_path / "h.sqlite"
    old = time.time() - 86400 * 3

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=0.05, retention=RetentionSpec(raw_days=1))
        await historian.start(every_sample("a"))
        historian.submit([sample("a", float(i), old + i) for i in range(1000)])
        historian.submit([sample("a", 7.0, time.time())])
        await async_wait_until(lambda: len(stored(path, "a")) == 2, message="old samples expired")
        usage = await historian.disk_usage()
        assert usage.bytes > 0
        await historian.close()

    asyncio.run(scenario())
    # the sample that holds at the cutoff stays: the value is known from then on
    assert [v for _, v, _ in stored(path, "a")] == [999.0, 7.0]


def test_samples_waiting_for_a_hung_writer_are_bounded_too(tmp_path, caplog):
    """backlog_rows bounds what waits for the writer thread as well: a disk or server that never answers
    (the writer's job does not return) costs the oldest samples, counted, never unbounded memory."""
    import threading

    release = threading.Event()

    async def scenario() -> Historian:
        historian = Historian(tmp_path / "h.sqlite", flush_interval_s=0.05, backlog_rows=1_000)
        await historian.start(every_sample("a"))
        write = historian._write
        historian._write = lambda *args: (release.wait(10), write(*args))  # type: ignore[method-assign]
        for i in range(30):  # the first flush hangs; everything after waits on the io loop
            historian.submit([sample("a", float(k), 1e9 + i * 100 + k) for k in range(100)])
            await asyncio.sleep(0.01)
        waiting = historian._pending_count
        release.set()
        await historian.close()
        assert waiting <= 1_000
        return historian

    historian = asyncio.run(scenario())
    assert historian.rows_dropped > 0
    kept = stored(tmp_path / "h.sqlite", "a")
    assert kept[-1][0] == pytest.approx(1e9 + 29 * 100 + 99)  # the newest are kept
    assert len(kept) + historian.rows_dropped == 3_000
    assert "the oldest are dropped" in caplog.text
