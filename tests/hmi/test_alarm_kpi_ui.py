"""The alarm summary's Performance tab on a real runtime: alarms raised through mem:// writes are journaled, the
tab reads the journal on its worker and shows the ISA-18.2 / EEMUA 191 figures, and its report is the one
`linewise alarms report` writes."""

from __future__ import annotations

import csv
import dataclasses

import pytest
from PySide6.QtGui import QGuiApplication

from hmi.alarms.kpi import AlarmKpis
from hmi.alarms.model import AlarmState
from hmi.alarms.report import format_report, priority_verdict, stale_verdict, write_csv
from hmi.site.alarm_schema import Priority
from hmi.ui.alarm_kpi import BEYOND_STYLE
from hmi.ui.main_window import MainWindow
from tests.hmi.test_alarm_ui import make_window


@pytest.fixture
def main(qtbot, tmp_path):
    runtime, bridge, window = make_window(qtbot, tmp_path, sound=False)
    yield window
    window.close()
    bridge.close()
    runtime.stop()


def chatter(qtbot, window: MainWindow, tag: str, value: float, alarm_id: str, times: int) -> None:
    """Raise and clear one alarm `times` times without acknowledging it: each is an annunciated activation."""
    runtime, alarms = window.bridge.runtime, window.alarm_list.alarms
    for _ in range(times):
        runtime.write(tag, value).result(timeout=5)
        qtbot.waitUntil(lambda: alarms.get(alarm_id) is not None
                        and alarms[alarm_id].state is AlarmState.UNACKNOWLEDGED, timeout=5000)
        runtime.write(tag, 0).result(timeout=5)
        qtbot.waitUntil(lambda: alarms[alarm_id].state is AlarmState.RTN_UNACKNOWLEDGED, timeout=5000)


def open_performance(qtbot, window: MainWindow):
    runtime = window.bridge.runtime
    qtbot.waitUntil(lambda: runtime.journal.pending == 0, timeout=5000)
    summary = window.show_alarms()
    panel = summary.performance
    assert summary.tabs.tabText(summary.tabs.indexOf(panel)) == "Performance"
    assert not panel.loaded
    assert not panel.export_button.isEnabled()
    summary.tabs.setCurrentWidget(panel)  # read when first shown
    qtbot.waitUntil(lambda: panel.loaded, timeout=5000)
    return panel


def test_figures_verdicts_bad_actors_and_the_report(qtbot, main, tmp_path):
    chatter(qtbot, main, "level", 6, "level.HI", 8)  # high, 8 activations within seconds: chattering
    chatter(qtbot, main, "vib", 8, "vib.HI", 2)  # low
    chatter(qtbot, main, "temp", 60, "temp.HI", 1)  # medium
    main.bridge.runtime.write("press", 11).result(timeout=5)  # critical, still active
    qtbot.waitUntil(lambda: "press.HI" in main.alarm_list.alarms
                    and main.alarm_list.alarms["press.HI"].state is AlarmState.UNACKNOWLEDGED, timeout=5000)
    panel = open_performance(qtbot, main)
    k = panel.kpis
    assert k.hours == 24  # the default period
    assert k.activations == 12
    assert [(b.alarm, b.activations) for b in k.bad_actors] == [("level.HI", 8), ("vib.HI", 2), ("press.HI", 1),
                                                                ("temp.HI", 1)]
    assert k.chattering == [("level.HI", 8)]
    assert k.priority_distribution[Priority.HIGH] == pytest.approx(8 / 12)
    assert k.priority_distribution[Priority.CRITICAL] == pytest.approx(1 / 12)
    assert k.standing == 1  # press.HI: the others cleared

    # what the screen says: the figure, and in words the benchmark it is judged against
    assert panel.values["shown"].text() == "12"
    assert panel.words["average"].text() == "very likely acceptable"  # 12 in 24 h: 0.08 per 10 min
    assert panel.values["peak"].text() == "12"
    assert panel.words["peak"].text().startswith("a flood: over 10 in 10 min, from ")
    assert panel.values["peak"].styleSheet() == BEYOND_STYLE  # amber: beyond its benchmark
    assert panel.values["average"].styleSheet() != BEYOND_STYLE  # grey: within it
    assert panel.headline.text() == ("On average very likely acceptable (0.08 alarms per 10 min); "
                                     "at worst a flood (12 alarms in 10 min).")
    assert panel.values["chattering"].text() == "1"
    assert panel.words["chattering"].text().startswith("level.HI (8 in 1 min): beyond the aim of none")
    assert panel.priorities.shares[Priority.HIGH].text() == "67%  (8)"
    assert panel.priorities.high.text() == "75%"
    assert panel.priorities.high.styleSheet() == BEYOND_STYLE
    assert panel.priorities.verdict.text().startswith("Far over the aim of about 5 %")
    assert [panel.actors.item(r, 0).text() for r in range(panel.actors.rowCount())] == [
        "level.HI", "vib.HI", "press.HI", "temp.HI"]
    assert [panel.actors.item(0, c).text() for c in (1, 2)] == ["8", "67%"]
    assert panel.actors_note.text().startswith("These 4 caused 100% of the 12 alarms shown")
    assert (panel.values["standing"].text(), panel.values["stale"].text()) == ("1", "0")

    # the report: the same CSV as `linewise alarms report --csv`, and its text on the clipboard
    path = tmp_path / "report.csv"
    done = []
    panel.export_csv(path, on_done=lambda result, error: done.append(error))
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert done == [None]
    assert panel.status.text() == f"Report written to {path}"
    write_csv(tmp_path / "expected.csv", k)
    assert path.read_bytes() == (tmp_path / "expected.csv").read_bytes()
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = [tuple(row) for row in csv.reader(file)]
    assert rows[0] == ("figure", "alarm", "value")
    assert ("alarms_shown", "", "12") in rows
    assert ("chattering", "level.HI", "8") in rows
    assert [r[1:] for r in rows if r[0] == "bad_actor"] == [("level.HI", "8"), ("vib.HI", "2"), ("press.HI", "1"),
                                                          ("temp.HI", "1")]
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == format_report("Alarm UI", k)
    assert panel.status.text() == "The report is on the clipboard."

    panel.range.setCurrentIndex(0)  # the last hour: read again
    qtbot.waitUntil(lambda: panel.kpis.hours == 1, timeout=5000)
    assert panel.kpis.activations == 12


def test_an_empty_period_and_the_benchmarks_in_words(qtbot, main):
    panel = open_performance(qtbot, main)
    assert panel.kpis.activations == 0
    assert panel.headline.text() == "No alarms were shown in this period."
    assert panel.actors.rowCount() == 0
    assert panel.words["chattering"].text() == "none"
    assert panel.priorities.verdict.text() == "Too few alarms (0) to judge the distribution."
    assert panel.export_button.isEnabled()

    k = AlarmKpis(start=0.0, end=3600.0, activations=40, per_10_min_average=6.7, per_10_min_peak=9,
                  peak_window_start=0.0, flood_fraction=0.0, chattering=[], bad_actors=[],
                  priority_distribution={Priority.LOW: 0.8, Priority.MEDIUM: 0.15, Priority.HIGH: 0.05,
                                         Priority.CRITICAL: 0.0},
                  stale=[], shelved=0, suppressed=0, out_of_service=0, standing=0)
    assert not priority_verdict(k).beyond
    assert priority_verdict(dataclasses.replace(k, priority_distribution={
        Priority.LOW: 0.7, Priority.MEDIUM: 0.15, Priority.HIGH: 0.1, Priority.CRITICAL: 0.05})).beyond
    assert [stale_verdict(n).beyond for n in (0, 4, 5)] == [False, False, True]
    panel._show_rate(k)
    assert panel.words["average"].text() == "over the manageable rate of about 2"
    assert panel.values["average"].styleSheet() == BEYOND_STYLE
    assert panel.words["peak"].text().startswith("no flood")
