"""Alarm KPIs computed from what the engine journals, for scenarios whose figures are known by hand."""

from __future__ import annotations

import pytest

from drivers.model import Quality
from hmi.alarms.kpi import compute_kpis
from hmi.site.alarm_schema import Priority
from tests.hmi.alarms.test_engine import rig  # noqa: F401  (the fixture)


def kpis(engine, journal, start: float, end: float):
    priorities = {alarm_id: point.priority for alarm_id, point in engine.points.items()}
    return compute_kpis(journal.entries, start, end, priorities, engine.snapshot(), engine.settings,
                        engine.clock())


def test_rate_peak_chattering_and_bad_actors(rig):  # noqa: F811
    engine, clock, journal, feed, _ = rig
    start = clock.now
    feed("running", True)
    for _ in range(4):  # level.HI chatters: 4 activations within 40 s
        feed("level", 4.6)
        clock.now += 5
        feed("level", 3.0)
        clock.now += 5
    clock.now += 3600
    feed("trip", True)  # one more, an hour later
    clock.now += 100
    result = kpis(engine, journal, start, start + 7200)
    assert result.activations == 5
    assert result.per_10_min_average == pytest.approx(5 / 12)
    assert result.per_10_min_peak == 4
    assert result.peak_window_start == start
    assert result.chattering == [("level.HI", 4)]
    assert [(b.alarm, b.activations) for b in result.bad_actors] == [("level.HI", 4), ("trip.STATE", 1)]
    assert result.bad_actors[0].share == pytest.approx(0.8)
    assert result.priority_distribution[Priority.HIGH] == pytest.approx(0.8)
    assert result.priority_distribution[Priority.MEDIUM] == pytest.approx(0.2)
    assert result.standing == 1  # the trip is still active


def test_shelved_activations_do_not_count_until_they_are_shown(rig):  # noqa: F811
    engine, clock, journal, feed, _ = rig
    start = clock.now
    engine.shelve(["level.HI"], "ann", "transmitter fault", 600)
    feed("level", 4.6)
    feed("level", 3.0)
    feed("level", 4.6)
    assert kpis(engine, journal, start, start + 600).activations == 0
    assert kpis(engine, journal, start, start + 600).shelved == 1
    clock.now += 601
    engine.tick()  # still active when the shelf expires: shown, so counted
    assert kpis(engine, journal, start, start + 1200).activations == 1


def test_time_in_flood_and_stale_alarms(rig):  # noqa: F811
    engine, clock, journal, feed, _ = rig
    start = clock.now
    feed("running", True)
    feed("level", 4.8)  # HIHI + HI
    feed("flow", 0.0)
    feed("trip", True)
    feed("level", None, Quality.BAD)
    clock.now += 60
    feed("level", None, Quality.COMM_LOST)  # the sixth: more than 5 in 10 min
    flood_at = clock.now
    clock.now += 600  # the first five leave the window: the flood ends at the next tick
    engine.tick()
    assert not engine.flood.active
    result = kpis(engine, journal, start, start + 3600)
    assert result.flood_fraction == pytest.approx((clock.now - flood_at) / 3600)
    clock.now = start + 25 * 3600
    result = kpis(engine, journal, start, start + 3600)
    assert "trip.STATE" in result.stale
    assert "level.HIHI" in result.stale
    # a period inside the flood counts from its start
    inside = kpis(engine, journal, flood_at + 100, flood_at + 200)
    assert inside.flood_fraction == pytest.approx(1.0)


def test_an_empty_period(rig):  # noqa: F811
    engine, clock, journal, _, _ = rig
    result = kpis(engine, journal, clock.now, clock.now + 600)
    assert result.activations == 0
    assert result.bad_actors == []
    assert result.per_10_min_peak == 0
    with pytest.raises(ValueError, match="end after"):
        kpis(engine, journal, clock.now, clock.now)
