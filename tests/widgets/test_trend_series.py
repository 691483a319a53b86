"""PenSeries and the drawing rules: merging history and the live ring, decimation, readings (no Qt, no peer)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivers.model import Quality, TagUpdate
from hmi.storage.history_query import HistorySlice
from widgets.trend.pens import as_steps, segment_styles, without_repeated_gaps
from widgets.trend.series import Q_FLAGGED, Q_GOOD, Q_NO_VALUE, PenSeries, hold_last_value
from widgets.trend.timerange import TimeRange

NAN = math.nan


def history(
    t: np.ndarray, y: np.ndarray, start: float, end: float, flagged: np.ndarray | None = None, rows: int | None = None
) -> HistorySlice:
    flagged = np.full(len(t), NAN) if flagged is None else flagged
    return HistorySlice(
        "x", start, end, np.asarray(t, float), np.asarray(y, float), flagged, len(t) if rows is None else rows
    )


# -- hold last value (servers report by exception) --------------------------------------------------------


def test_a_steady_value_is_drawn_up_to_now():
    t, y = hold_last_value(np.array([10.0]), np.array([2.5]), (10.0, 2.5), now=70.0)
    assert list(t) == [10.0, 70.0]
    assert list(y) == [2.5, 2.5]


def test_a_bad_last_sample_is_not_held():
    t, _ = hold_last_value(np.array([10.0, 20.0]), np.array([2.5, NAN]), (20.0, NAN), now=70.0)
    assert len(t) == 2


def test_nothing_to_hold_when_empty():
    t, _ = hold_last_value(np.array([]), np.array([]), None, now=70.0)
    assert len(t) == 0


def test_a_value_unchanged_since_before_the_window_spans_it():
    t, y = hold_last_value(np.array([]), np.array([]), (5.0, 2.5), now=70.0, start=40.0)
    assert list(t) == [40.0, 70.0]
    assert list(y) == [2.5, 2.5]


# -- live samples ---------------------------------------------------------------------------------------


def test_live_samples_split_into_good_flagged_and_gaps():
    series = PenSeries(100, created_at=0.0)
    for t, value, quality in [
        (1, 1.0, Quality.GOOD),
        (2, 2.0, Quality.UNCERTAIN),
        (3, None, Quality.COMM_LOST),
        (4, 4.0, Quality.BAD),
        (5, True, Quality.GOOD),
    ]:
        assert series.append_update(TagUpdate("x", value, quality, float(t), float(t)))
    t, good, flagged = series.visible(0.0, 10.0, 100)
    assert list(t) == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(good, [1.0, NAN, NAN, NAN, 1.0])
    np.testing.assert_array_equal(flagged, [NAN, 2.0, NAN, 4.0, NAN])


def test_older_samples_are_refused_and_equal_times_kept():
    series = PenSeries(100, created_at=0.0)
    assert series.append(10.0, 1.0, Q_GOOD)
    assert not series.append(9.0, 2.0, Q_GOOD)  # a replayed sample: history has it
    assert series.append(10.0, 3.0, 1.0)  # the same time with a new quality is news
    assert series.extend(np.array([8.0, 11.0, 12.0]), np.array([0.0, 4.0, 5.0]), 0.0) == 2
    assert list(series.live_samples(0, 100)[0]) == [10.0, 10.0, 11.0, 12.0]


def test_a_view_after_the_last_sample_starts_from_it_and_one_before_the_last_ends_after_it():
    series = PenSeries(100, created_at=0.0)
    series.extend(np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 3.0]), 0.0)
    t, good, _ = series.visible(40.0, 50.0, 100)  # a steady value: nothing in view, but the line enters it
    assert list(t) == [30.0]
    assert list(good) == [3.0]
    t, _, _ = series.visible(12.0, 18.0, 100)
    assert {10.0, 20.0} <= set(t)  # the line crosses the whole view (from the margin on either side)
    assert t[0] <= 12.0
    assert t[-1] >= 18.0


def test_dense_data_is_reduced_to_the_pixel_width_keeping_extremes():
    series = PenSeries(200_000, created_at=0.0)
    t = np.arange(100_000) * 0.01
    y = np.sin(t)
    y[54_321] = 7.0
    y[12_345] = -7.0
    series.extend(t, y, 0.0)
    vt, good, flagged = series.visible(0.0, 1000.0, 500)
    assert len(vt) <= 4 * 501 + 2
    assert np.nanmax(good) == 7.0
    assert np.nanmin(good) == -7.0
    assert np.all(np.diff(vt) >= 0)
    assert np.isnan(flagged).all()


def test_scrolling_by_less_than_a_column_keeps_the_same_columns():
    """Bins sit on a fixed time grid: a live view moving on re-bins nothing (dense data does not shimmer)."""
    series = PenSeries(200_000, created_at=0.0)
    rng = np.random.default_rng(3)
    t = np.arange(100_000) * 0.01
    series.extend(t, rng.standard_normal(len(t)), 0.0)
    first = series.visible(100.0, 600.0, 250)
    second = series.visible(100.7, 600.7, 250)  # columns are 2 s wide
    inner = (first[0] > 110) & (first[0] < 590)
    inner2 = (second[0] > 110) & (second[0] < 590)
    np.testing.assert_array_equal(first[0][inner], second[0][inner2])


def test_a_flagged_stretch_survives_decimation():
    series = PenSeries(200_000, created_at=0.0)
    t = np.arange(100_000) * 0.01
    quality = np.zeros(len(t))
    quality[40_000:40_050] = float(Quality.UNCERTAIN)  # half a second of uncertain data in 1000 s
    series.extend(t, np.ones(len(t)), quality)
    vt, _good, flagged = series.visible(0.0, 1000.0, 200)
    assert len(vt) < 1000
    assert np.isfinite(flagged).any()
    assert 400.0 <= vt[np.isfinite(flagged)][0] < 400.5


def test_the_live_series_evicts_and_its_start_moves_on():
    series = PenSeries(640, created_at=0.0)
    series.extend(np.arange(1000, dtype=float), np.arange(1000, dtype=float), 0.0)
    assert 640 - 16 <= len(series) <= 640  # evicted in whole top-level blocks (16 samples at this size)
    assert series.live_start == 1000.0 - len(series)  # the oldest kept: before it is history
    t, _, _ = series.visible(0.0, 2000.0, 2000)
    assert t[0] == series.live_start
    series.extend(np.arange(1000.0, 1100.0), np.arange(1000.0, 1100.0), 0.0)
    assert series.live_start == 1100.0 - len(series)


# -- history ----------------------------------------------------------------------------------------------


def test_history_before_the_ring_and_the_ring_after_are_merged_seamlessly():
    series = PenSeries(1000, created_at=0.0)
    series.extend(np.arange(100.0, 200.0), np.full(100, 2.0), 0.0)
    part = history(np.arange(0.0, 150.0), np.full(150, 1.0), 0.0, 150.0)  # overlaps the ring: not drawn twice
    series.set_history(part, 1000, fetched_at=1e9)
    t, good, _ = series.visible(50.0, 150.0, 1000)
    assert np.all(np.diff(t) > 0)
    assert set(good[t < 100.0]) == {1.0}
    assert set(good[t >= 100.0]) == {2.0}
    assert t[0] <= 50.0  # from a sample before the view (the answer covers half a view more on each side)
    assert t[-1] >= 150.0


def test_history_is_asked_for_only_when_the_view_reaches_before_the_ring():
    series = PenSeries(1000, created_at=1000.0)
    series.extend(np.arange(1000.0, 1100.0), np.ones(100), 0.0)
    assert series.history_request(1000.0, 1100.0, 100, now=1100.0) is None  # all live
    request = series.history_request(400.0, 1100.0, 700, now=1100.0)
    assert request is not None
    assert request.start == pytest.approx(50.0)  # half a view more on the left
    assert request.end == 1100.0  # never in the future
    assert request.n_bins == math.ceil(700 * (1100 - 50) / 700)


def test_a_cached_answer_covers_small_pans_and_zoom_in_asks_again():
    series = PenSeries(1000, created_at=10_000.0)
    request = series.history_request(1000.0, 2000.0, 100, now=10_000.0)
    answer = history(
        np.linspace(request.start, request.end, 400), np.ones(400), request.start, request.end, rows=100_000
    )
    assert series.answers(request, answer, 10_000.0, 1000.0, 2000.0, 100, now=10_000.0)
    series.set_history(answer, request.n_bins, fetched_at=10_000.0)
    assert series.history_request(1000.0, 2000.0, 100, now=10_000.0) is None
    assert series.history_request(1100.0, 2100.0, 100, now=10_000.0) is None  # a pan within the margin
    assert series.history_request(1400.0, 1500.0, 100, now=10_000.0) is not None  # 10x finer than cached
    assert series.history_request(0.0, 3000.0, 100, now=10_000.0) is not None  # zoomed out past it


def test_an_answer_for_another_view_is_stale():
    series = PenSeries(1000, created_at=10_000.0)
    request = series.history_request(1000.0, 2000.0, 100, now=10_000.0)
    answer = history(
        np.linspace(request.start, request.end, 400), np.ones(400), request.start, request.end, rows=100_000
    )
    assert not series.answers(request, answer, 10_000.0, 5000.0, 6000.0, 100, now=10_000.0)
    assert not series.answers(request, answer, 10_000.0, 1000.0, 1010.0, 100, now=10_000.0)  # zoomed in


def test_history_not_yet_committed_is_asked_again_later():
    series = PenSeries(1000, created_at=10_000.0)  # nothing live yet: everything before now is history
    request = series.history_request(9000.0, 10_000.0, 1000, now=10_000.0)
    series.set_history(history([], [], request.start, request.end), request.n_bins, fetched_at=10_000.0)
    assert series.history_request(9000.0, 10_000.0, 1000, now=10_000.0) is None
    # the last seconds before the ring started may not have been committed when it was asked: once more
    request = series.history_request(9010.0, 10_010.0, 1000, now=10_010.0)
    assert request is not None
    series.set_history(history([], [], request.start, request.end), request.n_bins, fetched_at=10_010.0)
    assert series.history_request(9020.0, 10_020.0, 1000, now=10_020.0) is None  # live from 10_000 on


def test_a_value_set_before_the_cached_history_is_looked_for_further_back():
    series = PenSeries(1000, created_at=100_000.0)
    series.set_history(history([], [], 40_000.0, 60_000.0), 100, fetched_at=100_000.0)
    first = series.prior_request(45_000.0, 55_000.0, 100)
    assert first == (40_000.0 - 10_000.0, 40_000.0, 1)
    assert series.set_prior(first, history([], [], first.start, first.end))  # nothing there: look further
    second = series.prior_request(45_000.0, 55_000.0, 100)
    assert second.start == 40_000.0 - 80_000.0
    assert series.set_prior(second, history([-20_000.0], [7.0], second.start, second.end))
    assert series.prior_request(45_000.0, 55_000.0, 100) is None
    t, good, _ = series.visible(45_000.0, 55_000.0, 100)
    assert list(t) == [-20_000.0]
    assert list(good) == [7.0]
    assert series.value_at(50_000.0)[1:3] == (7.0, Q_GOOD)
    series.set_history(history([], [], 0.0, 10.0), 100, fetched_at=100_000.0)
    assert not series.set_prior(second, history([], [], 0.0, 1.0))  # for a slice no longer cached: ignored


def test_readings_are_the_last_sample_at_or_before_with_quality():
    series = PenSeries(1000, created_at=0.0)
    series.extend(np.array([100.0, 110.0, 120.0]), np.array([1.0, 2.0, NAN]), np.array([0.0, 2.0, 3.0]))
    part = history(
        np.array([10.0, 20.0, 30.0]), np.array([5.0, NAN, NAN]), 0.0, 100.0, flagged=np.array([NAN, 6.0, NAN])
    )
    series.set_history(part, 100, fetched_at=1e9)
    assert series.value_at(5.0) is None
    assert series.value_at(15.0)[1:3] == (5.0, Q_GOOD)
    assert series.value_at(25.0)[1:3] == (6.0, Q_FLAGGED)
    reading = series.value_at(35.0)
    assert math.isnan(reading.value)
    assert reading.quality == Q_NO_VALUE
    assert series.value_at(105.0)[:3] == (100.0, 1.0, Q_GOOD)
    assert series.value_at(115.0)[1:3] == (2.0, float(Quality.BAD))
    assert series.value_at(500.0).quality_name == "COMM_LOST"


# -- drawing rules ------------------------------------------------------------------------------------------


def test_each_segment_takes_the_style_of_the_sample_it_starts_from():
    good = np.array([1.0, 2.0, NAN, NAN, 5.0])
    flagged = np.array([NAN, NAN, 3.0, 4.0, NAN])
    good_line, flagged_line = segment_styles(good, flagged)
    np.testing.assert_array_equal(good_line, [1.0, 2.0, 3.0, NAN, 5.0])
    np.testing.assert_array_equal(flagged_line, [NAN, NAN, 3.0, 4.0, 5.0])


def test_steps_hold_each_value_until_the_next_sample():
    t, y = as_steps(np.array([0.0, 10.0, 20.0]), np.array([1.0, 0.0, 1.0]))
    assert list(t) == [0.0, 10.0, 10.0, 20.0, 20.0]
    assert list(y) == [1.0, 1.0, 0.0, 0.0, 1.0]


def test_runs_of_gaps_become_one_break():
    t, y = without_repeated_gaps(np.arange(6.0), np.array([1.0, NAN, NAN, NAN, 2.0, NAN]))
    assert list(t) == [0.0, 1.0, 4.0, 5.0]
    assert np.isnan(y[1])
    t, _y = without_repeated_gaps(np.arange(3.0), np.full(3, NAN))
    assert len(t) == 0


# -- time range ------------------------------------------------------------------------------------------------


def test_time_range_live_pause_presets_and_manual_ranges():
    time_range = TimeRange(600.0, live=True, end=0.0)
    assert time_range.view(1000.0) == (400.0, 1000.0)
    assert time_range.pause(1000.0)  # live -> paused: the view stays where it was
    assert time_range.view(2000.0) == (400.0, 1000.0)
    assert not time_range.set_span(3600.0)  # a preset while paused keeps the right edge
    assert time_range.view(2000.0) == (-2600.0, 1000.0)
    assert time_range.go_live()  # resumes with the span it had
    assert time_range.view(5000.0) == (1400.0, 5000.0)
    assert not time_range.set_span(600.0)
    assert time_range.set_range(10.0, 20.0)  # a pan or zoom with the mouse pauses
    assert time_range.span == 10.0
    with pytest.raises(ValueError, match="must end after it starts"):
        time_range.set_range(20.0, 10.0)


def test_a_pan_within_the_margin_reuses_the_decimation_and_new_data_or_a_zoom_does_not():
    series = PenSeries(10_000, created_at=0.0)
    series.extend(np.arange(5000.0), np.sin(np.arange(5000.0)), 0.0)
    decimated = []
    real = series._decimated
    series._decimated = lambda *args: decimated.append(args) or real(*args)
    first = series.visible(1000.0, 2000.0, 100)
    assert series.visible(1000.0, 2000.0, 100) is first  # nothing moved: the same arrays, no re-upload
    panned = series.visible(1200.0, 2200.0, 100)  # a fifth of the view: within the margin
    assert len(decimated) == 1
    assert panned[0][0] <= 1200.0 <= 2200.0 <= panned[0][-1]
    assert len(panned[0]) <= 2 * 100 + 4  # only the view's part goes to the curve
    series.visible(1000.0, 3000.0, 100)  # zoomed out: wider columns
    assert len(decimated) == 2
    series.append(5000.0, 1.0, 0.0)  # new data
    series.visible(1000.0, 3000.0, 100)
    assert len(decimated) == 3
