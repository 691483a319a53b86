"""Retention: each tier and each tag cut at its own age, the value at the raw cutoff kept, acquisition events
kept while a raw sample needs them; deletion in bounded steps that converge to one whole pass and never hold
the historian's commits up; site validation; disk usage. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from drivers.model import Quality, TagUpdate
from hmi.site import SiteError, parse_site
from hmi.site.schema import HistorianSpec, HistorySpec, RetentionSpec
from hmi.storage.compression import ANALOG
from hmi.storage.database import Database, open_database
from hmi.storage.historian import Historian, HistoryTag
from hmi.storage.queries import HistoryStore
from hmi.storage.retention import (
    Policies,
    RetentionPolicy,
    RetentionWorker,
    disk_usage,
    policies,
)
from hmi.storage.schema import ACQUISITION_STARTED, ACQUISITION_STOPPED, acquisition, rollup_1m, tags

DAY = 86400.0
US = 1_000_000
NOW = 1_900_000_123.456789  # not on a minute or an hour: the roll-up cutoffs fall inside a bucket
HISTORY_TABLES = ("samples", "rollup_1m", "rollup_1h", "acquisition", "tags")
ROLLUP_COLUMNS = [c.name for c in rollup_1m.columns]


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "h.sqlite")
    return request.getfixturevalue("postgres_url")  # one database per module: emptied by `database`


@pytest.fixture
def database(target):
    database = open_database(target)
    empty(database)
    yield database
    database.dispose()


def empty(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in HISTORY_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


def add_tag(database: Database, name: str) -> int:
    with database.engine.begin() as conn:
        return conn.execute(tags.insert().values(name=name, kind=ANALOG)).inserted_primary_key[0]


def add_samples(database: Database, tag_id: int, ts_us) -> None:  # type: ignore[no-untyped-def]
    rows = [(tag_id, int(ts), float(i), 0) for i, ts in enumerate(ts_us)]
    with database.engine.begin() as conn:
        conn.exec_driver_sql(database.upsert_samples, rows)


def add_rollups(database: Database, table: str, tag_id: int, starts_us) -> None:  # type: ignore[no-untyped-def]
    rows = [dict.fromkeys(ROLLUP_COLUMNS, 0) | {"tag_id": tag_id, "start_us": int(s), "first_us": int(s),
                                           "last_us": int(s)} for s in starts_us]
    with database.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({', '.join(ROLLUP_COLUMNS)}) VALUES "
                          f"({', '.join(':' + c for c in ROLLUP_COLUMNS)})"), rows)


def add_events(database: Database, ts_us) -> None:  # type: ignore[no-untyped-def]
    events = [{"ts_us": int(ts), "event": ACQUISITION_STARTED if i % 2 == 0 else ACQUISITION_STOPPED}
              for i, ts in enumerate(ts_us)]
    with database.engine.begin() as conn:
        conn.execute(acquisition.insert(), events)


def keys(database: Database, table: str, tag_id: int | None = None) -> list[int]:
    key = "start_us" if table.startswith("rollup") else "ts_us"
    where = "" if tag_id is None else f" WHERE tag_id = {tag_id}"
    with database.engine.connect() as conn:
        return [k for (k,) in conn.execute(text(f"SELECT {key} FROM {table}{where} ORDER BY {key}"))]


def snapshot(database: Database) -> dict[str, list[tuple]]:
    with database.engine.connect() as conn:
        return {table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))]
                for table in HISTORY_TABLES}


def cutoff_us(days: float, now: float = NOW) -> int:
    return math.floor((now - days * DAY) * US)


def raw_kept(ts: list[int], days: float | None, now: float = NOW) -> list[int]:
    """What retention keeps: samples from the one that holds at the cutoff (the newest at or before it) on."""
    if days is None:
        return ts
    held = [t for t in ts if t <= cutoff_us(days, now)]
    return ts if not held else [t for t in ts if t >= held[-1]]


def buckets_kept(starts: list[int], width_s: float, days: float | None) -> list[int]:
    return starts if days is None else [s for s in starts if s + width_s * US > cutoff_us(days)]


def spread(days: float, step_s: float, *, align_s: float = 1.0, jitter: bool = False) -> list[int]:
    """Times from NOW - days up to NOW, every step_s (aligned to align_s), in µs."""
    t = np.arange(NOW - days * DAY, NOW, step_s)
    if jitter:
        t = t + np.random.default_rng(1).uniform(0, step_s / 2, len(t))
    t = np.floor(t / align_s) * align_s
    return sorted({int(v) for v in np.round(t * US)})


# -- policies ---------------------------------------------------------------------------------------------


def test_a_tags_own_retention_replaces_the_sites_whole_spec():
    site = RetentionSpec(raw_days=30, minute_days=60, hour_days=400)
    resolved = policies(site, {"a": None, "b": RetentionSpec(raw_days=1)})
    assert resolved.of("a") == RetentionPolicy(30 * DAY, 60 * DAY, 400 * DAY)
    assert resolved.of("b") == RetentionPolicy(1 * DAY, 730 * DAY, None)  # its spec's defaults, not the site's
    assert resolved.of("gone from the site") == resolved.default == resolved.of("a")
    assert RetentionPolicy.of(RetentionSpec(raw_days=None, minute_days=None)).forever


def test_site_defaults_and_validation_errors_read_well(tmp_path):
    assert HistorianSpec().retention == RetentionSpec(raw_days=90, minute_days=730, hour_days=None)
    assert HistorySpec().retention is None
    site = """\
schema_version: 1
name: Test
historian:
  retention: {raw_days: 0, hour_days: null}
connections:
  - {name: plc, url: "opc.tcp://127.0.0.1:4840"}
tags:
  - name: speed
    address: "opcua://plc/ns=2;s=Speed"
    history:
      retention:
        minute_days: -1
        hour_days: .inf
        raw_days: 40000
  - name: level
    address: "opcua://plc/ns=2;s=Level"
    history: {retention: {raw_days: 7, weekly: 1}}
"""
    with pytest.raises(SiteError) as caught:
        parse_site(site, tmp_path / "site.yaml")
    found = sorted(str(p).split(": ", 1)[1] for p in caught.value.problems)
    assert found == sorted([
        "historian.retention.raw_days: Input should be greater than 0",
        "tags[0].history.retention.minute_days: Input should be greater than 0",
        "tags[0].history.retention.hour_days: Input should be a finite number",
        "tags[0].history.retention.raw_days: Input should be less than or equal to 36525",
        "tags[1].history.retention.weekly: unknown field (check the spelling)",
    ])
    assert "site.yaml:4:" in str(caught.value)  # the line of the historian's retention
    fine = parse_site(site.replace("raw_days: 0", "raw_days: 14").replace("minute_days: -1", "minute_days: null")
                      .replace("hour_days: .inf", "hour_days: 3650").replace("raw_days: 40000", "raw_days: 2.5")
                      .replace(", weekly: 1", ""), tmp_path / "site.yaml")
    project = fine.project
    assert project.historian.retention == RetentionSpec(raw_days=14, hour_days=None)
    assert project.tags[0].history.retention == RetentionSpec(raw_days=2.5, minute_days=None, hour_days=3650)


# -- what is deleted --------------------------------------------------------------------------------------


def test_each_tier_and_each_tag_is_cut_at_its_own_age(database):
    site = RetentionSpec(raw_days=30, minute_days=60, hour_days=400)
    own = {"site": None, "short": RetentionSpec(raw_days=2, minute_days=5, hour_days=None),
           "forever": RetentionSpec(raw_days=None, minute_days=None, hour_days=None)}
    specs = {"site": site, "orphan": site} | {k: v for k, v in own.items() if v is not None}
    ids = {name: add_tag(database, name) for name in ("site", "short", "forever", "orphan")}
    raw = spread(500, 3 * 3600, jitter=True)
    minutes, hours = spread(500, 6 * 3600, align_s=60), spread(500, DAY, align_s=3600)
    for tag_id in ids.values():
        add_samples(database, tag_id, raw)
        add_rollups(database, "rollup_1m", tag_id, minutes)
        add_rollups(database, "rollup_1h", tag_id, hours)
    events = spread(500, 10 * DAY)
    add_events(database, events)

    deleted = RetentionWorker(database, policies(site, own)).run(NOW)

    for name, tag_id in ids.items():
        spec = specs[name]
        assert keys(database, "samples", tag_id) == raw_kept(raw, spec.raw_days), name
        assert keys(database, "rollup_1m", tag_id) == buckets_kept(minutes, 60, spec.minute_days), name
        assert keys(database, "rollup_1h", tag_id) == buckets_kept(hours, 3600, spec.hour_days), name
    # "forever" keeps all its raw history: every event from its first sample on applies to it
    assert raw[0] > events[0]
    assert keys(database, "acquisition") == events[1:]
    expected = {"samples": sum(len(raw) - len(raw_kept(raw, specs[n].raw_days)) for n in ids),
                "rollup_1m": sum(len(minutes) - len(buckets_kept(minutes, 60, specs[n].minute_days)) for n in ids),
                "rollup_1h": sum(len(hours) - len(buckets_kept(hours, 3600, specs[n].hour_days)) for n in ids),
                "acquisition": 1}
    assert deleted == expected
    assert RetentionWorker(database, policies(site, own)).run(NOW) == dict.fromkeys(expected, 0)  # done


def test_the_value_that_holds_at_the_cutoff_is_kept(database):
    tag_id = add_tag(database, "level")
    cut = cutoff_us(10)
    old = [cut - 50 * 86_400 * US, cut - 20 * 86_400 * US]  # unchanged for 20 days before the cutoff
    add_samples(database, tag_id, [*old, cut + 5 * US])
    worker = RetentionWorker(database, Policies(RetentionPolicy(10 * DAY, None, None)))
    assert worker.run(NOW)["samples"] == 1
    assert keys(database, "samples", tag_id) == [old[1], cut + 5 * US]  # "2.3 m since 20 days before"
    add_samples(database, tag_id, [cut])  # a sample exactly at the cutoff holds there itself
    assert worker.run(NOW)["samples"] == 1
    assert keys(database, "samples", tag_id) == [cut, cut + 5 * US]
    assert worker.run(NOW + 3600)["samples"] == 1  # an hour later the newer sample holds at the cutoff
    assert keys(database, "samples", tag_id) == [cut + 5 * US]
    assert worker.run(NOW + 100 * DAY)["samples"] == 0  # the last sample of a tag is never deleted


def test_history_read_at_and_after_the_cutoff_is_unchanged(target):
    """Written by the historian (every sample), then cut: the value at the cutoff, raw reads from it on (with
    the value they start with) and interpolation from it on answer as before."""
    tag = HistoryTag("level", HistorySpec(mode="all"), ANALOG)
    now = time.time()
    t = now - DAY * np.array([200, 120, 100, 95, 91, 89.5, 89, 60, 30, 1])
    record(target, [tag], [TagUpdate("level", float(i), Quality.GOOD, float(s), float(s)) for i, s in enumerate(t)])
    cut = now - 90 * DAY
    store = HistoryStore(target)
    try:
        def reads():  # type: ignore[no-untyped-def]
            raw = store.raw("level", cut, now, before=True)
            grid = store.interpolated("level", cut, now, 3 * 3600.0)
            return store.value_at("level", cut), raw.t.tolist(), raw.value.tolist(), grid.value.tolist()

        before = reads()
        database = open_database(target)
        try:
            deleted = RetentionWorker(database, Policies(RetentionPolicy.of(RetentionSpec()))).run(now)
        finally:
            database.dispose()
        assert deleted["samples"] == 4  # 200, 120, 100 and 95 days old; the value at 91 days holds at 90
        assert reads() == before
        assert before[0] is not None
        assert before[0].value == 4.0
        assert len(store.raw("level", 0, now)) == 6
    finally:
        store.close()


def test_acquisition_events_go_once_no_raw_sample_is_older(database):
    a, b = add_tag(database, "a"), add_tag(database, "b")
    add_samples(database, a, spread(100, 3600))
    add_samples(database, b, spread(100, 3600)[1000:])  # b starts later
    events = spread(100, DAY / 3)
    add_events(database, events)
    worker = RetentionWorker(database, policies(RetentionSpec(raw_days=30), {"b": RetentionSpec(raw_days=10)}))
    deleted = worker.run(NOW)
    oldest = min(keys(database, "samples", a)[0], keys(database, "samples", b)[0])
    assert oldest == raw_kept(spread(100, 3600), 30)[0]
    assert keys(database, "acquisition") == [e for e in events if e >= oldest]
    assert deleted["acquisition"] == len([e for e in events if e < oldest]) > 0


# -- in bounded steps -------------------------------------------------------------------------------------


def test_small_steps_delete_at_most_their_budget_and_converge_to_one_pass(database):
    def seed() -> None:
        empty(database)
        for name in ("a", "b"):
            tag_id = add_tag(database, name)
            add_samples(database, tag_id, spread(40, 600))
            add_rollups(database, "rollup_1m", tag_id, spread(40, 1800, align_s=60))
        add_events(database, spread(40, DAY))

    site = RetentionSpec(raw_days=10, minute_days=20)
    seed()
    worker = RetentionWorker(database, policies(site, {"b": RetentionSpec(raw_days=3)}), chunk_rows=300)
    steps = []
    while True:
        step = worker.step(NOW, max_rows=1000, max_seconds=60)
        steps.append(step)
        assert sum(step.deleted.values()) <= 1000
        if not step.more:
            break
    assert steps[0].more
    assert sum(steps[0].deleted.values()) == 1000
    assert len(steps) > 5
    assert not worker.running
    assert worker.passes == 1
    assert not worker.due(NOW + 60)
    assert worker.due(NOW + 3600)
    stepwise, totals = snapshot(database), dict(worker.deleted)
    assert sum(totals.values()) > 5000

    seed()
    whole = RetentionWorker(database, policies(site, {"b": RetentionSpec(raw_days=3)})).run(NOW)
    assert whole == totals
    assert _without_ids(snapshot(database)) == _without_ids(stepwise)


def _without_ids(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Tag ids differ after seeding again; everything else must be the same."""
    return {name: sorted(row[1:] if name in ("samples", "rollup_1m", "rollup_1h", "tags") else row for row in rows)
            for name, rows in tables.items()}


def test_a_step_is_bounded_in_time(database):
    tag_id = add_tag(database, "a")
    add_samples(database, tag_id, spread(30, 20))  # 129,600 rows
    worker = RetentionWorker(database, Policies(RetentionPolicy(DAY, None, None)), chunk_rows=1000)
    first = worker.step(NOW, max_rows=10**9, max_seconds=0.0)  # at least one chunk or look-up, then stop
    assert first.more
    assert sum(first.deleted.values()) <= 1000
    while worker.step(NOW, max_rows=10**9, max_seconds=0.05).more:
        pass
    assert len(keys(database, "samples", tag_id)) == len(raw_kept(spread(30, 20), 1))


def test_the_historian_keeps_committing_while_retention_runs(tmp_path):
    path = tmp_path / "h.sqlite"
    database = open_database(path)
    now = time.time()
    old = add_tag(database, "old")  # 200,000 rows older than 90 days (no longer in the site: the site's rule)
    add_samples(database, old, np.round((now - 200 * DAY + np.arange(200_000) * 30.0) * US))

    stop, started = threading.Event(), threading.Event()
    state: dict = {}

    async def write() -> None:
        historian = Historian(path, flush_interval_s=0.05)
        state["historian"] = historian
        await historian.start([HistoryTag("live", HistorySpec(mode="all"), ANALOG)])
        started.set()
        base, i = time.time(), 0
        while not stop.is_set():
            t = base + i * 0.001
            historian.submit([TagUpdate("live", float(i), Quality.GOOD, t, t)])
            i += 1
            await asyncio.sleep(0.002)
        await historian.close()
        state["submitted"] = i

    writer = threading.Thread(target=asyncio.run, args=(write(),), name="test-historian-loop")
    writer.start()
    try:
        assert started.wait(10)
        historian = state["historian"]
        worker = RetentionWorker(database, Policies(RetentionPolicy.of(RetentionSpec())), chunk_rows=5000)
        written_before, longest, errors = historian.rows_written, 0.0, set()
        while True:
            began = time.monotonic()
            step = worker.step(max_rows=10_000, max_seconds=0.2)
            longest = max(longest, time.monotonic() - began)
            errors.add(historian.last_error)
            if not step.more:
                break
            time.sleep(0.02)  # the historian's own thread would flush in between
        written_during = historian.rows_written - written_before
        time.sleep(0.2)
    finally:
        stop.set()
        writer.join(30)
    assert worker.deleted["samples"] == 199_999  # all but the value that holds at the cutoff
    assert errors == {""}
    assert historian.last_error == ""
    assert historian.rows_dropped == 0
    assert written_during > 0, "the historian committed nothing while retention ran"
    assert longest < 2.0
    ids = dict(tag_ids(database))
    assert len(keys(database, "samples", ids["live"])) == state["submitted"] == historian.rows_written
    database.dispose()


# -- disk usage -------------------------------------------------------------------------------------------


def test_disk_usage_of_a_file(tmp_path):
    database = open_database(tmp_path / "h.sqlite")
    try:
        tag_id = add_tag(database, "a")
        add_samples(database, tag_id, spread(20, 10))
        before = disk_usage(database)
        assert before.bytes > 1_000_000
        assert before.page_count * before.page_size > 1_000_000
        assert before.bytes == Path(tmp_path / "h.sqlite").stat().st_size + before.wal_bytes
        RetentionWorker(database, Policies(RetentionPolicy(5 * DAY, None, None))).run(NOW)
        after = disk_usage(database)
        assert after.freelist_count > before.freelist_count
        assert after.reusable_bytes == after.freelist_count * after.page_size > 1_000_000  # ~3/4 of the rows
        assert after.reusable_bytes < after.page_count * after.page_size
        assert after.tables == {}
    finally:
        database.dispose()


def test_disk_usage_of_a_postgresql_database(postgres_url):
    database = open_database(postgres_url)
    try:
        empty(database)
        tag_id = add_tag(database, "a")
        add_samples(database, tag_id, spread(2, 10))
        with database.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE samples")
            conn.commit()
        usage = disk_usage(database)
        assert usage.bytes > usage.tables["samples"].bytes > 1_000_000
        assert usage.tables["samples"].rows == pytest.approx(len(spread(2, 10)), rel=0.05)
        assert set(usage.tables) == {"samples", "rollup_1m", "rollup_1h", "acquisition", "tags"}
        assert usage.reusable_bytes is None
        assert usage.page_size is None
    finally:
        database.dispose()


# -- helpers ----------------------------------------------------------------------------------------------


def record(target, tags: list[HistoryTag], *batches: list[TagUpdate]) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        historian = Historian(target, flush_interval_s=60)
        await historian.start(tags)
        for updates in batches:
            historian.submit(updates)
            await historian._flush()
        await historian.close()
        assert historian.last_error == ""

    if "://" not in str(target):
        asyncio.run(scenario())
        return
    database = open_database(target)  # the module's PostgreSQL database: start empty
    empty(database)
    database.dispose()
    asyncio.run(scenario())


def tag_ids(database: Database) -> list[tuple[str, int]]:
    with database.engine.connect() as conn:
        return [(name, tag_id) for tag_id, name in conn.execute(text("SELECT id, name FROM tags"))]
