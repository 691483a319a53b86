"""Process model of the demo plant: a level-controlled tank drained by a variable-speed pump.

Pure Python and free of I/O so it can be stepped deterministically by tests and driven by the
protocol servers alike. The numbers are chosen so that an operator sees things move within
seconds (a small tank, a brisk controller, visible measurement noise) while staying physically
plausible: level integrates net flow, the pump ramps, the motor heats with the square of its
current and trips (latched) when too hot.

Every value the servers expose is described once in :data:`FIELDS`; the servers map protocol
addresses onto these names and never duplicate ranges or units.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from numbers import Real

AMBIENT_C = 25.0
TANK_AREA_M2 = 0.2  # small tank: 16 m3/h net flow moves the level ~2 cm/s
LEVEL_MAX_M = 5.0
INLET_MAX_M3H = 40.0
OUTLET_MAX_M3H = 36.0  # below the inlet maximum so the controller can always keep up
SUCTION_LOSS_M = 0.05  # below this level the pump starts to draw air and delivers less
SPEED_RAMP_PCT_S = 10.0
CURRENT_IDLE_A = 2.0
CURRENT_FULL_A = 30.0
HEAT_K = 0.05  # degC per A^2 at steady state: 100 % speed -> ~70 degC
FAULT_HEAT_K = 0.6  # blocked cooling: trips in ~1 min at 60 % speed
TEMP_TAU_S = 60.0
TRIP_TEMP_C = 90.0
RESET_TEMP_C = 80.0
PRODUCT_VOLUME_M3 = 0.05
COUNTER_MODULUS = 2**32
CTRL_KP = 150.0  # % valve per m of level error
CTRL_TI_S = 40.0
MAX_SUBSTEP_S = 0.1  # keeps the PI loop and the Euler level integration stable for any dt

_LEVEL_NOISE_M = 0.002
_FLOW_NOISE_M3H = 0.1
_CURRENT_NOISE_A = 0.05
_TEMP_NOISE_C = 0.05
_LOW_FLOW_CUTOFF_M3H = 0.05


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Metadata of one plant value.

    ``low``/``high`` are the accepted write range for writable numeric fields and the normal
    engineering range (e.g. the scale of a bar graph) for outputs; ``None`` where meaningless.
    """

    name: str
    kind: type  # float, bool or int
    unit: str
    low: float | None
    high: float | None
    writable: bool
    description: str


def _f(
    name: str, unit: str, low: float, high: float, description: str, writable: bool = False
) -> FieldSpec:
    return FieldSpec(name, float, unit, low, high, writable, description)


def _b(name: str, description: str, writable: bool = False) -> FieldSpec:
    return FieldSpec(name, bool, "", None, None, writable, description)


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        _f("level", "m", 0.0, LEVEL_MAX_M, "Tank level (measured)"),
        _f("level_sp", "m", 0.5, 4.5, "Tank level setpoint of the PI level controller", writable=True),
        _f("inlet_valve", "%", 0.0, 100.0, "Inlet valve position (level controller output)"),
        _f("inlet_flow", "m3/h", 0.0, INLET_MAX_M3H, "Inlet flow (measured)"),
        _b("pump_run_cmd", "Pump run command (cleared by a trip)", writable=True),
        _b("pump_running", "Pump running feedback"),
        _f("pump_speed_sp", "%", 0.0, 100.0, "Pump speed setpoint", writable=True),
        _f("pump_speed", "%", 0.0, 100.0, "Actual pump speed (ramps at 10 %/s)"),
        _f("outlet_flow", "m3/h", 0.0, OUTLET_MAX_M3H, "Outlet flow (measured)"),
        _f("motor_current", "A", 0.0, 35.0, "Pump motor current"),
        _f("motor_temp", "degC", 0.0, 120.0, "Pump motor winding temperature"),
        _b("pump_tripped", "Motor over-temperature trip (latched above 90 degC)"),
        _b("pump_reset", "Momentary trip reset; accepted when the motor is below 80 degC", writable=True),
        _b("fault_inject", "Demo fault: blocked motor cooling, trips the pump in ~1 min", writable=True),
        FieldSpec("product_count", int, "", None, None, False, "Products filled, one per 0.05 m3 pumped"),
    )
}

Value = float | bool | int


def _check_number(name: str, value: object) -> float:
    spec = FIELDS[name]
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    number = float(value)
    low, high = spec.low, spec.high
    if low is None or high is None or not low <= number <= high:  # also rejects NaN
        raise ValueError(f"{name} out of range: {number!r} is not within {low}..{high} {spec.unit}")
    return number


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


class PlantModel:
    """The tank, its PI level controller and the outlet pump, advanced with :meth:`step`.

    Readable values are attributes named as in :data:`FIELDS`; writable ones validate on
    assignment (``ValueError`` naming the field and range when out of range, ``TypeError`` for a
    wrong type). :meth:`write` and :meth:`read` do the same by name for the protocol servers.
    """

    def __init__(
        self, *, seed: int | None = None, noise: bool = True, initial_product_count: int = 0
    ) -> None:
        self._rng = random.Random(seed)
        self._noise = noise
        self._level = 2.0
        self._level_sp = 2.5
        self._run_cmd = True
        self._tripped = False
        self._fault = False
        self._speed_sp = 60.0
        self._speed = 60.0
        self._motor_temp = AMBIENT_C
        self._pumped_m3 = 0.0
        self._count = initial_product_count % COUNTER_MODULUS
        self._time_s = 0.0
        # Bumpless start: the integral already holds the valve opening that matches the outflow.
        self._integral = self._pump_flow() / INLET_MAX_M3H * 100.0
        self._valve = self._integral
        self._measure()

    # ---- simulation -------------------------------------------------------------------------

    def step(self, dt: float) -> None:
        """Advance the plant by ``dt`` seconds (split into sub-steps of at most 0.1 s)."""
        if not dt > 0 or not math.isfinite(dt):
            raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
        substeps = max(1, math.ceil(dt / MAX_SUBSTEP_S - 1e-9))
        h = dt / substeps
        for _ in range(substeps):
            self._substep(h)
        self._measure()

    def _pump_flow(self) -> float:
        suction = min(1.0, self._level / SUCTION_LOSS_M)
        return OUTLET_MAX_M3H * self._speed / 100.0 * suction

    def _substep(self, h: float) -> None:
        target = self._speed_sp if self.pump_running else 0.0
        max_change = SPEED_RAMP_PCT_S * h
        self._speed += max(-max_change, min(max_change, target - self._speed))

        current = self._true_current()
        heat_k = FAULT_HEAT_K if self._fault else HEAT_K
        steady = AMBIENT_C + heat_k * current * current
        self._motor_temp = steady + (self._motor_temp - steady) * math.exp(-h / TEMP_TAU_S)
        if self._motor_temp > TRIP_TEMP_C and not self._tripped:
            self._tripped = True
            self._run_cmd = False  # no automatic restart after a trip: the operator must start again

        self._control(h, self._noisy(self._level, _LEVEL_NOISE_M))
        inflow = INLET_MAX_M3H * self._valve / 100.0
        outflow = self._pump_flow()
        self._level += (inflow - outflow) / 3600.0 * h / TANK_AREA_M2
        self._level = min(LEVEL_MAX_M, max(0.0, self._level))  # overflow weir / empty tank

        self._pumped_m3 += outflow / 3600.0 * h
        while self._pumped_m3 >= PRODUCT_VOLUME_M3:
            self._pumped_m3 -= PRODUCT_VOLUME_M3
            self._count = (self._count + 1) % COUNTER_MODULUS
        self._time_s += h

    def _control(self, h: float, measured_level: float) -> None:
        """PI level controller with conditional integration as anti-windup."""
        error = self._level_sp - measured_level
        proportional = CTRL_KP * error
        unclamped = proportional + self._integral
        saturated_high = unclamped >= 100.0 and error > 0
        saturated_low = unclamped <= 0.0 and error < 0
        if not (saturated_high or saturated_low):
            self._integral += CTRL_KP / CTRL_TI_S * error * h
            self._integral = min(100.0, max(0.0, self._integral))
        self._valve = min(100.0, max(0.0, proportional + self._integral))

    def _true_current(self) -> float:
        if not self.pump_running:
            return 0.0
        return CURRENT_IDLE_A + (CURRENT_FULL_A - CURRENT_IDLE_A) * (self._speed / 100.0) ** 2

    def _noisy(self, value: float, sigma: float) -> float:
        return value + self._rng.gauss(0.0, sigma) if self._noise else value

    def _measure(self) -> None:
        """Sample the instruments: true state plus a little noise, clamped to what a sensor reports."""
        inflow = INLET_MAX_M3H * self._valve / 100.0
        outflow = self._pump_flow()
        self._m_level = min(LEVEL_MAX_M, max(0.0, self._noisy(self._level, _LEVEL_NOISE_M)))
        self._m_inlet = self._flowmeter(inflow)
        self._m_outlet = self._flowmeter(outflow)
        current = self._true_current()
        self._m_current = max(0.0, self._noisy(current, _CURRENT_NOISE_A)) if current > 0 else 0.0
        self._m_temp = self._noisy(self._motor_temp, _TEMP_NOISE_C)

    def _flowmeter(self, flow: float) -> float:
        if flow < _LOW_FLOW_CUTOFF_M3H:  # low-flow cut-off, as real flowmeters do
            return 0.0
        return max(0.0, self._noisy(flow, _FLOW_NOISE_M3H))

    # ---- outputs ------------------------------------------------------------------------------

    @property
    def sim_time(self) -> float:
        """Simulated seconds since construction."""
        return self._time_s

    @property
    def level(self) -> float:
        return self._m_level

    @property
    def inlet_valve(self) -> float:
        return self._valve

    @property
    def inlet_flow(self) -> float:
        return self._m_inlet

    @property
    def pump_running(self) -> bool:
        return self._run_cmd and not self._tripped

    @property
    def pump_speed(self) -> float:
        return self._speed

    @property
    def outlet_flow(self) -> float:
        return self._m_outlet

    @property
    def motor_current(self) -> float:
        return self._m_current

    @property
    def motor_temp(self) -> float:
        return self._m_temp

    @property
    def pump_tripped(self) -> bool:
        return self._tripped

    @property
    def product_count(self) -> int:
        return self._count

    @property
    def pump_reset(self) -> bool:
        """A momentary command: always reads back False."""
        return False

    # ---- writable values ----------------------------------------------------------------------

    @property
    def level_sp(self) -> float:
        return self._level_sp

    @level_sp.setter
    def level_sp(self, value: float) -> None:
        self._level_sp = _check_number("level_sp", value)

    @property
    def pump_speed_sp(self) -> float:
        return self._speed_sp

    @pump_speed_sp.setter
    def pump_speed_sp(self, value: float) -> None:
        self._speed_sp = _check_number("pump_speed_sp", value)

    @property
    def pump_run_cmd(self) -> bool:
        return self._run_cmd

    @pump_run_cmd.setter
    def pump_run_cmd(self, value: bool) -> None:
        self._run_cmd = _check_bool("pump_run_cmd", value)

    @property
    def fault_inject(self) -> bool:
        return self._fault

    @fault_inject.setter
    def fault_inject(self, value: bool) -> None:
        self._fault = _check_bool("fault_inject", value)

    def reset_pump(self) -> bool:
        """Clear a trip if the motor has cooled below 80 degC; return whether the pump is now untripped.

        A reset while still hot is ignored, as a motor protection relay would.
        """
        if self._tripped and self._motor_temp < RESET_TEMP_C:
            self._tripped = False
        return not self._tripped

    # ---- by-name access for the protocol servers ----------------------------------------------

    def read(self, name: str) -> Value:
        """Current value of the field ``name`` (see :data:`FIELDS`)."""
        if name not in FIELDS:
            raise KeyError(f"unknown plant field {name!r}")
        value: Value = getattr(self, name)
        return value

    def write(self, name: str, value: object) -> None:
        """Validate and apply a client write to the writable field ``name``.

        Writing ``pump_reset`` True requests a reset; False is a no-op (the release of the
        momentary command). Idempotent for every field, so re-applying the current value is safe.
        """
        self.validate(name, value)
        if name == "pump_reset":
            if value:
                self.reset_pump()
            return
        setattr(self, name, value)

    def validate(self, name: str, value: object) -> None:
        """Raise as :meth:`write` would, without changing anything (for all-or-nothing writes)."""
        spec = FIELDS.get(name)
        if spec is None or not spec.writable:
            raise KeyError(f"plant field {name!r} is not writable")
        (_check_bool if spec.kind is bool else _check_number)(name, value)

    def snapshot(self) -> dict[str, Value]:
        """All fields at once, for publishing a consistent picture each tick."""
        return {name: getattr(self, name) for name in FIELDS}
