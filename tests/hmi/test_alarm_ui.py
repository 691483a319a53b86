"""The operator's alarm UI on a real runtime: writes to mem:// tags raise alarms in the engine, the bridge brings
them to the banner, the summary and the horn, operator commands go back through the bridge, and the history
is read from the real hash-chained journal."""

from __future__ import annotations

import csv
import dataclasses
import textwrap
import time
import wave
from datetime import datetime

import pytest
from PySide6.QtCore import Qt

from hmi.alarms.model import AlarmSnapshot, AlarmState
from hmi.bridge import Bridge
from hmi.cli import parse_args
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.site.alarm_schema import Priority
from hmi.ui.alarm_dialogs import shelve_durations
from hmi.ui.alarm_history import CSV_FIELDS
from hmi.ui.alarm_table import AREA, TIME, AlarmTableModel, StateFilter, format_when
from hmi.ui.main_window import MainWindow
from widgets.alarm_horn import PATTERNS, RATE, HornLogic, tone_files

SITE = """\
schema_version: 1
name: Alarm UI
alarms: {flood_alarms: FLOOD, max_shelve_h: 8, sound: SOUND}
connections:
  - {name: m, url: "mem://"}
tags:
  - name: level
    address: mem://m/level?initial=0
    writable: true
    area: Tank
    alarms:
      - {type: hihi, limit: 9, priority: critical}
      - {type: hi, limit: 5, priority: high, message: "Level high: {value:.1f}"}
  - {name: temp, address: "mem://m/temp?initial=0", writable: true, area: Tank,
     alarms: [{type: hi, limit: 50, priority: medium}]}
  - {name: vib, address: "mem://m/vib?initial=0", writable: true, area: Pump,
     alarms: [{type: hi, limit: 7, priority: low}]}
  - {name: flow, address: "mem://m/flow?initial=10", writable: true, area: Pump,
     alarms: [{type: lo, limit: 2, priority: medium, group: pump}]}
  - {name: press, address: "mem://m/press?initial=0", writable: true, area: Boiler,
     alarms: [{type: hi, limit: 10, priority: critical}]}
"""


def make_window(qtbot, tmp_path, flood: int = 100, sound: bool = True):
    folder = tmp_path / "site"
    folder.mkdir()
    text = SITE.replace("FLOOD", str(flood)).replace("SOUND", str(sound).lower())
    (folder / "site.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    runtime = Runtime(load_site(folder), tmp_path / "data")
    runtime.start()
    bridge = Bridge(runtime)
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.alarm_list.loaded, timeout=5000)
    return runtime, bridge, window


@pytest.fixture
def main(qtbot, tmp_path):
    runtime, bridge, window = make_window(qtbot, tmp_path)
    yield window
    window.close()
    bridge.close()
    runtime.stop()


def raise_alarms(qtbot, window: MainWindow, *writes: tuple[str, float], expect: list[str]) -> None:
    """Write the values one after the other (so their alarms come in that order) and wait until the GUI has
    every alarm in `expect` annunciated."""
    runtime = window.bridge.runtime
    for tag, value in writes:
        runtime.write(tag, value).result(timeout=5)
    alarms = window.alarm_list.alarms
    qtbot.waitUntil(lambda: all(i in alarms and alarms[i].state.annunciated for i in expect), timeout=5000)


def state(window: MainWindow, alarm_id: str) -> AlarmState:
    return window.alarm_list.alarms[alarm_id].state


def command(window: MainWindow, name: str, ids: list[str], **arguments) -> None:
    window.bridge.runtime.alarm_command(name, ids, **arguments).result(timeout=5)


# -- the banner ------------------------------------------------------------------------------------------------

def test_a_calm_banner_sits_between_the_header_and_the_screen(main):
    layout = main.centralWidget().layout()
    assert [layout.itemAt(i).widget() for i in range(3)][1:] == [main.alarm_banner, main.screen_area]
    banner = main.alarm_banner
    assert banner.lines[0].text() == "No active alarms"
    assert banner.count_label.text() == "0 active · 0 unacknowledged"
    assert not banner.ack_button.isEnabled()
    assert not banner.silence_button.isEnabled()
    assert banner.sound_note.text() == "no sound device"  # offscreen: nothing plays, and no Qt warning
    assert not main.horn.available


def test_banner_order_content_and_acknowledge_shown_only(qtbot, main):
    raise_alarms(qtbot, main, ("vib", 8), ("temp", 60), ("press", 11), ("level", 6), ("flow", 1),
                 expect=["vib.HI", "temp.HI", "press.HI", "level.HI", "flow.LO"])
    command(main, "acknowledge", ["press.HI"])
    banner = main.alarm_banner
    qtbot.waitUntil(lambda: state(main, "press.HI") is AlarmState.ACKNOWLEDGED, timeout=5000)
    # unacknowledged first (by priority, then the newest), the acknowledged critical one below them all
    assert [a.id for a in banner.shown] == ["level.HI", "flow.LO", "temp.HI"]
    cells = banner.lines[0].cells()
    assert cells[0] == "HIGH"
    assert cells[2:] == ["UNACKNOWLEDGED", "Tank", "Level high: 6.0"]
    assert datetime.strptime(cells[1], "%H:%M:%S")
    assert banner.count_label.text() == "5 active · 4 unacknowledged · 3 of 5 shown"

    qtbot.mouseClick(banner.ack_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state(main, "temp.HI") is AlarmState.ACKNOWLEDGED, timeout=5000)
    assert {i: state(main, i) for i in ("level.HI", "flow.LO", "vib.HI")} == {
        "level.HI": AlarmState.ACKNOWLEDGED, "flow.LO": AlarmState.ACKNOWLEDGED,
        "vib.HI": AlarmState.UNACKNOWLEDGED}  # hidden: not acknowledged
    assert [a.id for a in banner.shown] == ["vib.HI", "press.HI", "level.HI"]
    assert "Acknowledged" in banner.lines[1].text()
    main.bridge.runtime.write("vib", 0).result(timeout=5)
    qtbot.waitUntil(lambda: state(main, "vib.HI") is AlarmState.RTN_UNACKNOWLEDGED, timeout=5000)
    assert banner.count_label.text() == "4 active · 1 unacknowledged · 3 of 5 shown"
    assert banner.detail_label.text() == "1 cleared"


def test_a_flood_is_shown_by_area(qtbot, tmp_path):
    runtime, bridge, window = make_window(qtbot, tmp_path, flood=3)
    try:
        raise_alarms(qtbot, window, ("vib", 8), ("level", 10), ("press", 11), ("temp", 60),
                     expect=["vib.HI", "level.HIHI", "level.HI", "press.HI", "temp.HI"])
        banner = window.alarm_banner
        qtbot.waitUntil(lambda: banner.flooding, timeout=5000)
        text = banner.text().splitlines()
        assert text[0] == "ALARM FLOOD: 5 new alarms in 10 min"
        assert text[1:4] == ["CRITICAL  Tank  3 alarms · 3 unacknowledged",
                             "CRITICAL  Boiler  1 alarm · 1 unacknowledged",
                             "LOW  Pump  1 alarm · 1 unacknowledged"]
        assert banner.detail_label.text() == "5 active · 5 unacknowledged"
        assert banner.shown == []
        assert not banner.ack_button.isEnabled()  # single alarms are not on the lines: nothing to acknowledge
        assert banner.acknowledge_shown() == []
        with qtbot.waitSignal(banner.open_summary) as opened:
            qtbot.mouseClick(banner.lines[1], Qt.MouseButton.LeftButton)
        assert opened.args == ["Boiler"]
    finally:
        window.close()
        bridge.close()
        runtime.stop()


# -- the summary -----------------------------------------------------------------------------------------------

def test_summary_follows_row_by_row_sorts_and_filters(qtbot, main):
    raise_alarms(qtbot, main, ("vib", 8), ("press", 11), ("level", 6), expect=["vib.HI", "press.HI", "level.HI"])
    main.alarms_action.trigger()
    summary = main.alarm_summary
    qtbot.waitExposed(summary)
    assert main.alarms_action.shortcut().toString() == "Ctrl+Shift+A"
    ids = lambda: [a.id for a in summary.visible_alarms()]  # noqa: E731
    assert ids() == ["press.HI", "level.HI", "vib.HI"]  # by priority, highest first
    resets = []
    summary.model.modelReset.connect(lambda: resets.append(1))
    raise_alarms(qtbot, main, ("flow", 1), expect=["flow.LO"])
    qtbot.waitUntil(lambda: "flow.LO" in ids(), timeout=5000)
    assert ids() == ["press.HI", "level.HI", "flow.LO", "vib.HI"]
    alarm_column = [summary.proxy.index(r, 5).data() for r in range(4)]
    assert alarm_column[2] == "LO  ▶ FIRST OUT"
    main.bridge.runtime.write("press", 0).result(timeout=5)  # still listed: cleared, not acknowledged
    command(main, "acknowledge", ["press.HI"])
    qtbot.waitUntil(lambda: "press.HI" not in ids(), timeout=5000)  # normal: the row leaves
    assert resets == []  # changed row by row, never rebuilt

    summary.table.sortByColumn(AREA, Qt.SortOrder.AscendingOrder)
    assert [a.area for a in summary.visible_alarms()] == ["Pump", "Pump", "Tank"]
    summary.show_area("Pump")
    assert sorted(ids()) == ["flow.LO", "vib.HI"]
    summary.priority.setCurrentIndex(summary.priority.findData(Priority.LOW))
    assert ids() == ["vib.HI"]
    summary.area.setCurrentIndex(0)
    summary.priority.setCurrentIndex(0)
    summary.search.setText("level high")
    assert ids() == ["level.HI"]
    summary.search.clear()
    command(main, "shelve", ["vib.HI"], reason="sensor swap", duration_s=900)
    qtbot.waitUntil(lambda: "vib.HI" not in ids(), timeout=5000)  # shelved: not listed as needing attention
    summary.states.setCurrentIndex(summary.states.findData(StateFilter.SHELVED))
    assert ids() == ["vib.HI"]
    row = summary.visible_alarms().index(main.alarm_list.alarms["vib.HI"])
    assert "sensor swap" in summary.proxy.index(row, 9).data(Qt.ItemDataRole.ToolTipRole)


def test_time_active_shows_the_date_of_an_alarm_from_another_day():
    now = time.time()
    stale = now - 26 * 3600  # active since yesterday
    model = AlarmTableModel({})
    model.apply([snapshot("old.HI", Priority.LOW, AlarmState.ACKNOWLEDGED, activated_at=stale),
                 snapshot("new.HI", Priority.LOW, AlarmState.UNACKNOWLEDGED, activated_at=now - 5)])
    old, new = (model.index(row, TIME) for row in range(2))
    assert old.data() == time.strftime("%Y-%m-%d %H:%M", time.localtime(stale))
    assert new.data() == time.strftime("%H:%M:%S", time.localtime(now - 5))
    when, age = old.data(Qt.ItemDataRole.ToolTipRole).split("  ")
    assert datetime.fromisoformat(when).timestamp() == int(stale)  # ISO 8601 with the zone offset
    assert datetime.fromisoformat(when).utcoffset() is not None
    assert age == "(1 d 2 h ago)"
    # "another day" is the calendar's: ten minutes before midnight, seen just after it
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    assert format_when(midnight - 600, midnight + 60) == time.strftime("%Y-%m-%d 23:50", time.localtime(midnight - 600))
    assert format_when(midnight + 30, midnight + 60) == "00:00:30"


def test_shelve_needs_a_reason_and_a_refused_command_says_why(qtbot, main):
    raise_alarms(qtbot, main, ("level", 6), ("temp", 60), expect=["level.HI", "temp.HI"])
    summary = main.show_alarms()
    summary.select_ids(["level.HI"])
    assert summary.selected_ids() == ["level.HI"]

    summary.reset()  # not latched: the engine refuses, and the status line says why
    qtbot.waitUntil(lambda: summary.status.text().startswith("Not done"), timeout=5000)
    assert summary.status.text() == "Not done: level.HI is unacknowledged: only a latched alarm is reset"

    dialog = summary.shelve()
    assert [dialog.duration.itemText(i) for i in range(dialog.duration.count())] == ["15 min", "1 h", "4 h", "8 h"]
    assert not dialog.ok_button.isEnabled()
    dialog.accept()  # Enter with no reason: refused, the dialog stays
    assert dialog.isVisible()
    assert state(main, "level.HI") is AlarmState.UNACKNOWLEDGED
    dialog.reason.setText("  ")
    assert not dialog.ok_button.isEnabled()
    dialog.reason.setText("level transmitter LT-101 being recalibrated")
    dialog.duration.setCurrentIndex(0)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state(main, "level.HI") is AlarmState.SHELVED, timeout=5000)
    assert summary.status.text() == "Shelved 1 alarm for 15 min."
    shelved = main.alarm_list.alarms["level.HI"]
    assert shelved.shelve_reason == "level transmitter LT-101 being recalibrated"
    assert 890 < shelved.shelved_until - shelved.changed_at <= 900
    assert shelve_durations(2) == [(900, "15 min"), (3600, "1 h"), (7200, "2 h (site maximum)")]
    assert shelve_durations(0.1) == [(360, "6 min (site maximum)")]

    summary.select_ids(["temp.HI"])
    dialog = summary.remove_from_service()
    dialog.accept()
    assert dialog.isVisible()
    assert state(main, "temp.HI") is AlarmState.UNACKNOWLEDGED
    dialog.reject()


def test_acknowledge_page_takes_only_the_rows_in_view(qtbot, main):
    raise_alarms(qtbot, main, ("vib", 8), ("temp", 60), ("press", 11), ("level", 10), ("flow", 1),
                 expect=["vib.HI", "temp.HI", "press.HI", "level.HIHI", "level.HI", "flow.LO"])
    summary = main.show_alarms()
    qtbot.waitExposed(summary)
    rows = summary.table.rowHeight(0)
    summary.table.setFixedHeight(summary.table.horizontalHeader().height() + round(2.5 * rows) + 4)
    qtbot.waitUntil(lambda: len(summary.page_ids()) == 2, timeout=2000)
    page = summary.page_ids()
    assert page == [a.id for a in summary.visible_alarms()[:2]]
    summary.acknowledge_page()
    qtbot.waitUntil(lambda: summary.status.text() == "Acknowledged 2 alarms.", timeout=5000)
    qtbot.waitUntil(lambda: all(state(main, i) is AlarmState.ACKNOWLEDGED for i in page), timeout=5000)
    unacked = {i for i, a in main.alarm_list.alarms.items() if a.state is AlarmState.UNACKNOWLEDGED}
    assert unacked == {"vib.HI", "temp.HI", "press.HI", "level.HIHI", "level.HI", "flow.LO"} - set(page)


# -- the history -----------------------------------------------------------------------------------------------

def test_history_search_and_csv_export(qtbot, main, tmp_path):
    runtime = main.bridge.runtime
    raise_alarms(qtbot, main, ("temp", 60), ("level", 6), expect=["temp.HI", "level.HI"])
    command(main, "acknowledge", ["level.HI"], comment="called the field operator")
    command(main, "shelve", ["temp.HI"], reason="probe müde, replaced", duration_s=3600)
    qtbot.waitUntil(lambda: runtime.journal.pending == 0 and runtime.journal.entries_written > 0, timeout=5000)
    summary = main.show_alarms()
    history = summary.history
    summary.tabs.setCurrentWidget(history)  # read when first shown
    qtbot.waitUntil(lambda: history.loaded, timeout=5000)
    events = [(e.entry.event, e.entry.source) for e in history.model.entries]
    assert events.index(("shelve", "temp.HI")) < events.index(("acknowledge", "level.HI")) \
        < events.index(("alarm_active", "level.HI")) < events.index(("write", "level"))  # newest first
    assert all(e.entry.category in ("alarm", "operator") for e in history.model.entries)

    history.search.setText("temp.HI")
    qtbot.mouseClick(history.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: {e.entry.source for e in history.model.entries} == {"temp.HI"}, timeout=5000)
    assert [e.entry.event for e in history.model.entries] == ["shelve", "alarm_active"]
    history.search.setText(runtime.user)  # by user
    history.refresh()
    qtbot.waitUntil(lambda: history.model.entries and all(e.entry.user == runtime.user
                                                          for e in history.model.entries), timeout=5000)

    history.search.clear()
    history.range.setCurrentIndex(3)  # 7 days: read again
    qtbot.waitUntil(lambda: len(history.model.entries) == len(events), timeout=5000)
    path = tmp_path / "alarms.csv"
    done = []
    history.export_csv(path, on_done=lambda count, error: done.append((count, error)))
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert done == [(len(events), None)]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == CSV_FIELDS
    assert len(rows) == len(events)
    shelve = next(r for r in rows if r["event"] == "shelve")
    assert (shelve["source"], shelve["user"], shelve["old_value"], shelve["new_value"], shelve["reason"],
            shelve["result"]) == ("temp.HI", runtime.user, "unacknowledged", "shelved", "probe müde, replaced", "ok")
    ack = next(r for r in rows if r["event"] == "acknowledge")
    assert ack["reason"] == "called the field operator"
    assert shelve["time_utc"].endswith("Z")
    assert datetime.fromisoformat(shelve["time_utc"]).utcoffset().total_seconds() == 0
    assert int(shelve["seq"]) > 0
    assert len(shelve["hash"]) == 64
    assert history.status.text() == f"Exported {len(events)} entries to {path}"


# -- the horn --------------------------------------------------------------------------------------------------

def snapshot(alarm_id: str, priority: Priority, state: AlarmState, activated_at: float = 100.0) -> AlarmSnapshot:
    return AlarmSnapshot(
        id=alarm_id, tag=alarm_id.split(".")[0], name="HI", kind="hi", priority=priority, area="", message="",
        state=state, active=True, acknowledged=not state.unacknowledged, latching=False, value=1.0, limit=0.0,
        activated_at=activated_at, cleared_at=None, acknowledged_at=None, acknowledged_by="", shelved_until=None,
        shelved_by="", shelve_reason="", out_of_service_reason="", comment="", group=None, first_out=False)


def test_horn_logic_tone_silence_and_rearm():
    horn = HornLogic()
    low = snapshot("a.HI", Priority.LOW, AlarmState.UNACKNOWLEDGED)
    high = snapshot("b.HI", Priority.HIGH, AlarmState.UNACKNOWLEDGED)
    acked_critical = snapshot("c.HI", Priority.CRITICAL, AlarmState.ACKNOWLEDGED)
    assert horn.decide([]) is None
    assert horn.decide([low]) is Priority.LOW
    assert horn.decide([low, high, acked_critical]) is Priority.HIGH  # the highest unacknowledged one
    horn.silence([low, high])
    assert horn.decide([low, high, acked_critical]) is None
    assert horn.decide([low, dataclasses.replace(high, state=AlarmState.RTN_UNACKNOWLEDGED)]) is None
    assert horn.decide([low]) is None  # one acknowledged: still silenced
    assert horn.decide([low, snapshot("d.HI", Priority.MEDIUM, AlarmState.UNACKNOWLEDGED)]) is Priority.MEDIUM
    horn.silence([low])
    assert horn.decide([dataclasses.replace(low, activated_at=200.0)]) is Priority.LOW  # it came in again
    horn.silence([low])
    assert horn.decide([dataclasses.replace(low, state=AlarmState.ACKNOWLEDGED)]) is None
    assert horn.decide([low]) is Priority.LOW  # all were acknowledged: the silence is over


def test_horn_in_the_window_without_a_device(qtbot, main):
    horn, banner = main.horn, main.alarm_banner
    assert (horn.available, horn.note()) == (False, "no sound device")
    assert "offscreen" in banner.sound_note.toolTip()
    raise_alarms(qtbot, main, ("vib", 8), ("level", 6), expect=["vib.HI", "level.HI"])
    assert horn.tone is Priority.HIGH
    assert banner.silence_button.isEnabled()
    qtbot.mouseClick(banner.silence_button, Qt.MouseButton.LeftButton)
    assert horn.tone is None
    assert not banner.silence_button.isEnabled()
    raise_alarms(qtbot, main, ("press", 11), expect=["press.HI"])
    assert horn.tone is Priority.CRITICAL  # a new alarm re-arms it


def test_sound_off_in_the_site(qtbot, tmp_path):
    runtime, bridge, window = make_window(qtbot, tmp_path, sound=False)
    try:
        assert window.horn.note() == "sound off"
        raise_alarms(qtbot, window, ("level", 6), expect=["level.HI"])
        assert window.horn.tone is None
        assert not window.alarm_banner.silence_button.isEnabled()
    finally:
        window.close()
        bridge.close()
        runtime.stop()


def test_tones_are_distinct_wav_files(tmp_path):
    files = tone_files(tmp_path / "tones")
    assert sorted(files) == sorted(Priority)
    frames = {}
    for priority, path in files.items():
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
            assert wav.getnframes() == round(PATTERNS[priority][1] * RATE)
            frames[priority] = wav.readframes(wav.getnframes())
        assert any(frames[priority])
    assert len(set(frames.values())) == 4
    mtime = files[Priority.LOW].stat().st_mtime_ns
    assert tone_files(tmp_path / "tones")[Priority.LOW].stat().st_mtime_ns == mtime  # cached, not rewritten


def test_cli_opens_the_alarm_summary():
    assert parse_args(["--demo", "--alarms", "--screenshot", "shot.png"]).alarms
    assert not parse_args(["--demo", "--screenshot", "shot.png"]).alarms
