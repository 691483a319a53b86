"""Trends in the application: the overview's trend, Trends → New trend, saving to the site and reopening."""

from __future__ import annotations

import textwrap
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.site.trend_config import load_trend
from hmi.ui.main_window import MainWindow
from hmi.ui.trend_window import TagPickerDialog, TrendWindow
from widgets.trend import TrendWidget

SITE = """\
schema_version: 1
name: Trend window test
connections:
  - {name: local, url: "mem://local"}
tags:
  - {name: level, address: "mem://local/level?initial=2", units: m, description: T-101 level, range: {low: 0, high: 5}}
  - {name: flow, address: "mem://local/flow", units: m³/h, description: Inlet flow, range: {low: 0, high: 40}}
  - {name: temp, address: "mem://local/temp", units: °C, description: Motor temperature}
  - {name: label, address: "mem://local/label?type=string", data_type: string}
screens:
  - name: overview
    title: Overview
    panels:
      - title: Trend
        widgets:
          - {type: trend, tags: [level, flow], span_s: 300}
"""


@pytest.fixture
def site_folder(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "site.yaml").write_text(textwrap.dedent(SITE), encoding="utf-8")
    return folder


@pytest.fixture
def main(qtbot, site_folder, tmp_path):
    runtime = Runtime(load_site(site_folder), tmp_path / "data")
    runtime.start()
    bridge = Bridge(runtime)
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()
    bridge.close()
    runtime.stop()


def test_the_overview_trend_is_a_compact_trend_widget(qtbot, main):
    trend = next(w for w in main.screens["overview"].widgets if isinstance(w, TrendWidget))
    assert list(trend.pens) == ["level", "flow"]
    assert trend.span_s == 300
    assert trend.table.horizontalHeader().isHidden()  # compact: legend without a header
    assert not trend.toolbar.csv_button.isVisible()
    qtbot.waitUntil(lambda: trend.pens["level"].series.latest() is not None, timeout=5000)
    trend.redraw(force=True)
    assert trend.table.text(0, 2) == "2.00"


def test_an_overview_trend_opens_in_a_window(qtbot, main):
    trend = next(w for w in main.screens["overview"].widgets if isinstance(w, TrendWidget))
    assert trend.toolbar.open_button.isVisible()
    qtbot.mouseClick(trend.toolbar.open_button, Qt.MouseButton.LeftButton)
    window = main.trends_menu.windows[-1]
    qtbot.waitExposed(window)
    assert list(window.trend.pens) == ["level", "flow"]
    assert window.trend.span_s == 300
    assert window.name == ""  # not saved yet: Save asks for a name
    assert not window.trend.toolbar.open_button.isVisible()
    window.close()


def test_new_trend_save_and_reopen_from_the_menu(qtbot, main, site_folder):
    menu = main.trends_menu
    assert next(a.text() for a in menu.actions() if not a.isSeparator()) == "&New trend…"
    window = menu.new_trend(["level", "flow"])
    qtbot.waitExposed(window)
    assert window.windowTitle() == "Trend — new trend"
    assert window.add_pens(["temp"]) == ["temp"]
    window.trend.table.selectRow(2)
    assert window.selected_pen() == "temp"
    window.choose_pen_color("#aa2200")
    window.trend.set_span(8 * 3600)
    path = window.save("line1")
    assert path == site_folder / "trends" / "line1.yaml"
    assert window.windowTitle() == "Trend — line1"
    saved = load_trend(path, main.bridge.runtime.site.tags)
    assert [p.tag for p in saved.pens] == ["level", "flow", "temp"]
    assert saved.pens[2].color == "#aa2200"
    assert saved.time.live
    assert saved.time.span_s == 8 * 3600

    menu.refresh()
    entry = next(a for a in menu.actions() if a.text() == "line1")
    entry.trigger()
    reopened = menu.windows[-1]
    assert reopened is not window
    qtbot.waitExposed(reopened)
    assert reopened.trend.config("line1") == saved
    window.trend.table.selectRow(0)
    window.remove_selected_pen()
    assert list(window.trend.pens) == ["flow", "temp"]
    main.close()  # closes the trend windows with it: their timers stop
    assert not reopened.isVisible()
    assert not reopened.trend._timer.isActive()


def test_a_broken_saved_trend_says_where_and_opens_nothing(qtbot, main, site_folder, monkeypatch):
    (site_folder / "trends").mkdir()
    (site_folder / "trends" / "bad.yaml").write_text("schema_version: 1\nname: bad\npens:\n  - {tag: levl}\n")
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    menu = main.trends_menu
    menu.refresh()
    assert "bad" in [a.text() for a in menu.actions()]
    assert menu.open_saved(site_folder / "trends" / "bad.yaml") is None
    assert "bad.yaml:4: pens[0].tag: unknown tag 'levl'" in warnings[0]
    assert menu.windows == []


def test_open_by_name_or_tags_as_the_command_line_does(qtbot, main):
    window = main.trends_menu.open_named("level, temp")
    assert isinstance(window, TrendWindow)
    assert list(window.trend.pens) == ["level", "temp"]
    with pytest.raises(ValueError, match="unknown: levl"):
        main.trends_menu.open_named("levl")
    window.close()


def test_the_tag_picker_filters_and_offers_only_trendable_tags(qtbot, main):
    picker = TagPickerDialog(main.bridge.runtime.site.tags, exclude={"temp"})
    qtbot.addWidget(picker)
    items = [picker.list.item(i) for i in range(picker.list.count())]
    assert [i.data(Qt.ItemDataRole.UserRole) for i in items] == ["level", "flow"]  # no string, no excluded
    assert items[0].text() == "level — T-101 level [m]"
    picker.filter.setText("m³")
    assert [i.isHidden() for i in items] == [True, False]
    ok = picker.buttons.button(picker.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    items[1].setCheckState(Qt.CheckState.Checked)
    assert picker.selected() == ["flow"]
    assert ok.isEnabled()


def test_history_shows_in_a_trend_window(qtbot, main):
    runtime = main.bridge.runtime
    start = time.time() - 7200
    updates = [TagUpdate("flow", float(i % 40), Quality.GOOD, start + i, start + i) for i in range(0, 3600, 10)]
    runtime.io.call_soon(runtime.registry.ingest, updates)
    # flow is a measurement: swinging door keeps the corners of the sawtooth (2 per period of 40 samples)
    qtbot.waitUntil(lambda: runtime.historian.rows_written >= 2 * len(updates) // 40 - 1, timeout=15_000)
    window = main.trends_menu.new_trend(["flow"])
    qtbot.waitExposed(window)
    window.trend.set_span(3 * 3600)
    qtbot.waitUntil(lambda: window.trend.history.stats.applied >= 1, timeout=10_000)
    window.trend.redraw(force=True)
    xs, _ = window.trend.pens["flow"].good_curve.getData()
    assert xs.min() == pytest.approx(start, abs=1e-3)
    window.close()
