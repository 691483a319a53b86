"""The trend widget on a real runtime: mem:// tags, samples through the registry, the bridge and the real
historian (SQLite), history read back on the reader threads. Asserts what the curves hold, what the pen
table and cursor show, what the CSV contains; never how long anything took."""

from __future__ import annotations

import csv
import math
import textwrap
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.site.trend_config import TrendPenConfig, load_trend, save_trend
from widgets.trend import TrendWidget
from widgets.trend.cursor import PEN, QUALITY, SCALE, VALUE
from widgets.trend.toolbar import CustomRangeDialog

SITE = """\
schema_version: 1
name: Trend test
connections:
  - {name: local, url: "mem://local"}
tags:  # every sample stored: the tests read back exact samples (the default compresses)
  - {name: level, address: "mem://local/level", units: m, description: T-101 level, range: {low: 0, high: 5},
     history: {mode: all}}
  - {name: level_sp, address: "mem://local/level_sp", units: m, writable: true, range: {low: 0, high: 5},
     history: {mode: all}}
  - {name: flow, address: "mem://local/flow", units: m³/h, range: {low: 0, high: 40}, history: {mode: all}}
  - {name: temp, address: "mem://local/temp", units: °C, history: {mode: all}}
  - {name: running, address: "mem://local/running?type=bool", data_type: bool, on_text: RUNNING, off_text: STOPPED}
"""
HOUR = 3600.0


@pytest.fixture
def runtime(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "site.yaml").write_text(textwrap.dedent(SITE), encoding="utf-8")
    rt = Runtime(load_site(tmp_path / "site"), tmp_path / "data")
    rt.start()
    yield rt
    rt.stop()


@pytest.fixture
def bridge(runtime):
    b = Bridge(runtime)
    yield b
    b.close()


def ingest(runtime: Runtime, updates: list[TagUpdate]) -> None:
    runtime.io.call_soon(runtime.registry.ingest, updates)


def good(tag: str, value, t: float, quality: Quality = Quality.GOOD) -> TagUpdate:
    return TagUpdate(tag, value, quality, t, t)


@pytest.fixture
def recorded(qtbot, runtime):
    """An hour of `level` at 1 Hz, from two hours ago to one hour ago (value = seconds since its start;
    sample 200 is UNCERTAIN, 300 has no value), committed by the real historian; then a current sample."""
    start = time.time() - 2 * HOUR
    updates = [good("level", float(i), start + i) for i in range(3600)]
    updates[200] = good("level", 200.0, start + 200, Quality.UNCERTAIN)
    updates[300] = good("level", None, start + 300, Quality.COMM_LOST)
    before = runtime.historian.rows_written
    ingest(runtime, [*updates, good("level", 2.5, time.time())])
    qtbot.waitUntil(lambda: runtime.historian.rows_written >= before + 3601, timeout=15_000)
    return start


def show(qtbot, widget: TrendWidget, width: int = 900, height: int = 520) -> TrendWidget:
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def live_sample(qtbot, runtime, widget, tag: str, value, quality: Quality = Quality.GOOD) -> float:
    """One sample now, through the registry and the bridge, and wait until the pen has it."""
    t = time.time()
    ingest(runtime, [good(tag, value, t, quality)])
    qtbot.waitUntil(lambda: (r := widget.pens[tag].series.latest()) is not None and r.t == t, timeout=5000)
    return t


# -- live ------------------------------------------------------------------------------------------------


def test_live_samples_reach_the_curves_and_the_last_value_is_held_to_now(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level"], span_s=600))
    for value in (1.0, 2.0, 3.0):
        live_sample(qtbot, runtime, trend, "level", value)
    t_flagged = live_sample(qtbot, runtime, trend, "level", 2.5, Quality.UNCERTAIN)
    live_sample(qtbot, runtime, trend, "level", None, Quality.COMM_LOST)
    t_last = live_sample(qtbot, runtime, trend, "level", 4.0)
    assert trend.redraw(force=True)
    pen = trend.pens["level"]
    xs, ys = pen.good_curve.getData()
    assert [y for y in ys if y in (1.0, 2.0, 3.0)] == [1.0, 2.0, 3.0]
    assert ys[-1] == 4.0
    assert xs[-1] == t_last
    hx, hy = pen.hold_curve.getData()  # the last value, held up to now (servers report by exception)
    assert hx[0] == t_last
    assert hx[-1] > t_last
    assert list(hy) == [4.0, 4.0]
    fx, fy = pen.flagged_curve.getData()
    assert 2.5 in fy
    assert fx[list(fy).index(2.5)] == t_flagged
    assert np.isnan(ys).any()  # the comm-lost sample is a gap in the line
    view = trend.view_range()
    assert view[1] - view[0] == pytest.approx(600)
    trend.close()


def test_the_pen_table_shows_live_values_units_and_quality(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level", "running"]))
    live_sample(qtbot, runtime, trend, "level", 3.25)
    live_sample(qtbot, runtime, trend, "running", True)
    trend.redraw(force=True)
    table = trend.table
    # The table follows redraws at most every TABLE_PERIOD_S, and always catches up with the last one.
    qtbot.waitUntil(lambda: table.text(0, VALUE) == "3.25", timeout=2000)
    assert table.horizontalHeaderItem(VALUE).text() == "Now"
    assert [table.text(r, PEN) for r in range(table.rowCount())] == ["T-101 level", "running"]
    assert table.text(1, VALUE) == "RUNNING"
    live_sample(qtbot, runtime, trend, "level", 1.0, Quality.BAD)
    trend.redraw(force=True)
    qtbot.waitUntil(lambda: table.text(0, QUALITY) == "bad", timeout=2000)
    trend.close()


# -- history ----------------------------------------------------------------------------------------------


def test_zooming_out_past_the_ring_fetches_history_without_blocking(qtbot, runtime, bridge, recorded):
    trend = show(qtbot, TrendWidget(bridge, ["level"], span_s=600))
    trend.redraw(force=True)
    trend.set_span(8 * HOUR)
    trend.redraw(force=True)  # returns at once: the query runs on the reader threads
    pen = trend.pens["level"]
    assert trend.history.loading
    assert trend.toolbar.loading_label.text() == "loading history…"
    xs, _ = pen.good_curve.getData()
    assert not (xs < recorded + HOUR).any()  # nothing from the historian yet
    qtbot.waitUntil(lambda: trend.history.stats.applied >= 1 and not trend.history.loading, timeout=10_000)
    trend.redraw(force=True)
    xs, ys = pen.good_curve.getData()
    old = xs < recorded + HOUR
    assert xs[old][0] == pytest.approx(recorded, abs=1e-3)
    assert ys[old][0] == 0.0
    assert np.nanmax(ys[old]) == 3599.0  # decimation keeps the extremes
    assert old.sum() <= 4 * trend.plot.pixel_width() + 16  # at most ~4 points per pixel column
    assert ys[-1] == 2.5  # and the live sample after the history, held to now: one seamless line
    assert trend.toolbar.loading_label.text() == ""
    trend.close()


def test_an_answer_for_a_view_left_meanwhile_is_dropped(qtbot, runtime, bridge, recorded):
    trend = show(qtbot, TrendWidget(bridge, ["level"], span_s=600))
    trend.set_time_range(recorded, recorded + 1200)
    trend.redraw(force=True)  # asks for [recorded - 600, recorded + 1800]
    assert trend.history.loading
    trend.set_time_range(recorded + 2400, recorded + 3000)  # the operator moved on before the answer came
    trend.redraw(force=True)
    qtbot.waitUntil(lambda: trend.history.stats.stale >= 1, timeout=10_000)
    qtbot.waitUntil(lambda: trend.history.stats.applied >= 1, timeout=10_000)
    trend.redraw(force=True)
    xs, ys = trend.pens["level"].good_curve.getData()
    assert xs.min() >= recorded + 2400 - 300 - 1
    assert ys[np.abs(xs - (recorded + 2500)) < 1e-3].tolist() == [2500.0]
    trend.close()


def test_a_value_set_long_before_the_view_is_drawn_from_its_left_edge(qtbot, runtime, bridge):
    """A setpoint written three hours ago and not since: a view of the hour after shows it, held."""
    written = time.time() - 3 * HOUR
    before = runtime.historian.rows_written
    ingest(runtime, [good("level_sp", 3.0, written), good("level_sp", 4.0, time.time())])  # and changed now
    qtbot.waitUntil(lambda: runtime.historian.rows_written >= before + 2, timeout=15_000)
    trend = show(qtbot, TrendWidget(bridge, ["level_sp"]))
    start = written + 1.5 * HOUR
    trend.set_time_range(start, start + HOUR)
    trend.redraw(force=True)
    qtbot.waitUntil(lambda: trend.history.stats.applied >= 2, timeout=10_000)  # the slice, then the value before
    trend.redraw(force=True)
    xs, ys = trend.pens["level_sp"].good_curve.getData()
    assert xs[0] == pytest.approx(written, abs=1e-3)  # from the sample before the view...
    assert xs[-1] >= start + HOUR  # ...across it (a setpoint is drawn as steps)
    assert set(ys[xs <= start + HOUR]) == {3.0}  # 3 across the view, then the step to the next sample after it
    trend.set_cursor(start + 600)
    assert trend.table.text(0, VALUE) == "3.00"
    trend.close()


def test_cursor_reads_every_pen_at_its_time_with_quality(qtbot, runtime, bridge, recorded):
    trend = show(qtbot, TrendWidget(bridge, ["level", "flow"], span_s=600))
    trend.set_time_range(recorded, recorded + 600)  # 600 samples in ~800 px: history is not decimated
    trend.redraw(force=True)
    qtbot.waitUntil(lambda: trend.history.stats.applied >= 2, timeout=10_000)
    trend.set_cursor(recorded + 100.5)
    table = trend.table
    assert table.horizontalHeaderItem(VALUE).text().startswith("At ")
    assert table.text(0, VALUE) == "100.00"
    assert table.text(0, QUALITY) == ""
    assert table.text(1, VALUE) == "----"  # flow has no sample before that time
    assert table.text(1, QUALITY) == "no data"
    reading = trend.readings()["level"]
    assert reading.t == pytest.approx(recorded + 100, abs=1e-3)
    trend.set_cursor(recorded + 200.2)
    assert table.text(0, VALUE) == "200.00"
    assert table.text(0, QUALITY) == "bad or uncertain"  # history does not say which
    trend.set_cursor(recorded + 300.7)
    assert table.text(0, VALUE) == "----"
    assert table.text(0, QUALITY) == "no value"
    trend.cursor.line.setValue(recorded + 400.1)  # dragging the line updates the table too
    assert table.text(0, VALUE) == "400.00"
    trend.set_cursor(None)
    assert table.horizontalHeaderItem(VALUE).text() == "Now"
    trend.close()


def test_a_cursor_on_decimated_history_reads_the_raw_sample(qtbot, runtime, bridge, recorded):
    trend = TrendWidget(bridge, ["level"], compact=True)
    trend.toolbar.hide()  # so that the plot can be narrow: 3600 samples in fewer than 300 columns
    show(qtbot, trend, width=320)
    trend.set_time_range(recorded, recorded + HOUR)
    trend.redraw(force=True)
    qtbot.waitUntil(lambda: trend.history.stats.applied >= 1, timeout=10_000)
    assert trend.pens["level"].series.history.decimated
    at = recorded + 1234.5
    assert not trend.pens["level"].series.value_at(at).exact
    trend.set_cursor(at)
    qtbot.waitUntil(lambda: trend.readings()["level"].exact, timeout=10_000)
    reading = trend.readings()["level"]
    assert reading.value == 1234.0  # the sample at or before the cursor, not a neighbour in its column
    assert reading.t == pytest.approx(recorded + 1234, abs=1e-3)
    assert trend.table.text(0, VALUE) == "1234.00"
    trend.close()


def test_cursor_on_live_data_tells_uncertain_from_bad(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level"]))
    t_uncertain = live_sample(qtbot, runtime, trend, "level", 1.5, Quality.UNCERTAIN)
    live_sample(qtbot, runtime, trend, "level", 2.0)
    trend.set_cursor(t_uncertain + 1e-4)
    assert trend.table.text(0, VALUE) == "1.50"
    assert trend.table.text(0, QUALITY) == "uncertain"
    trend.close()


# -- time ---------------------------------------------------------------------------------------------------


def test_zooming_with_the_wheel_pauses_and_live_resumes(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level"], span_s=600))
    trend.redraw(force=True)
    assert trend.is_live
    viewport = trend.plot.viewport()
    center = QPointF(viewport.width() / 2, viewport.height() / 2)
    wheel = QWheelEvent(
        center,
        viewport.mapToGlobal(center),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    assert not trend.is_live
    assert trend.toolbar.live_button.text() == "Paused"
    t0, t1 = trend.view_range()
    assert t1 - t0 < 600  # zoomed in on time
    time.sleep(0.05)
    assert trend.view_range() == (t0, t1)  # frozen while paused
    qtbot.mouseClick(trend.toolbar.live_button, Qt.MouseButton.LeftButton)
    assert trend.is_live
    assert trend.toolbar.live_button.text() == "Live"
    trend.close()


def test_ctrl_wheel_zooms_values_not_time_and_reset_scales_undoes_it(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level", "flow"], span_s=600))
    trend.redraw(force=True)
    viewport = trend.plot.viewport()
    center = QPointF(viewport.width() / 2, viewport.height() / 2)
    wheel = QWheelEvent(
        center,
        viewport.mapToGlobal(center),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    assert trend.is_live  # time untouched
    low, high = trend.axis_of("level").y_range()
    assert high - low < 5.0  # zoomed in on values
    assert trend.axis_of("flow").mode == "manual"
    trend.redraw(force=True)
    qtbot.waitUntil(lambda: trend.table.text(0, SCALE).endswith("(zoomed)"), timeout=2000)
    qtbot.mouseClick(trend.toolbar.reset_button, Qt.MouseButton.LeftButton)
    assert trend.axis_of("level").y_range() == pytest.approx((-0.1, 5.1))
    assert trend.axis_of("flow").mode == "fixed"
    trend.close()


def test_presets_and_a_custom_range(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level"], span_s=300))
    qtbot.mouseClick(trend.toolbar.presets[HOUR], Qt.MouseButton.LeftButton)
    assert trend.is_live
    assert trend.span_s == HOUR
    assert trend.toolbar.presets[HOUR].isChecked()
    assert not trend.toolbar.presets[600.0].isChecked()
    dialog = CustomRangeDialog(1_700_000_000.0, 1_700_003_600.0)
    qtbot.addWidget(dialog)
    assert dialog.time_range() == (1_700_000_000.0, 1_700_003_600.0)
    dialog.end_edit.setDateTime(dialog.start_edit.dateTime().addSecs(-60))
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    trend.set_time_range(1_700_000_000.0, 1_700_003_600.0)
    assert not trend.is_live
    assert trend.view_range() == (1_700_000_000.0, 1_700_003_600.0)
    assert not any(b.isChecked() for b in trend.toolbar.presets.values())
    trend.close()


# -- values -------------------------------------------------------------------------------------------------


def test_one_axis_per_unit_on_the_engineering_range(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level", "level_sp", "flow", "temp", "running"]))
    keys = [a.key for a in trend.axes]
    assert keys == ["m", "m³/h", "°C", "on/off"]
    assert [a.axis.orientation for a in trend.axes] == ["left", "right", "left", "right"]
    low, high = trend.axis_of("level").y_range()
    assert low == pytest.approx(-0.1)
    assert high == pytest.approx(5.1)
    assert trend.axis_of("temp").mode == "auto"  # no range on the tag: follows the data
    assert trend.axis_of("level").mode == "fixed"
    assert trend.pens["level_sp"].steps  # a setpoint holds until changed
    assert trend.pens["running"].steps
    assert not trend.pens["level"].steps
    trend.set_autoscale(True)
    live_sample(qtbot, runtime, trend, "level", 2.0)
    live_sample(qtbot, runtime, trend, "level", 3.0)
    trend.redraw(force=True)
    low, high = trend.axis_of("level").y_range()  # the data: the driver's initial 0, then 2 and 3
    assert -0.5 < low < 0.0
    assert 3.0 < high < 3.5
    trend.close()


def test_normalised_view_draws_percent_of_range_and_the_table_keeps_real_values(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level", "flow"]))
    live_sample(qtbot, runtime, trend, "level", 2.5)
    live_sample(qtbot, runtime, trend, "flow", 10.0)
    trend.set_normalised(True)
    trend.redraw(force=True)
    assert [a.key for a in trend.axes] == ["\x00normalised"]
    assert trend.axes[0].axis.labelText == "% of range"
    assert trend.pens["level"].good_curve.getData()[1][-1] == pytest.approx(50.0)
    assert trend.pens["flow"].good_curve.getData()[1][-1] == pytest.approx(25.0)
    assert trend.table.text(0, VALUE) == "2.50"
    assert trend.toolbar.normalised_button.isChecked()
    trend.close()


# -- export ---------------------------------------------------------------------------------------------------


def test_csv_has_every_sample_of_the_visible_range(qtbot, runtime, bridge, recorded, tmp_path):
    trend = show(qtbot, TrendWidget(bridge, ["level", "running"]))
    trend.set_time_range(recorded + 190.5, recorded + 310.5)
    path = tmp_path / "out.csv"
    with qtbot.waitSignal(trend.export_finished, timeout=15_000) as done:
        trend.export_csv(path)
    assert done.args == [str(path), ""]
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time_utc", "level [m]", "level quality", "running", "running quality"]
    body = rows[1:]
    assert len(body) == 120  # every sample from 191 to 310, not decimated
    assert body[0][0].endswith("Z")
    assert body[0][0][10] == "T"
    assert time.mktime(time.strptime(body[0][0][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone == pytest.approx(
        math.floor(recorded + 191), abs=1.5
    )
    by_value = {r[1]: r for r in body}
    assert by_value["191.0"][2] == "GOOD"
    assert by_value["200.0"][2] == "NOT_GOOD"
    no_value = [r for r in body if r[2] == "NO_VALUE"]
    assert len(no_value) == 1
    assert no_value[0][1] == ""
    assert all(r[3] == "" and r[4] == "" for r in body)  # running has no samples then
    trend.close()


def test_csv_includes_live_samples_the_historian_has_not_committed(qtbot, runtime, bridge, tmp_path):
    trend = show(qtbot, TrendWidget(bridge, ["level"], span_s=600))
    t = live_sample(qtbot, runtime, trend, "level", 7.25)
    path = tmp_path / "live.csv"
    with qtbot.waitSignal(trend.export_finished, timeout=15_000):
        trend.export_csv(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))[1:]
    assert rows[-1][1:] == ["7.25", "GOOD"]
    assert rows[-1][0].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t)))
    trend.close()


def test_png_of_the_view(qtbot, runtime, bridge, tmp_path):
    trend = show(qtbot, TrendWidget(bridge, ["level", "flow"]), width=800, height=500)
    path = tmp_path / "view.png"
    assert trend.export_png(path)
    image = QImage(str(path))
    assert image.width() == trend.body.width()
    assert image.height() == trend.body.height()
    trend.close()


# -- configuration ------------------------------------------------------------------------------------------


def test_a_saved_trend_reopens_exactly(qtbot, runtime, bridge, tmp_path):
    pens = [
        TrendPenConfig(tag="level", color="#112233", width=3),
        TrendPenConfig(tag="flow", axis="flows"),
        TrendPenConfig(tag="temp", low=10, high=90),
    ]
    trend = show(qtbot, TrendWidget(bridge, pens, span_s=HOUR, normalised=False, autoscale=True))
    trend.set_time_range(1_700_000_000.25, 1_700_007_200.75)
    config = trend.config("line1", "Line 1 overview")
    path = save_trend(tmp_path / "site", config)
    assert path == tmp_path / "site" / "trends" / "line1.yaml"
    loaded = load_trend(path, runtime.site.tags)
    assert loaded == config
    again = show(qtbot, TrendWidget.from_config(bridge, loaded))
    assert again.config("line1", "Line 1 overview") == config
    assert again.view_range() == pytest.approx((1_700_000_000.25, 1_700_007_200.75), abs=1e-6)
    assert not again.is_live
    assert again.autoscale
    assert again.pens["level"].color.name() == "#112233"
    assert [a.key for a in again.axes] == ["m", "flows", "°C"]
    assert again.axis_of("temp").fixed == (10, 90)
    live = TrendWidget(bridge, ["level"], span_s=8 * HOUR)
    qtbot.addWidget(live)
    assert live.config("x").time.live
    assert TrendWidget.from_config(bridge, live.config("x"), parent=live).span_s == 8 * HOUR
    trend.close()
    again.close()


def test_timers_stop_when_the_trend_is_hidden_or_released(qtbot, runtime, bridge):
    trend = show(qtbot, TrendWidget(bridge, ["level"]))
    assert trend._timer.isActive()
    trend.hide()
    assert not trend._timer.isActive()
    trend.show()
    assert trend._timer.isActive()
    trend.release()
    assert not trend._timer.isActive()
    assert not trend.redraw(force=True)
    trend.close()
