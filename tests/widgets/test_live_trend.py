"""The live trend's drawing rules (no peer needed)."""

from __future__ import annotations

import math

import numpy as np

from widgets.live_trend import hold_last_value


def test_a_steady_value_is_drawn_up_to_now():
    t, y = hold_last_value(np.array([10.0]), np.array([2.5]), (10.0, 2.5), now=70.0)
    assert list(t) == [10.0, 70.0]
    assert list(y) == [2.5, 2.5]


def test_a_bad_last_sample_is_not_held():
    t, _ = hold_last_value(np.array([10.0, 20.0]), np.array([2.5, math.nan]), (20.0, math.nan), now=70.0)
    assert len(t) == 2


def test_nothing_to_hold_when_empty():
    t, _ = hold_last_value(np.array([]), np.array([]), None, now=70.0)
    assert len(t) == 0


def test_a_value_unchanged_since_before_the_window_spans_it():
    t, y = hold_last_value(np.array([]), np.array([]), (5.0, 2.5), now=70.0, start=40.0)
    assert list(t) == [40.0, 70.0]
    assert list(y) == [2.5, 2.5]
