"""The trend's drawing items: CurveLayer + Polyline (what is painted where) and TimeAxis (the same ticks and
labels as pyqtgraph's DateAxisItem, from its caches)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QColor, QFont, QFontMetrics

from widgets.trend.layer import CurveLayer, Polyline, polygons
from widgets.trend.time_axis import TimeAxis

NAN = math.nan
RED, BLUE, FIELD = QColor("#ff0000"), QColor("#0000ff"), QColor("#e0e0e0")


def points(polygon) -> list[tuple[float, float]]:
    return [(p.x(), p.y()) for p in polygon]


# -- polygons: the unbroken runs of a line ----------------------------------------------------------------


def test_a_line_without_gaps_is_one_polygon():
    (run,) = polygons(np.array([0.0, 1.0, 2.0]), np.array([5.0, 6.0, 4.0]))
    assert points(run) == [(0.0, 5.0), (1.0, 6.0), (2.0, 4.0)]


def test_nan_breaks_the_line_and_a_lone_point_draws_nothing():
    x = np.arange(8.0)
    y = np.array([1.0, 2.0, NAN, 3.0, NAN, NAN, 4.0, 5.0])
    runs = polygons(x, y)
    assert [points(r) for r in runs] == [[(0.0, 1.0), (1.0, 2.0)], [(6.0, 4.0), (7.0, 5.0)]]


@pytest.mark.parametrize("y", [[], [1.0], [NAN, NAN], [NAN, 1.0, NAN]])
def test_nothing_to_draw(y):
    assert polygons(np.arange(float(len(y))), np.array(y, dtype=float)) == []


# -- the layer paints its lines in its view's coordinates -------------------------------------------------


@pytest.fixture
def plot(qtbot):
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground(FIELD)
    widget.ci.setContentsMargins(0, 0, 0, 0)
    widget.resize(200, 100)
    view = widget.addViewBox()
    view.disableAutoRange()
    view.setRange(xRange=(0.0, 10.0), yRange=(0.0, 10.0), padding=0)
    layer = CurveLayer()
    view.addItem(layer)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget, view, layer
    widget.close()


def pixel(widget, view, x: float, y: float) -> QColor:
    image = widget.grab().toImage()
    at = view.mapViewToScene(pg.Point(x, y))
    return image.pixelColor(round(at.x()), round(at.y()))


def test_the_layer_draws_each_line_with_its_pen_and_leaves_gaps_empty(plot):
    widget, view, layer = plot
    red = Polyline(pg.mkPen(RED, width=3))
    blue = Polyline(pg.mkPen(BLUE, width=3))
    layer.set_lines([red, blue])
    red.setData(np.array([0.0, 4.0, 5.0, 10.0]), np.array([3.0, 3.0, NAN, 3.0]))  # a gap from 4 to 5
    blue.setData(np.array([0.0, 10.0]), np.array([7.0, 7.0]))
    assert pixel(widget, view, 2.0, 3.0) == RED
    assert pixel(widget, view, 4.5, 3.0) == FIELD
    assert pixel(widget, view, 2.0, 7.0) == BLUE
    blue.hide()
    assert pixel(widget, view, 2.0, 7.0) == FIELD
    blue.show()
    blue.setPen(pg.mkPen(RED, width=3))
    assert pixel(widget, view, 2.0, 7.0) == RED


def test_lines_follow_the_view_and_the_later_line_is_on_top(plot):
    widget, view, layer = plot
    under, over = Polyline(pg.mkPen(RED, width=3)), Polyline(pg.mkPen(BLUE, width=3))
    layer.set_lines([under, over])
    for line in (under, over):
        line.setData(np.array([0.0, 100.0]), np.array([5.0, 5.0]))
    assert pixel(widget, view, 5.0, 5.0) == BLUE
    view.setXRange(50.0, 60.0, padding=0)  # far from where the layer was first bounded
    assert pixel(widget, view, 55.0, 5.0) == BLUE
    assert layer.boundingRect().left() == pytest.approx(50.0)


def test_a_line_moved_to_another_layer_is_drawn_there_only(plot):
    _widget, _view, layer = plot
    line = Polyline()
    layer.set_lines([line])
    other = CurveLayer()
    other.set_lines([line])
    layer.set_lines([])
    assert line.layer is other
    assert other.lines == [line]


# -- the time axis: DateAxisItem's ticks and labels, cached -----------------------------------------------


def date_axes(qapp) -> tuple[TimeAxis, pg.DateAxisItem]:
    cached, plain = TimeAxis("bottom"), pg.DateAxisItem("bottom")
    metrics = QFontMetrics(QFont())
    for axis in (cached, plain):
        axis.fontMetrics = metrics  # DateAxisItem takes them from its first paint
    return cached, plain


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(1.5e9, 2.0e9),
    span=st.sampled_from([2.0, 45.0, 600.0, 3600.0, 8 * 3600.0, 86400.0, 30 * 86400.0, 400 * 86400.0]),
    size=st.sampled_from([180.0, 640.5, 1600.0]),
    pans=st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=6),
)
def test_the_time_axis_ticks_and_labels_are_date_axis_items(qapp, start, span, size, pans):
    cached, plain = date_axes(qapp)
    low = start
    for pan in pans:  # panning within and beyond what the cache covers
        low += pan * span
        expected = plain.tickValues(low, low + span, size)
        got = cached.tickValues(low, low + span, size)
        for (spacing, values), (got_spacing, got_values) in zip(expected, got, strict=True):
            assert got_spacing == spacing
            # DateAxisItem's ticks start after low; its sub-second ticks drift by float steps, ours are exact ms
            inside = [round(v, 3) for v in values if low < v <= low + span]
            assert got_values == pytest.approx(inside, abs=1e-5, rel=0)
            assert cached.tickStrings(got_values, 1.0, spacing) == plain.tickStrings(inside, 1.0, spacing)
