"""The event journal: entries stored with every field and read back, one hash chain per station continued
across restarts, tampering of every kind detected by `verify_journal` (and `linewise audit verify`), a locked
database costing nothing, the outbox, low disk. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from drivers.model import Quality, TagUpdate
from hmi.cli import main
from hmi.site.schema import HistorySpec
from hmi.storage import journal as journal_module
from hmi.storage import journal_verify
from hmi.storage.database import open_database
from hmi.storage.historian import Historian, HistoryTag, read_history
from hmi.storage.journal import Category, Journal, JournalEntry, read_journal, verify_journal
from hmi.storage.journal_chain import GENESIS, row_hash

T0 = 1_900_000_000.123456
FIELDS = ("ts_us", "category", "event", "source", "user_name", "old_value", "new_value", "reason", "message",
          "result")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path) -> tuple[str, Path]:
    """(target, anchor file) of an empty journal."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite"), tmp_path / "journal-head.json"
    url = request.getfixturevalue("postgres_url")  # one database per module: emptied here
    database = open_database(url)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM journal"))
        conn.execute(text("DELETE FROM outbox"))
    database.dispose()
    return url, tmp_path / "journal-head.json"


def entry(i: int, **fields) -> JournalEntry:  # type: ignore[no-untyped-def]
    return JournalEntry(T0 + i, Category.OPERATOR, "write", source=f"tag{i % 3}", user="alice",
                        old_value=str(i), new_value=str(i + 1), reason="setpoint change", message=f"entry {i}",
                        **fields)


def write(target, entries: list[JournalEntry], station: str = "ws1", anchor: Path | None = None,
          **options) -> Journal:  # type: ignore[no-untyped-def]
    async def scenario() -> Journal:
        journal = Journal(target, station=station, anchor_file=anchor, flush_interval_s=60, **options)
        await journal.start()
        for e in entries:
            journal.record(e)
        await journal.close()  # long flush interval: close() writes them
        return journal

    return asyncio.run(scenario())


def stored_us(e: JournalEntry) -> JournalEntry:
    """The entry as read back: its time to the microsecond."""
    return replace(e, ts=round(e.ts * 1e6) / 1e6)


def tamper(target, *statements: str) -> None:  # type: ignore[no-untyped-def]
    """Change the database behind Linewise's back: raw sqlite3 for a file, SQL on the server otherwise."""
    if "://" not in str(target):
        conn = sqlite3.connect(target)
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()
        return
    engine = create_engine(target)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def rows(target, station: str = "ws1") -> list:  # type: ignore[no-untyped-def]
    database = open_database(target, migrate=False)
    try:
        with database.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT station, seq, ts_us, category, event, source, user_name, old_value, new_value, reason, "
                "message, result, prev_hash, hash FROM journal WHERE station = :s ORDER BY seq"), {"s": station}))
    finally:
        database.dispose()


# -- writing and reading ---------------------------------------------------------------------------------


def test_entries_are_stored_with_every_field_and_read_back_newest_first(backend):
    target, anchor = backend
    entries = [entry(i) for i in range(5)] + [JournalEntry(
        T0 + 10, Category.ALARM, "acknowledge", source="TK101.level.HI", user="Zoë", old_value="", new_value="ack",
        reason="checked on site; 'quotes', \"double\" and %_ wildcards", message="Tank level high ⚠", result="refused")]
    journal = write(target, entries, anchor=anchor)
    assert (journal.entries_written, journal.pending, journal.entries_dropped, journal.last_error) == (6, 0, 0, "")
    found = read_journal(target)
    assert [s.entry for s in found] == [stored_us(e) for e in reversed(entries)]
    assert [(s.station, s.seq) for s in found] == [("ws1", n) for n in range(6, 0, -1)]
    assert isinstance(found[0].entry.category, Category)
    assert json.loads(anchor.read_text()) == {"ws1": {"seq": 6, "hash": found[0].hash}}


def test_read_journal_filters_by_time_category_source_user_and_text(tmp_path):
    target = tmp_path / "history.sqlite"
    entries = [entry(i) for i in range(10)] + [
        JournalEntry(T0 + 20, Category.SYSTEM, "connection_lost", source="plc1", message="Timeout after 5 s"),
        JournalEntry(T0 + 21, Category.SECURITY, "login", user="bob", reason="100% sure", result="failed")]
    write(target, entries)

    def seqs(**filters) -> list[int]:  # type: ignore[no-untyped-def]
        return [s.seq for s in read_journal(target, **filters)]

    assert seqs(start=T0 + 2, end=T0 + 4) == [5, 4, 3]  # inclusive, newest first
    assert seqs(category="system") == [11]
    assert seqs(category=Category.OPERATOR, source="tag1") == [8, 5, 2]
    assert seqs(user="bob") == [12]
    assert seqs(text="TIMEOUT") == [11]  # any text field, case-insensitive
    assert seqs(text="100%") == [12]  # % and _ are text, not wildcards
    assert seqs(text="0%") == [12]
    assert seqs(text="_") == [11]  # connection_lost
    assert seqs(limit=3) == [12, 11, 10]
    assert read_journal(tmp_path / "none.sqlite") == []
    assert not (tmp_path / "none.sqlite").exists()  # reading does not create a database


def test_the_chain_continues_across_a_close_and_reopen(backend):
    target, anchor = backend
    write(target, [entry(i) for i in range(3)], anchor=anchor)
    write(target, [entry(i) for i in range(3, 5)], anchor=anchor)
    stored = rows(target)
    assert [r.seq for r in stored] == [1, 2, 3, 4, 5]
    assert [r.prev_hash for r in stored] == [GENESIS] + [r.hash for r in stored[:-1]]
    report = verify_journal(target, anchor)
    assert (report.ok, report.entries_checked, report.warnings, report.heads) == (True, 5, [], {"ws1": 5})


def test_two_stations_in_one_database_have_independent_chains(backend):
    target, anchor = backend

    async def scenario() -> None:
        one = Journal(target, station="ws1", anchor_file=anchor, flush_interval_s=60)
        two = Journal(target, station="ws2", anchor_file=anchor, flush_interval_s=60)
        await one.start()
        await two.start()
        for i in range(6):
            (one if i % 2 else two).record(entry(i))
            await (one if i % 3 else two).flush()
        await one.close()
        await two.close()

    asyncio.run(scenario())
    assert [(r.seq, r.message) for r in rows(target, "ws1")] == [(1, "entry 1"), (2, "entry 3"), (3, "entry 5")]
    assert [(r.seq, r.message) for r in rows(target, "ws2")] == [(1, "entry 0"), (2, "entry 2"), (3, "entry 4")]
    assert rows(target, "ws1")[0].prev_hash == rows(target, "ws2")[0].prev_hash == GENESIS
    assert set(json.loads(anchor.read_text())) == {"ws1", "ws2"}  # one anchor file, each station's head kept
    report = verify_journal(target, anchor)
    assert (report.ok, report.entries_checked, report.heads) == (True, 6, {"ws1": 3, "ws2": 3})


def test_the_hash_is_the_one_the_module_documents(tmp_path):
    """An auditor's re-implementation from hmi.storage.journal_chain's docstring, not from its code."""
    target = tmp_path / "history.sqlite"
    write(target, [entry(1), replace(entry(2), message="ü€𝄞", reason="")])

    def field(value: str) -> bytes:
        data = value.encode("utf-8")
        return len(data).to_bytes(8, "big") + data

    for r in rows(target):
        message = b"".join(field(str(v)) for v in ("linewise-journal-1", r.prev_hash, *r[:12]))
        assert hashlib.sha256(message).hexdigest() == r.hash


def test_outbox_rows_are_the_journal_rows(backend):
    target, anchor = backend
    write(target, [entry(i) for i in range(4)], anchor=anchor)
    write(target, [entry(i) for i in range(2)], station="ws2", anchor=anchor)
    engine = create_engine(target if "://" in target else f"sqlite:///{target}")
    with engine.connect() as conn:
        outbox = conn.execute(text("SELECT kind, station, seq, created_us FROM outbox ORDER BY id")).all()
        journal = conn.execute(text("SELECT station, seq FROM journal ORDER BY station, seq")).all()
    engine.dispose()
    assert sorted((station, seq) for _, station, seq, _ in outbox) == [tuple(r) for r in journal]
    assert len(outbox) == 6
    assert {kind for kind, *_ in outbox} == {"journal"}
    assert all(abs(created / 1e6 - time.time()) < 60 for *_, created in outbox)  # when it was written


def test_record_never_raises_and_stores_what_any_database_can_hold(backend, caplog):
    target, anchor = backend
    odd = [JournalEntry(T0, "alarm", "alarm_active", source="a\x00b", message="\ud800 lone"),  # type: ignore[arg-type]
           JournalEntry(float("nan"), Category.CONFIG, "change", old_value=3, new_value=None),  # type: ignore[arg-type]
           JournalEntry(T0, "nonsense", "x", result="refused: a result longer than any short column")]  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        journal = write(target, [*odd, "not an entry"], anchor=anchor)  # type: ignore[list-item]
    assert "not a JournalEntry" in caplog.text
    assert journal.entries_written == 3
    first, second, third = (s.entry for s in sorted(read_journal(target), key=lambda s: s.seq))
    assert (first.category, first.source, first.message) == (Category.ALARM, "a\ufffdb", "? lone")
    assert (second.old_value, second.new_value) == ("3", "")
    assert abs(second.ts - time.time()) < 60  # NaN: the time it was recorded
    assert (third.category, third.message) == (Category.SYSTEM, "[category 'nonsense'] ")
    assert verify_journal(target, anchor).ok


# -- tampering ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", FIELDS)
def test_a_changed_field_is_named_by_station_and_seq(backend, column):
    target, anchor = backend
    write(target, [entry(i) for i in range(8)], anchor=anchor)
    value = "ts_us + 1" if column == "ts_us" else f"{column} || 'x'"
    tamper(target, f"UPDATE journal SET {column} = {value} WHERE station = 'ws1' AND seq = 5")
    report = verify_journal(target, anchor)
    assert not report.ok
    assert report.problems == ["station ws1 seq 5: its fields do not match its hash (changed)"]


def test_a_row_moved_to_another_station_or_relinked_is_caught(tmp_path):
    target, anchor = tmp_path / "history.sqlite", tmp_path / "journal-head.json"
    write(target, [entry(i) for i in range(8)])
    tamper(target, "UPDATE journal SET prev_hash = hash WHERE seq = 3")
    assert verify_journal(target).problems == [
        "station ws1 seq 3: prev_hash is not the hash of seq 2 (seq 2 was replaced, or seq 3 inserted)",
        "station ws1 seq 3: its fields do not match its hash (changed)"]
    tamper(target, "UPDATE journal SET prev_hash = (SELECT hash FROM journal WHERE seq = 2) WHERE seq = 3",
           "UPDATE journal SET station = 'ws9' WHERE seq = 8")
    problems = verify_journal(target, anchor).problems
    assert "station ws1: the journal ends at seq 7 but the anchor records seq 8" in problems[0]
    assert "station ws9: seq 1..7 missing before seq 8 (deleted)" in problems
    assert "station ws9 seq 8: its fields do not match its hash (changed)" in problems


def test_a_deleted_middle_row_is_named(backend):
    target, anchor = backend
    write(target, [entry(i) for i in range(8)], anchor=anchor)
    tamper(target, "DELETE FROM journal WHERE seq = 5")
    assert verify_journal(target, anchor).problems == ["station ws1: seq 5 missing before seq 6 (deleted)"]
    tamper(target, "DELETE FROM journal WHERE seq IN (1, 2)")
    assert verify_journal(target, anchor).problems == ["station ws1: seq 1..2 missing before seq 3 (deleted)",
                                                       "station ws1: seq 5 missing before seq 6 (deleted)"]


def test_rows_deleted_from_the_end_are_caught_by_the_anchor(backend):
    target, anchor = backend
    write(target, [entry(i) for i in range(8)], anchor=anchor)
    tamper(target, "DELETE FROM journal WHERE seq >= 7")
    report = verify_journal(target, anchor)
    assert report.problems == ["station ws1: the journal ends at seq 6 but the anchor records seq 8: seq 7..8 "
                               "were deleted from the end (or the database was replaced by an older copy)"]
    tamper(target, "DELETE FROM journal")
    assert "the journal ends at seq 0 but the anchor records seq 8" in verify_journal(target, anchor).problems[0]
    anchor.unlink()  # without the anchor only a warning is left: the chain alone cannot tell
    report = verify_journal(target, anchor)
    assert report.ok
    assert "journal-head.json is missing: rows deleted from the end" in report.warnings[0]


def test_a_consistently_forged_chain_is_caught_by_the_anchor(backend):
    target, anchor = backend
    write(target, [entry(i) for i in range(8)], anchor=anchor)
    stored, prev = rows(target), None
    statements = []
    for r in stored[4:]:  # seq 5 says something else; 5..8 rehashed so that the chain itself is consistent
        fields = [*r[2:12]]
        if r.seq == 5:
            fields[7] = "all fine"  # the reason
        prev = prev or r.prev_hash
        digest = row_hash(prev, "ws1", r.seq, *fields)
        statements.append(f"UPDATE journal SET reason = '{fields[7]}', prev_hash = '{prev}', hash = '{digest}' "
                          f"WHERE station = 'ws1' AND seq = {r.seq}")
        prev = digest
    tamper(target, *statements)
    report = verify_journal(target, anchor)
    assert report.problems == ["station ws1 seq 8: not the row the anchor records (the chain was rewritten from "
                               "there back)"]
    assert read_journal(target, limit=4)[-1].entry.reason == "all fine"


def test_a_forged_row_appended_after_the_anchor_is_caught(backend, monkeypatch):
    target, anchor = backend
    monkeypatch.setattr(journal_verify, "ANCHOR_RETRIES", 2)
    write(target, [entry(i) for i in range(3)], anchor=anchor)
    last = rows(target)[-1]
    forged = row_hash(last.hash, "ws1", 4, round(T0 * 1e6), "operator", "write", "tag0", "alice", "0", "1", "", "",
                      "ok")
    tamper(target, "INSERT INTO journal (station, seq, ts_us, category, event, source, user_name, old_value, "
                   f"new_value, reason, message, result, prev_hash, hash) VALUES ('ws1', 4, {round(T0 * 1e6)}, "
                   f"'operator', 'write', 'tag0', 'alice', '0', '1', '', '', 'ok', '{last.hash}', '{forged}')")
    assert verify_journal(target, anchor).problems == [
        "station ws1: seq 4..4 come after the anchor's seq 3: appended by someone else (or written just before a "
        "crash)"]


def test_the_writer_records_what_it_finds_deleted_and_verify_keeps_reporting_it(backend, caplog):
    target, anchor = backend
    write(target, [entry(i) for i in range(5)], anchor=anchor)
    tamper(target, "DELETE FROM journal WHERE seq >= 4")
    with caplog.at_level(logging.ERROR):
        write(target, [entry(9)], anchor=anchor)
    assert "ends at seq 3, but seq 5 was written" in caplog.text
    found = sorted(read_journal(target), key=lambda s: s.seq)  # by seq: the writer's entry has the time it found it
    assert [(s.seq, s.entry.category, s.entry.event, s.entry.result) for s in found[3:]] == [
        (4, Category.SECURITY, "journal_truncated", "failed"), (5, Category.OPERATOR, "write", "ok")]
    report = verify_journal(target, anchor)  # the chain and anchor agree again, but the record stays
    assert len(report.problems) == 1
    assert "station ws1 seq 4: the writer found at " in report.problems[0]
    assert "ends at seq 3, but seq 5 was written" in report.problems[0]


def test_a_running_writer_notices_rows_deleted_or_written_by_someone_else(tmp_path):
    target = tmp_path / "history.sqlite"

    async def scenario() -> None:
        one = Journal(target, station="ws1", flush_interval_s=60)
        two = Journal(target, station="ws1", flush_interval_s=60)  # a second program using the same station
        await one.start()
        one.record(entry(0))
        one.record(entry(1))
        await one.flush()
        tamper(target, "DELETE FROM journal WHERE seq = 2")
        one.record(entry(2))
        await one.flush()  # ends at 1, but 2 was written: recorded, then the chain goes on from 1
        await two.start()
        two.record(entry(3))
        await two.flush()
        one.record(entry(4))
        await one.flush()  # 4 is not its own
        await one.close()
        await two.close()

    asyncio.run(scenario())
    assert [(r.seq, r.event) for r in rows(target)] == [
        (1, "write"), (2, "journal_truncated"), (3, "write"), (4, "write"), (5, "journal_foreign_rows"),
        (6, "write")]
    problems = verify_journal(target).problems
    assert len(problems) == 2
    assert "seq 2: the writer found at" in problems[0]
    assert "seq 5: the writer found at" in problems[1]
    assert "seq 4..4 of station ws1 were not written by this journal" in problems[1]


def test_an_intact_journal_of_ten_thousand_entries_verifies_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_verify, "CHUNK_ROWS", 777)
    target = tmp_path / "history.sqlite"
    write(target, [entry(i) for i in range(10_000)])  # two transactions of 5,000
    report = verify_journal(target)
    assert (report.ok, report.entries_checked, report.warnings, report.heads) == (True, 10_000, [], {"ws1": 10_000})
    tamper(target, "UPDATE journal SET message = 'x' WHERE seq = 7770")  # far into a later chunk
    assert verify_journal(target).problems == ["station ws1 seq 7770: its fields do not match its hash (changed)"]


def test_a_journal_that_does_not_exist_is_not_created_by_verifying_it(tmp_path):
    target = tmp_path / "history.sqlite"
    report = verify_journal(target)
    assert (report.ok, report.entries_checked) == (True, 0)
    assert "is missing" in report.warnings[0]
    assert not target.exists()
    (tmp_path / "journal-head.json").write_text(json.dumps({"ws1": {"seq": 4, "hash": "ab"}}))
    assert "the journal ends at seq 0 but the anchor records seq 4" in verify_journal(target).problems[0]
    (tmp_path / "journal-head.json").write_text("{not json")
    assert "is not a valid anchor file" in verify_journal(target).problems[0]


# -- a database that misbehaves ----------------------------------------------------------------------------


def test_a_locked_database_keeps_entries_until_it_is_released(tmp_path):
    target = tmp_path / "history.sqlite"

    async def scenario() -> None:
        journal = Journal(target, station="ws1", flush_interval_s=60, busy_timeout_s=0.05)
        await journal.start()
        journal.record(entry(0))
        await journal.flush()
        blocker = sqlite3.connect(target, timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")  # another program holds the database: commits fail
        for i in range(1, 21):
            journal.record(entry(i))
        await journal.flush()
        await journal.flush()
        assert (journal.entries_written, journal.pending) == (1, 20)
        assert "locked" in journal.last_error
        journal.record(entry(21))
        blocker.rollback()
        blocker.close()
        await journal.flush()
        assert (journal.entries_written, journal.pending, journal.entries_dropped) == (22, 0, 0)
        assert journal.last_error == ""
        await journal.close()

    asyncio.run(scenario())
    assert [r.message for r in rows(target)] == [f"entry {i}" for i in range(22)]  # in the order recorded
    assert verify_journal(target).ok


def test_beyond_max_pending_the_oldest_entries_are_dropped_and_counted(tmp_path, caplog):
    target = tmp_path / "history.sqlite"

    async def scenario() -> Journal:
        journal = Journal(target, station="ws1", flush_interval_s=60, busy_timeout_s=0.05, max_pending=10)
        await journal.start()
        blocker = sqlite3.connect(target, timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")
        with caplog.at_level(logging.ERROR):
            for i in range(8):
                journal.record(entry(i))
            await journal.flush()
            for i in range(8, 15):
                journal.record(entry(i))
        assert (journal.pending, journal.entries_dropped) == (10, 5)
        blocker.rollback()
        blocker.close()
        await journal.close()
        return journal

    journal = asyncio.run(scenario())
    assert "the oldest are dropped" in caplog.text
    assert [r.message for r in rows(target)] == [f"entry {i}" for i in range(5, 15)]
    assert journal.entries_written == 10


def test_a_database_that_cannot_be_opened_keeps_the_entries(tmp_path, caplog):
    (tmp_path / "file").write_text("a file, not a folder")

    async def scenario() -> None:
        journal = Journal(tmp_path / "file" / "history.sqlite", station="ws1", flush_interval_s=0.01)
        await journal.start()  # does not raise
        journal.record(entry(0))
        await asyncio.sleep(0.1)
        assert journal.pending == 1
        assert journal.last_error
        with caplog.at_level(logging.ERROR):
            await journal.close()

    asyncio.run(scenario())
    assert "1 entries could not be written" in caplog.text
    assert "nor kept in" in caplog.text
    assert "they are lost" in caplog.text


def test_entries_left_at_a_stop_during_an_outage_are_written_at_the_next_start(tmp_path, caplog):
    target = tmp_path / "history.sqlite"
    spill = tmp_path / "journal-pending.jsonl"

    async def outage() -> None:
        journal = Journal(target, station="ws1", flush_interval_s=60, busy_timeout_s=0.05)
        await journal.start()
        journal.record(entry(0))
        await journal.flush()
        blocker = sqlite3.connect(target, timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")  # the database is held by another program until after the stop
        for i in range(1, 8):
            journal.record(replace(entry(i), reason="ünïcode"))
        with caplog.at_level(logging.ERROR):
            await journal.close()
        blocker.rollback()
        blocker.close()

    async def restart() -> Journal:
        journal = Journal(target, station="ws1", flush_interval_s=60)
        await journal.start()
        journal.record(entry(8))  # recorded after the start: after the left entries
        await journal.close()
        return journal

    asyncio.run(outage())
    assert "kept in" in caplog.text
    assert spill.exists()
    assert len(spill.read_text(encoding="utf-8").splitlines()) == 7
    journal = asyncio.run(restart())
    assert not spill.exists()
    assert [r.message for r in rows(target)] == [f"entry {i}" for i in range(9)]
    assert {r.reason for r in rows(target)[1:8]} == {"ünïcode"}
    assert journal.entries_written == 8
    assert verify_journal(target).ok


def test_low_disk_is_warned_and_recorded(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(journal_module, "LOW_DISK_BYTES", 1 << 62)
    target = tmp_path / "history.sqlite"
    with caplog.at_level(logging.WARNING):
        journal = write(target, [entry(0)])
    assert journal.low_disk
    assert "free for the audit journal" in caplog.text
    assert [s.entry.event for s in read_journal(target, category="system")] == ["audit_storage_low"]


def test_the_historian_and_the_journal_write_the_same_file_at_once(tmp_path):
    target = tmp_path / "history.sqlite"

    async def scenario() -> None:
        historian = Historian(target, flush_interval_s=0.01)
        journal = Journal(target, station="ws1", flush_interval_s=0.01)
        await historian.start([HistoryTag("a", HistorySpec(mode="all"), "analog")])
        await journal.start()  # not at once: Alembic cannot migrate from two threads
        for i in range(100):
            historian.submit([TagUpdate("a", float(i), Quality.GOOD, T0 + i, T0 + i)])
            journal.record(entry(i))
            await asyncio.sleep(0.001)
        await historian.close()
        await journal.close()
        assert historian.last_error == journal.last_error == ""

    asyncio.run(scenario())
    assert len(read_history(target, "a", 0, 4e9)) == 100
    assert verify_journal(target).entries_checked == 100


def test_batches_taken_by_a_flush_that_close_cancels_are_still_written(tmp_path):
    """close() cancels the writer task; a flush it interrupts has already taken its batches, and its job may
    still be queued for the writer thread: the batches must be written, not dropped with the job (they were,
    about one close in five, when the two writers shared the file)."""
    for run in range(20):
        target = tmp_path / f"h{run}.sqlite"

        async def scenario(target: Path = target) -> None:
            historian = Historian(target, flush_interval_s=0.01)
            journal = Journal(target, station="ws1", flush_interval_s=0.01)
            await historian.start([HistoryTag("a", HistorySpec(mode="all"), "analog")])
            await journal.start()
            for i in range(100):
                historian.submit([TagUpdate("a", float(i), Quality.GOOD, T0 + i, T0 + i)])
                journal.record(entry(i))
                await asyncio.sleep(0.001)
            await historian.close()
            await journal.close()

        asyncio.run(scenario())
        assert len(read_history(target, "a", 0, 4e9)) == 100, f"run {run}"


# -- linewise audit ----------------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path) -> list[str]:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "site.yaml").write_text(textwrap.dedent("""\
        schema_version: 1
        name: Audit test
        connections: [{name: local, url: "mem://local"}]
        tags:
          - {name: a, address: "mem://local/a"}
        """), encoding="utf-8")
    return ["--site", str(folder), "--data-dir", str(tmp_path / "data")]


def test_audit_verify_exits_0_when_intact_1_with_each_problem_and_2_for_a_bad_site(site, tmp_path, capsys):
    target = tmp_path / "data" / "history.sqlite"
    write(target, [entry(i) for i in range(6)])
    assert main(["audit", "verify", *site]) == 0
    assert "journal intact: 6 entries checked; ws1 (seq 1..6)" in capsys.readouterr().out
    tamper(target, "UPDATE journal SET new_value = '99' WHERE seq = 2", "DELETE FROM journal WHERE seq = 4")
    assert main(["audit", "verify", *site]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: station ws1 seq 2: its fields do not match its hash (changed)" in out
    assert "PROBLEM: station ws1: seq 4 missing before seq 5 (deleted)" in out
    assert "journal NOT intact: 2 problem(s)" in out
    (tmp_path / "site" / "site.yaml").write_text("schema_version: 1\nname: X\nconnections: []\ntags: [{}]\n")
    assert main(["audit", "verify", *site]) == 2
    assert "the site project is invalid" in capsys.readouterr().err


def test_audit_list_prints_entries_newest_first_with_filters(site, tmp_path, capsys):
    write(tmp_path / "data" / "history.sqlite", [
        entry(0), JournalEntry(T0 + 5, Category.SECURITY, "login", user="bob", result="refused", message="bad PIN")])
    assert main(["audit", "list", *site]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["2030-03-17T17:46:45.123Z  ws1#2  security  login  user=bob  bad PIN  [refused]",
                     "2030-03-17T17:46:40.123Z  ws1#1  operator  write  tag0  user=alice  '0' -> '1'  "
                     "reason='setpoint change'  entry 0"]
    assert main(["audit", "list", *site, "--category", "operator", "--from", "2030-03-17T17:46:40Z",
                 "--to", "2030-03-17T18:46:41+01:00"]) == 0
    assert capsys.readouterr().out.splitlines() == lines[1:]
    assert main(["audit", "list", *site, "--text", "pin", "--limit", "5"]) == 0
    assert capsys.readouterr().out.splitlines() == lines[:1]
