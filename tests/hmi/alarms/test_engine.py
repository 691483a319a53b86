"""The alarm engine's ISA-18.2 state machine, driven by samples and operator commands on a controlled clock.

The journal here is a list that keeps what the engine records (the real, hash-chained journal has its own
tests, and test_alarm_runtime runs the engine with it)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from drivers.model import Quality, TagUpdate
from hmi.alarms.engine import AlarmEngine
from hmi.alarms.model import AlarmCommandError, AlarmState
from hmi.site import parse_site

SITE = """\
schema_version: 1
name: Alarms
connections:
  - {name: m, url: "mem://"}
alarms: {flood_alarms: 5, flood_window_s: 600, max_shelve_h: 8}
tags:
  - name: level
    address: mem://m/level
    units: m
    area: Tank
    alarms:
      - {type: hihi, limit: 4.7, priority: critical, latching: true}
      - {type: hi, limit: 4.5, deadband: 0.1, priority: high}
      - {type: lo, limit: 0.5, on_delay_s: 5, off_delay_s: 2}
      - {type: deviation, setpoint: level_sp, limit: 0.5,
         message: "Level {value:.1f} {units} is off setpoint {setpoint}"}
      - {type: bad_quality, priority: low}
      - {type: comm_loss}
  - name: level_sp
    address: mem://m/level_sp
  - name: running
    address: mem://m/running
    data_type: bool
  - name: flow
    address: mem://m/flow
    alarms:
      - {type: lo, limit: 1, suppress_when: "not running", group: feed}
      - {type: rate, limit: 2, window_s: 10, group: feed}
  - name: trip
    address: mem://m/trip
    data_type: bool
    alarms: [{type: state, state: true, group: feed}]
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.entries: list = []

    def record(self, entry) -> None:
        self.entries.append(entry)

    def events(self, source: str | None = None) -> list[str]:
        return [e.event for e in self.entries if source is None or e.source == source]


@pytest.fixture
def rig(tmp_path: Path):
    site = parse_site(textwrap.dedent(SITE), tmp_path / "site.yaml")
    clock, journal = Clock(), Recorder()
    engine = AlarmEngine(site, journal, clock=clock)
    published: list = []
    engine.add_listener(lambda changed, flood: published.append((changed, flood)))

    def feed(tag: str, value, quality: Quality = Quality.GOOD, ts: float | None = None) -> None:
        stamp = clock.now if ts is None else ts
        engine.submit([TagUpdate(tag, value, quality, stamp, stamp)])

    return engine, clock, journal, feed, published


def state(engine: AlarmEngine, alarm_id: str) -> AlarmState:
    return engine.points[alarm_id].state


def test_high_alarm_lifecycle_with_deadband(rig):
    engine, _clock, journal, feed, published = rig
    feed("level", 4.5)
    assert state(engine, "level.HI") is AlarmState.NORMAL  # at the limit is not above it
    feed("level", 4.6)
    assert state(engine, "level.HI") is AlarmState.UNACKNOWLEDGED
    assert engine.points["level.HI"].message == "level high: 4.60 m (limit 4.5 m)"
    feed("level", 4.45)  # inside the deadband: still active
    assert state(engine, "level.HI") is AlarmState.UNACKNOWLEDGED
    engine.acknowledge(["level.HI"], "ann", "seen")
    assert state(engine, "level.HI") is AlarmState.ACKNOWLEDGED
    feed("level", 4.4)  # at limit - deadband: clears
    assert state(engine, "level.HI") is AlarmState.NORMAL
    assert journal.events("level.HI") == ["alarm_active", "acknowledge", "alarm_cleared"]
    ack = journal.entries[1]
    assert (ack.user, ack.old_value, ack.new_value, ack.reason) == ("ann", "unacknowledged", "acknowledged", "seen")
    assert published[-1][0][0].state is AlarmState.NORMAL


def test_return_to_normal_unacknowledged_then_acknowledged_is_normal(rig):
    engine, _, _, feed, _ = rig
    feed("level", 4.6)
    feed("level", 3.0)
    assert state(engine, "level.HI") is AlarmState.RTN_UNACKNOWLEDGED
    assert engine.acknowledge(["level.HI", "level.HIHI"], "ann") == ["level.HI"]  # nothing to ack on HIHI
    assert state(engine, "level.HI") is AlarmState.NORMAL


def test_latched_alarm_needs_reset_after_it_clears(rig):
    engine, _, journal, feed, _ = rig
    feed("level", 4.8)
    with pytest.raises(AlarmCommandError, match="still active"):
        engine.reset(["level.HIHI"], "ann")
    engine.acknowledge(["level.HIHI"], "ann")
    feed("level", 3.0)
    assert state(engine, "level.HIHI") is AlarmState.LATCHED
    engine.reset(["level.HIHI"], "ann", "pump checked")
    assert state(engine, "level.HIHI") is AlarmState.NORMAL
    assert journal.events("level.HIHI")[-1] == "reset"


def test_on_and_off_delays(rig):
    engine, clock, _, feed, _ = rig
    feed("level", 0.4)
    assert state(engine, "level.LO") is AlarmState.NORMAL
    clock.now += 4.9
    engine.tick()
    assert state(engine, "level.LO") is AlarmState.NORMAL
    clock.now += 0.2
    engine.tick()
    assert state(engine, "level.LO") is AlarmState.UNACKNOWLEDGED
    assert engine.points["level.LO"].activated_at == pytest.approx(clock.now - 0.1)  # when the delay ran out
    # a dip back above the limit shorter than the off-delay does not clear it
    feed("level", 0.6)
    clock.now += 1.0
    feed("level", 0.4)
    clock.now += 5.0
    engine.tick()
    assert engine.points["level.LO"].active
    feed("level", 0.6)
    clock.now += 2.0
    engine.tick()
    assert not engine.points["level.LO"].active
    # and a short excursion below never activates it
    engine.acknowledge(["level.LO"], "ann")
    feed("level", 0.4)
    clock.now += 3
    feed("level", 0.6)
    clock.now += 10
    engine.tick()
    assert state(engine, "level.LO") is AlarmState.NORMAL


def test_deviation_follows_the_setpoint_too(rig):
    engine, _, _, feed, _ = rig
    feed("level_sp", 2.0)
    feed("level", 2.4)
    assert state(engine, "level.DEV") is AlarmState.NORMAL
    feed("level_sp", 3.0)  # the setpoint moved, the level did not: now 0.6 off
    assert state(engine, "level.DEV") is AlarmState.UNACKNOWLEDGED
    assert engine.points["level.DEV"].message == "Level 2.4 m is off setpoint 3.0"


def test_bad_values_hold_limit_alarms_and_raise_their_own(rig):
    engine, _, _, feed, _ = rig
    feed("level", 4.6)
    feed("level", None, Quality.BAD)
    assert engine.points["level.HI"].active  # holds: the value is not known to be back
    assert state(engine, "level.BAD") is AlarmState.UNACKNOWLEDGED
    feed("level", None, Quality.COMM_LOST)
    assert state(engine, "level.COMM") is AlarmState.UNACKNOWLEDGED
    assert state(engine, "level.BAD") is AlarmState.UNACKNOWLEDGED  # comm loss says nothing about it
    feed("level", 3.0)
    assert not engine.points["level.COMM"].active
    assert not engine.points["level.BAD"].active
    assert not engine.points["level.HI"].active


def test_shelving_with_reason_and_expiry(rig):
    engine, clock, journal, feed, _ = rig
    feed("level", 4.6)
    with pytest.raises(AlarmCommandError, match="reason"):
        engine.shelve(["level.HI"], "ann", " ", 600)
    with pytest.raises(AlarmCommandError, match="at most 8 h"):
        engine.shelve(["level.HI"], "ann", "sensor fouled", 9 * 3600)
    engine.shelve(["level.HI"], "ann", "sensor fouled", 600)
    point = engine.points["level.HI"]
    assert point.state is AlarmState.SHELVED
    assert point.shelved_by == "ann"
    feed("level", 3.0)
    feed("level", 4.6)  # re-activates while shelved: tracked, not annunciated
    assert point.state is AlarmState.SHELVED
    assert point.active
    clock.now += 601
    engine.tick()
    assert point.state is AlarmState.UNACKNOWLEDGED  # still active when the shelf ends: a new alarm
    unshelve = [e for e in journal.entries if e.event == "unshelve"][-1]
    assert (unshelve.user, unshelve.reason) == ("", "shelf expired")


def test_unshelved_after_clearing_is_normal(rig):
    engine, _, _, feed, _ = rig
    feed("level", 4.6)
    engine.shelve(["level.HI"], "ann", "known", 600)
    feed("level", 3.0)
    engine.unshelve(["level.HI"], "ann")
    assert state(engine, "level.HI") is AlarmState.NORMAL


def test_suppression_by_design_follows_the_expression(rig):
    engine, _, journal, feed, _ = rig
    feed("flow", 0.0)
    assert state(engine, "flow.LO") is AlarmState.UNACKNOWLEDGED  # 'running' unknown: never hidden
    feed("running", False)
    assert state(engine, "flow.LO") is AlarmState.SUPPRESSED
    feed("running", True)
    assert state(engine, "flow.LO") is AlarmState.UNACKNOWLEDGED
    assert journal.events("flow.LO")[-2:] == ["suppressed", "unsuppressed"]
    feed("running", None, Quality.COMM_LOST)  # unknown again: fail safe
    assert state(engine, "flow.LO") is AlarmState.UNACKNOWLEDGED


def test_out_of_service_needs_a_reason_and_blocks_shelving(rig):
    engine, _, _, feed, _ = rig
    with pytest.raises(AlarmCommandError, match="reason"):
        engine.remove_from_service(["trip.STATE"], "tech", "")
    engine.remove_from_service(["trip.STATE"], "tech", "switch replaced")
    feed("trip", True)
    assert state(engine, "trip.STATE") is AlarmState.OUT_OF_SERVICE
    with pytest.raises(AlarmCommandError, match="out of service"):
        engine.shelve(["trip.STATE"], "ann", "x", 60)
    engine.return_to_service(["trip.STATE"], "tech")
    assert state(engine, "trip.STATE") is AlarmState.UNACKNOWLEDGED


def test_first_out_in_a_group(rig):
    engine, clock, _, feed, _ = rig
    feed("running", True)
    feed("trip", True)
    clock.now += 1
    feed("flow", 0.0)
    assert engine.points["trip.STATE"].first_out
    assert not engine.points["flow.LO"].first_out
    engine.acknowledge(["trip.STATE", "flow.LO"], "ann")
    feed("trip", False)
    assert engine.points["trip.STATE"].first_out  # the group is not back to normal yet
    feed("flow", 5.0)
    assert not engine.points["trip.STATE"].first_out
    feed("flow", 0.0)
    assert engine.points["flow.LO"].first_out


def test_rate_of_change(rig):
    engine, clock, _, feed, _ = rig
    for i in range(11):  # 1 per second: below the 2/s limit
        feed("flow", 10.0 + i, ts=clock.now + i)
    assert not engine.points["flow.ROC"].active
    feed("flow", 60.0, ts=clock.now + 12)  # +40 in 2 s over the window
    assert engine.points["flow.ROC"].active


def test_flood_starts_and_ends(rig):
    engine, clock, journal, feed, published = rig
    tags = [("level", 4.8), ("flow", 0.0), ("trip", True), ("level", None)]
    feed("running", True)
    for tag, value in tags[:3]:
        feed(tag, value)  # level: HIHI and HI; flow: LO; trip: STATE
    assert not engine.flood.active  # 4 alarms, threshold is "more than 5"
    feed("level", None, Quality.BAD)
    feed("level", None, Quality.COMM_LOST)
    assert engine.flood.active
    assert engine.flood.count == 6
    assert published[-1][1].active
    assert "flood_start" in journal.events()
    clock.now += 601
    engine.tick()
    assert not engine.flood.active
    assert journal.events()[-1] == "flood_end"


def test_comment_and_unknown_alarm(rig):
    engine, _, journal, _, _ = rig
    engine.comment(["level.HI"], "ann", "maintenance informed")
    assert engine.points["level.HI"].comment == "maintenance informed"
    assert journal.entries[-1].event == "comment"
    with pytest.raises(AlarmCommandError, match=r"no alarm 'level\.XX'"):
        engine.acknowledge(["level.XX"], "ann")


def test_a_tag_without_alarms_costs_nothing(rig):
    _engine, _, journal, feed, published = rig
    feed("unrelated", 1.0)
    assert not journal.entries
    assert not published


def test_states_survive_a_restart(tmp_path):
    site = parse_site(textwrap.dedent(SITE), tmp_path / "site.yaml")
    clock, journal = Clock(), Recorder()
    state_file = tmp_path / "alarm-state.json"

    def engine() -> AlarmEngine:
        built = AlarmEngine(site, journal, state_file=state_file, clock=clock)
        asyncio.run(built.start())
        return built

    first = engine()
    first.submit([TagUpdate("level", 4.8, Quality.GOOD, clock.now, clock.now)])  # HIHI (latching) and HI
    first.acknowledge(["level.HIHI", "level.HI"], "ann")
    first.submit([TagUpdate("level", 3.0, Quality.GOOD, clock.now, clock.now)])
    first.submit([TagUpdate("trip", True, Quality.GOOD, clock.now, clock.now)])
    first.acknowledge(["trip.STATE"], "ann")
    first.shelve(["flow.ROC"], "ann", "transmitter replaced", 3600)
    first.remove_from_service(["level.LO"], "tech", "sensor removed")
    asyncio.run(first.close())

    clock.now += 60
    second = engine()
    assert state(second, "level.HIHI") is AlarmState.LATCHED
    assert state(second, "level.HI") is AlarmState.NORMAL
    assert state(second, "flow.ROC") is AlarmState.SHELVED
    assert second.points["flow.ROC"].shelve_reason == "transmitter replaced"
    assert state(second, "level.LO") is AlarmState.OUT_OF_SERVICE
    assert state(second, "trip.STATE") is AlarmState.ACKNOWLEDGED
    journal.entries.clear()
    second.submit([TagUpdate("trip", True, Quality.GOOD, clock.now, clock.now)])  # still active: not new
    assert journal.events("trip.STATE") == []
    second.submit([TagUpdate("trip", False, Quality.GOOD, clock.now, clock.now)])
    assert state(second, "trip.STATE") is AlarmState.NORMAL
    asyncio.run(second.close())

    clock.now += 3600  # the shelf has run out meanwhile
    assert state(engine(), "flow.ROC") is AlarmState.NORMAL


def test_an_unreadable_state_file_is_set_aside(tmp_path, caplog):
    site = parse_site(textwrap.dedent(SITE), tmp_path / "site.yaml")
    (tmp_path / "alarm-state.json").write_text("{not json")
    engine = AlarmEngine(site, Recorder(), state_file=tmp_path / "alarm-state.json", clock=Clock())
    asyncio.run(engine.start())
    assert all(p.state is AlarmState.NORMAL for p in engine.points.values())
    assert any(path.name.startswith("alarm-state.json.unreadable-") for path in tmp_path.iterdir())
    assert "could not be read" in caplog.text
    asyncio.run(engine.close())


def test_states_are_saved_at_most_every_two_seconds_and_at_close(tmp_path, monkeypatch):
    import hmi.alarms.engine as engine_module

    writes: list[int] = []
    monkeypatch.setattr(engine_module, "save_alarm_states", lambda path, states: writes.append(len(states)))
    site = parse_site(textwrap.dedent(SITE), tmp_path / "site.yaml")
    clock = Clock()
    engine = AlarmEngine(site, Recorder(), state_file=tmp_path / "alarm-state.json", clock=clock)

    async def scenario() -> None:
        await engine.start()
        for i in range(20):  # a chattering alarm: a change at every tick
            engine.submit([TagUpdate("level", 4.6 if i % 2 else 3.0, Quality.GOOD, clock.now, clock.now)])
            engine.tick()
        await engine.close()

    asyncio.run(scenario())
    assert writes == [1, 1]  # the first change, then what is left at close (not one write per change)
