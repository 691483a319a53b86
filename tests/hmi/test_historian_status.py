"""The historian's health in the application: the runtime's status snapshot, the HISTORY indicator in the
status bar and the Historian group of the Connections window, with a healthy historian and with one whose
database cannot be opened (acquisition goes on)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import textwrap

import pytest
from PySide6.QtCore import Qt

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.storage.health import NOT_RECORDING, RECORDING, WAITING, HistorianHealth, describe_target
from hmi.storage.historian import Historian
from hmi.ui.connections import ConnectionsWindow
from hmi.ui.main_window import MainWindow
from tests.hmi.test_historian import every_sample, sample
from tests.support import async_wait_until, wait_until
from widgets.historian_status import format_bytes, format_retention, headline

SITE = """\
schema_version: 1
name: Historian status
connections:
  - {name: local, url: "mem://local"}
tags:
  - {name: a, address: "mem://local/a?initial=1"}
  - {name: b, address: "mem://local/b"}
"""


def start_runtime(tmp_path, data_dir) -> Runtime:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "site.yaml").write_text(textwrap.dedent(SITE))
    runtime = Runtime(load_site(tmp_path / "site"), data_dir)
    runtime.start()
    return runtime


def feed(runtime: Runtime, count: int = 50) -> None:
    """A driver batch of samples, delivered on the io loop as a driver would."""
    burst = [TagUpdate(tag, float(i), Quality.GOOD, 1000.0 + i, 1000.0 + i) for i in range(count) for tag in "ab"]
    runtime.io.call_soon(runtime.registry.ingest, burst)


def status(runtime: Runtime) -> dict:
    return runtime.request_historian_status().result(timeout=10)


@pytest.fixture
def healthy(tmp_path):
    runtime = start_runtime(tmp_path, tmp_path / "data")
    yield runtime
    runtime.stop()


@pytest.fixture(params=["parent is a file", "file is a folder"])
def broken(request, tmp_path):
    """A runtime whose history database cannot be opened."""
    data = tmp_path / "data"
    if request.param == "parent is a file":
        data.write_text("not a folder")
    else:
        (data / "history.sqlite").mkdir(parents=True)
    runtime = start_runtime(tmp_path, data)
    yield runtime
    runtime.stop()


def test_a_healthy_historian_reports_where_what_it_wrote_and_the_disk(healthy):
    feed(healthy)
    wait_until(lambda: healthy.historian.rows_written > 0, message="rows written")
    first = status(healthy)
    assert (first["state"], first["ok"], first["problem"]) == (RECORDING, True, "")
    assert first["where"] == str(healthy.data_dir / "history.sqlite")
    assert first["dialect"] == "sqlite"
    assert first["rows_written"] > 0  # a straight ramp compresses to a few rows (auto: swinging door)
    assert first["samples_received"] >= 100
    assert (first["rows_waiting"], first["rows_dropped"], first["last_error"]) == (0, 0, "")
    assert first["disk"]["bytes"] > 0
    assert first["disk"]["wal_bytes"] is not None
    assert first["free_bytes"] > 0
    assert first["retention"] == {"raw_days": 90, "minute_days": 730, "hour_days": None}  # the site's default
    again = status(healthy)  # the disk is measured at most every few seconds: the same measurement, older
    assert again["usage_age_s"] > first["usage_age_s"]


def test_the_status_bar_shows_history_recording_and_opens_the_connections_window(qtbot, healthy):
    bridge = Bridge(healthy)
    main = MainWindow(bridge)
    qtbot.addWidget(main)
    main.show()
    indicator = main.historian_status
    qtbot.waitUntil(lambda: indicator.status is not None, timeout=10_000)
    assert indicator.text() == "HISTORY: recording"
    assert not indicator.abnormal
    assert str(healthy.data_dir / "history.sqlite") in indicator.label.toolTip()
    assert "Free space" in indicator.label.toolTip()
    qtbot.mouseClick(indicator.label, Qt.MouseButton.LeftButton)
    assert main.connections_window is not None
    assert main.connections_window.isVisible()
    panel = main.connections_window.historian
    qtbot.waitUntil(lambda: panel.text("state") == "recording", timeout=10_000)
    main.close()
    bridge.close()


def test_a_database_that_cannot_be_opened_shows_not_recording_and_acquisition_goes_on(qtbot, broken):
    bridge = Bridge(broken)
    main = MainWindow(bridge)
    qtbot.addWidget(main)
    main.show()
    seen: list[float] = []
    bridge.subscribe("a", lambda u: seen.append(u.value))
    feed(broken)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1] == 49.0, timeout=10_000)  # the screen still gets the values
    indicator = main.historian_status
    qtbot.waitUntil(lambda: indicator.text() == "HISTORY: NOT RECORDING", timeout=10_000)
    assert indicator.abnormal
    reason = broken.historian.last_error
    assert reason
    assert reason.rstrip(".") in indicator.label.toolTip()
    wait_until(lambda: broken.historian.backlog > 0, message="rows kept for retry")
    snapshot = status(broken)
    assert (snapshot["state"], snapshot["ok"], snapshot["rows_written"], snapshot["disk"]) == (
        NOT_RECORDING, False, 0, None)
    assert snapshot["rows_waiting"] > 0
    assert snapshot["samples_received"] >= 100
    assert "Acquisition goes on" in snapshot["effect"]
    assert broken.registry.last("b").value == 49.0
    main.close()
    bridge.close()


def test_the_connections_window_has_a_historian_group(qtbot, healthy):
    feed(healthy)
    bridge = Bridge(healthy)
    window = ConnectionsWindow(bridge, refresh_ms=200)
    qtbot.addWidget(window)
    window.show()
    panel = window.historian
    qtbot.waitUntil(lambda: bool(re.match(r"[1-9][\d,]* written", panel.text("rows"))), timeout=10_000)
    assert panel.text("state") == "recording"
    assert panel.text("where") == f"{healthy.data_dir / 'history.sqlite'}   (SQLite file)"
    assert "0 waiting · 0 lost" in panel.text("rows")
    assert panel.text("disk").split(" ")[1] in ("B", "kB", "MB")
    assert panel.text("free").endswith("on the disk that holds the file")
    assert panel.text("retention") == "raw 90 days, 1-minute 730 days, 1-hour forever"
    assert panel.labels["problem"].isHidden()
    window.close()
    bridge.close()


def test_the_connections_window_shows_the_whole_error_of_a_broken_historian(qtbot, broken):
    bridge = Bridge(broken)
    window = ConnectionsWindow(bridge, refresh_ms=200)
    qtbot.addWidget(window)
    window.show()
    panel = window.historian
    qtbot.waitUntil(lambda: panel.text("state") == "NOT RECORDING", timeout=10_000)
    assert not panel.labels["problem"].isHidden()
    assert panel.labels["problem"].wordWrap()
    assert panel.text("problem").startswith(broken.historian.last_error.rstrip("."))
    assert "Acquisition goes on" in panel.text("problem")
    assert panel.text("disk") == "not known while the database is not open"
    window.close()
    bridge.close()


def test_rows_held_up_by_a_lock_show_as_waiting_and_the_snapshot_does_not_wait_for_the_disk(tmp_path):
    path = tmp_path / "h.sqlite"

    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=0.1, busy_timeout_s=30)
        historian.health = health = HistorianHealth(historian, usage_every_s=0.0, waiting_flushes=3)
        await historian.start(every_sample("a"))
        blocker = sqlite3.connect(path, isolation_level=None)
        try:
            blocker.execute("BEGIN EXCLUSIVE")  # another program holds the write lock: the commit waits
            historian.submit([sample("a", 1.0, 1000.0)])
            await async_wait_until(lambda: historian.backlog > 0, message="rows waiting")
            first = await asyncio.wait_for(health.snapshot(), 5)  # the writer thread is busy: it answers anyway
            assert first["state"] == RECORDING  # not yet waiting long
            await asyncio.sleep(0.4)
            held = await asyncio.wait_for(health.snapshot(), 5)
            assert (held["state"], held["ok"], held["last_error"]) == (WAITING, False, "")
            assert held["rows_waiting"] > 0
            assert "waiting for the database" in held["problem"]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await async_wait_until(lambda: historian.backlog == 0 and historian.rows_written > 0,
                               message="the rows committed once the lock is gone")
        assert (await health.snapshot())["state"] == RECORDING
        await historian.close()

    asyncio.run(scenario())


def test_sizes_retention_and_headlines_read_as_words():
    assert [format_bytes(n) for n in (0, 999, 1_500, 1_234_567, 1_200_000_000, 345_000_000_000)] == [
        "0 B", "999 B", "1.5 kB", "1.2 MB", "1.2 GB", "345 GB"]
    assert format_retention({"raw_days": 1, "minute_days": 0.5, "hour_days": None}) == (
        "raw 1 day, 1-minute 0.5 days, 1-hour forever")
    assert headline({"state": "waiting", "rows_waiting": 12345}) == "12,345 rows waiting"
    assert headline({"state": "rows lost", "rows_dropped": 1200}) == "1,200 rows lost"
    assert describe_target("postgresql+psycopg://linewise:secret@db-host/plant") == (
        "postgresql+psycopg://linewise:***@db-host/plant", "postgresql")
