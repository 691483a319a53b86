"""The historian writer: batches reach SQLite, nothing is lost on close or on a failed commit."""

from __future__ import annotations

import asyncio
import sqlite3

from drivers.model import Quality, TagUpdate
from hmi.storage.historian import Historian, read_history


def updates(n: int, start: float = 1000.0) -> list[TagUpdate]:
    return [TagUpdate("a", float(i), Quality.GOOD, start + i * 0.1, start + i * 0.1) for i in range(n)]


def test_samples_are_written_in_batches_and_flushed_on_close(tmp_path):
    path = tmp_path / "h.sqlite"

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=60)
        await historian.start(["a", "b"])
        historian.submit(updates(500))
        historian.submit([TagUpdate("b", True, Quality.GOOD, 5.0, 5.0),
                          TagUpdate("b", None, Quality.COMM_LOST, 6.0, 6.0)])
        await historian.close()  # long flush interval: only close() can have written them
        assert historian.rows_written == 502

    asyncio.run(scenario())
    rows = read_history(path, "a", 0, 2000)
    assert [r.value for r in rows] == [float(i) for i in range(500)]
    b = read_history(path, "b", 0, 10)
    assert [(r.value, r.quality) for r in b] == [(1.0, Quality.GOOD), (None, Quality.COMM_LOST)]


def test_table_is_without_rowid(tmp_path):
    path = tmp_path / "h.sqlite"

    async def scenario() -> None:
        historian = Historian(path)
        await historian.start(["a"])
        await historian.close()

    asyncio.run(scenario())
    sql = sqlite3.connect(path).execute("select sql from sqlite_master where name='samples'").fetchone()[0]
    assert "WITHOUT ROWID" in sql.upper()
    assert "PRIMARY KEY (tag_id, ts_us)" in sql


def test_failed_commit_keeps_rows_for_retry(tmp_path):
    path = tmp_path / "h.sqlite"

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=0.05, busy_timeout_s=0.05)
        await historian.start(["a"])
        blocker = sqlite3.connect(path, timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database: commits fail
        historian.submit(updates(10))
        await asyncio.sleep(0.3)
        assert historian.rows_written == 0
        assert historian.last_error
        blocker.rollback()
        blocker.close()
        for _ in range(100):
            if historian.rows_written == 10:
                break
            await asyncio.sleep(0.05)
        await historian.close()
        assert historian.rows_dropped == 0

    asyncio.run(scenario())
    assert len(read_history(path, "a", 0, 2000)) == 10
