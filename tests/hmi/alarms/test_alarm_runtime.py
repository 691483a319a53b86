"""Alarms in the running application: the runtime evaluates them on the io loop, operators command them
through the bridge, and every transition and action lands in the hash-chained journal."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hmi.alarms.model import AlarmCommandError, AlarmState
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.storage.journal import read_journal, verify_journal
from tests.support import wait_until

SITE = """\
schema_version: 1
name: Alarm runtime
connections:
  - {name: m, url: "mem://"}
tags:
  - name: level
    address: mem://m/level?initial=2
    writable: true
    limits: {low: 0, high: 10}
    alarms:
      - {type: hi, limit: 4.5, priority: high, message: "Level high: {value:.1f}"}
  - name: trip
    address: mem://m/trip?type=bool
    data_type: bool
    writable: true
    alarms: [{type: state, latching: true}]
"""


@pytest.fixture
def runtime(tmp_path: Path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "site.yaml").write_text(textwrap.dedent(SITE))
    rt = Runtime(load_site(tmp_path / "site"), tmp_path / "data")
    rt.start()
    yield rt
    rt.stop()


def state(rt: Runtime, alarm_id: str) -> AlarmState:
    return rt.io.run(_state(rt, alarm_id), timeout=5)


async def _state(rt: Runtime, alarm_id: str) -> AlarmState:
    return rt.alarms.points[alarm_id].state


def test_alarm_lifecycle_is_journaled_and_verifies(runtime: Runtime, tmp_path: Path):
    runtime.write("level", 5.0).result(timeout=5)
    wait_until(lambda: state(runtime, "level.HI") is AlarmState.UNACKNOWLEDGED)
    assert runtime.alarm_command("acknowledge", ["level.HI"], comment="seen").result(timeout=5) == ["level.HI"]
    with pytest.raises(AlarmCommandError, match="reason"):
        runtime.alarm_command("shelve", ["level.HI"], reason="", duration_s=60).result(timeout=5)
    runtime.write("level", 2.0).result(timeout=5)
    wait_until(lambda: state(runtime, "level.HI") is AlarmState.NORMAL)
    runtime.stop()
    database = tmp_path / "data" / "history.sqlite"
    entries = [e.entry for e in reversed(read_journal(database))]
    events = [(e.event, e.source) for e in entries]
    assert events[0] == ("app_start", "")
    assert ("connected", "m") in events
    assert events.index(("alarm_active", "level.HI")) < events.index(("acknowledge", "level.HI")) \
        < events.index(("alarm_cleared", "level.HI"))
    assert events[-1] == ("app_stop", "")
    write = next(e for e in entries if e.event == "write")  # written with its result, stamped when asked
    assert (write.old_value, write.new_value, write.result, write.user) == ("2.0", "5.0", "ok", runtime.user)
    active = next(e for e in entries if e.event == "alarm_active")
    assert write.ts <= active.ts
    assert active.message == "Level high: 5.0"
    assert active.new_value == "unacknowledged"
    assert verify_journal(database, tmp_path / "data" / "journal-head.json").ok


def test_a_refused_write_is_journaled_too(runtime: Runtime, tmp_path: Path):
    with pytest.raises(ValueError, match=r"limits|range|above|outside"):
        runtime.write("level", 50.0)
    runtime.stop()
    write = next(e.entry for e in read_journal(tmp_path / "data" / "history.sqlite") if e.entry.event == "write")
    assert write.result == "refused"
    assert write.new_value == "50.0"
    assert write.message


def test_latched_trip_through_the_bridge(runtime: Runtime, qtbot):
    from hmi.bridge import Bridge

    bridge = Bridge(runtime)
    seen: dict[str, AlarmState] = {}
    bridge.alarms_changed.connect(lambda changed, _flood: seen.update({a.id: a.state for a in changed}))
    try:
        runtime.write("trip", True).result(timeout=5)
        qtbot.waitUntil(lambda: seen.get("trip.STATE") is AlarmState.UNACKNOWLEDGED, timeout=5000)
        results: list = []
        bridge.alarm_command("reset", ["trip.STATE"], on_done=lambda r, e: results.append(e))
        qtbot.waitUntil(lambda: bool(results), timeout=5000)
        assert isinstance(results[0], AlarmCommandError)
        assert "still active" in str(results[0])
        bridge.alarm_command("acknowledge", ["trip.STATE"])
        runtime.write("trip", False).result(timeout=5)
        qtbot.waitUntil(lambda: seen.get("trip.STATE") is AlarmState.LATCHED, timeout=5000)
        bridge.alarm_command("reset", ["trip.STATE"])
        qtbot.waitUntil(lambda: seen.get("trip.STATE") is AlarmState.NORMAL, timeout=5000)
        snapshot: list = []
        bridge.request_alarms(lambda result, error: snapshot.append(result))
        qtbot.waitUntil(lambda: bool(snapshot), timeout=5000)
        alarms, flood = snapshot[0]
        assert {a.id for a in alarms} == {"level.HI", "trip.STATE"}
        assert not flood.active
    finally:
        bridge.close()


def test_kpi_report_from_the_command_line(runtime: Runtime, tmp_path: Path, capsys):
    from hmi.cli import main

    for value in (5.0, 2.0, 5.0, 2.0, 5.0):  # level.HI chatters: 3 activations within a minute
        runtime.write("level", value).result(timeout=5)
        wait_until(lambda v=value: state(runtime, "level.HI") is not AlarmState.NORMAL or v < 4.5)
    runtime.alarm_command("shelve", ["trip.STATE"], reason="switch on test", duration_s=600).result(timeout=5)
    runtime.stop()
    csv_file = tmp_path / "kpi.csv"
    assert main(["alarms", "report", "--site", str(tmp_path / "site"), "--data-dir", str(tmp_path / "data"),
                 "--hours", "1", "--csv", str(csv_file)]) == 0
    out = capsys.readouterr().out
    assert "alarms shown        3" in out
    assert "chattering          level.HI (3 in 1 min)" in out
    assert "1 standing" in out
    assert "1 shelved" in out
    rows = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "figure,alarm,value"
    assert "bad_actor,level.HI,3" in rows
    assert "shelved,,1" in rows
