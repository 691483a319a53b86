"""The demo plant's process model, stepped in simulated time (no I/O, no wall clock)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.sim.plant_model import FIELDS, PRODUCT_VOLUME_M3, PlantModel

DT = 0.1


def run_for(model: PlantModel, seconds: float, dt: float = DT) -> None:
    for _ in range(round(seconds / dt)):
        model.step(dt)


def test_starts_alive_with_the_documented_defaults():
    model = PlantModel(seed=1)
    assert model.level == pytest.approx(2.0, abs=0.02)
    assert model.level_sp == 2.5
    assert model.pump_run_cmd
    assert model.pump_running
    assert not model.pump_tripped
    assert model.pump_speed_sp == 60.0
    assert model.pump_speed == 60.0
    assert model.inlet_flow > 0
    assert model.outlet_flow > 0
    assert model.motor_current > 2.0
    start = model.level
    run_for(model, 10)
    assert model.level - start > 0.1, "the level should visibly move towards the setpoint within seconds"


def test_level_tracks_its_setpoint_up_and_down():
    model = PlantModel(seed=2)
    run_for(model, 60)
    assert model.level == pytest.approx(2.5, abs=0.05)
    model.level_sp = 1.0
    run_for(model, 80)
    tail = []
    for _ in range(100):
        model.step(DT)
        tail.append(model.level)
    assert max(abs(level - 1.0) for level in tail) < 0.05
    assert 0.0 <= model.inlet_valve <= 100.0


def test_level_holds_when_the_pump_speeds_up():
    model = PlantModel(seed=3)
    run_for(model, 60)
    model.pump_speed_sp = 100.0
    run_for(model, 90)
    assert model.level == pytest.approx(2.5, abs=0.05)
    assert model.inlet_flow == pytest.approx(model.outlet_flow, abs=1.0)


def test_stopping_the_pump_stops_outlet_flow_and_current():
    model = PlantModel(seed=4)
    model.pump_run_cmd = False
    assert not model.pump_running  # the feedback follows the command at once
    flows = []
    for _ in range(100):
        model.step(DT)
        flows.append(model.outlet_flow)
    assert flows[0] > flows[30] > flows[55], "the pump ramps down rather than stopping dead"
    assert model.pump_speed == 0.0
    assert model.outlet_flow == 0.0
    assert model.motor_current == 0.0
    model.pump_run_cmd = True
    run_for(model, 10)
    assert model.pump_speed == pytest.approx(60.0)
    assert model.outlet_flow > 0


def test_normal_running_at_full_speed_stays_below_the_trip():
    model = PlantModel(seed=5)
    model.pump_speed_sp = 100.0
    run_for(model, 600)
    assert not model.pump_tripped
    assert 60.0 < model.motor_temp < 80.0


def test_fault_trips_the_pump_in_about_a_minute_and_latches():
    model = PlantModel(seed=6)
    model.fault_inject = True
    elapsed = 0.0
    while not model.pump_tripped:
        model.step(DT)
        elapsed += DT
        assert elapsed < 180, "fault_inject should trip the pump"
    assert 30 < elapsed < 120
    assert not model.pump_running
    assert not model.pump_run_cmd
    assert model.motor_temp > 85.0

    model.fault_inject = False
    assert not model.reset_pump(), "a reset while the motor is still hot is ignored"
    model.write("pump_reset", True)
    assert model.pump_tripped
    while model.motor_temp > 89.0:
        model.step(DT)
    assert model.pump_tripped, "the trip stays latched after the temperature falls"
    while model.motor_temp >= 79.5:
        model.step(DT)
    model.write("pump_reset", True)
    assert not model.pump_tripped
    assert not model.pump_running, "no automatic restart after a reset"
    model.pump_run_cmd = True
    assert model.pump_running
    assert model.pump_reset is False  # momentary command


def test_product_count_follows_pumped_volume():
    model = PlantModel(noise=False)
    pumped = 0.0
    for _ in range(3000):
        model.step(DT)
        pumped += model.outlet_flow / 3600.0 * DT
    expected = pumped / PRODUCT_VOLUME_M3
    assert expected > 30
    assert abs(model.product_count - expected) <= 1.0


def test_product_count_wraps_at_32_bits():
    model = PlantModel(noise=False, initial_product_count=2**32 - 2)
    run_for(model, 30)
    assert 0 < model.product_count < 10


@pytest.mark.parametrize(
    ("field", "value", "range_text"),
    [
        ("level_sp", 0.49, "0.5..4.5"),
        ("level_sp", 4.51, "0.5..4.5"),
        ("level_sp", math.nan, "0.5..4.5"),
        ("pump_speed_sp", -0.1, "0.0..100.0"),
        ("pump_speed_sp", 100.5, "0.0..100.0"),
    ],
)
def test_out_of_range_writes_raise_value_error_naming_field_and_range(field, value, range_text):
    model = PlantModel(seed=7)
    before = model.read(field)
    with pytest.raises(ValueError, match=field) as caught:
        model.write(field, value)
    assert range_text in str(caught.value)
    with pytest.raises(ValueError, match=field):
        setattr(model, field, value)
    assert model.read(field) == before


def test_wrong_types_and_read_only_fields_are_refused():
    model = PlantModel(seed=8)
    with pytest.raises(TypeError, match="level_sp"):
        model.write("level_sp", "3.0")
    with pytest.raises(TypeError, match="level_sp"):
        model.write("level_sp", True)
    with pytest.raises(TypeError, match="pump_run_cmd"):
        model.write("pump_run_cmd", 1)
    with pytest.raises(KeyError, match="level"):
        model.write("level", 1.0)
    with pytest.raises(KeyError):
        model.read("no_such_field")
    model.write("level_sp", 4)  # ints are numbers too
    assert model.level_sp == 4.0


def test_seeded_models_are_reproducible_and_noise_can_be_switched_off():
    a, b = PlantModel(seed=42), PlantModel(seed=42)
    run_for(a, 5)
    run_for(b, 5)
    assert a.snapshot() == b.snapshot()
    quiet = PlantModel(noise=False)
    assert quiet.level == 2.0
    assert set(quiet.snapshot()) == set(FIELDS)


def test_a_large_step_is_split_into_stable_substeps():
    coarse, fine = PlantModel(noise=False), PlantModel(noise=False)
    coarse.step(5.0)
    run_for(fine, 5.0)
    assert coarse.level == pytest.approx(fine.level, abs=1e-9)
    assert coarse.sim_time == pytest.approx(5.0)
    with pytest.raises(ValueError, match="dt"):
        coarse.step(0.0)


_writes = st.one_of(
    st.tuples(st.just("level_sp"), st.floats(0.5, 4.5)),
    st.tuples(st.just("pump_speed_sp"), st.floats(0.0, 100.0)),
    st.tuples(st.just("pump_run_cmd"), st.booleans()),
    st.tuples(st.just("fault_inject"), st.booleans()),
    st.tuples(st.just("pump_reset"), st.booleans()),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_writes, st.floats(0.05, 20.0)), max_size=12), st.integers(0, 2**16))
def test_any_sequence_of_valid_writes_keeps_the_plant_physical(actions, seed):
    model = PlantModel(seed=seed)
    for (field, value), seconds in actions:
        model.write(field, value)
        model.step(seconds)
        assert 0.0 <= model.level <= 5.0
        assert 0.0 <= model.inlet_valve <= 100.0
        assert 0.0 <= model.pump_speed <= 100.0
        assert model.inlet_flow >= 0.0
        assert model.outlet_flow >= 0.0
        assert (model.motor_current > 0.0) == model.pump_running
        assert not (model.pump_running and model.pump_tripped)
        assert 0 <= model.product_count < 2**32
        assert model.pump_reset is False
