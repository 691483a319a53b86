"""Modbus TCP face of the demo plant: a pymodbus server, device id 1, mapped onto the model.

The register map is a contract with the site file (zero-based PDU addresses, 32-bit values
big-endian with the high word first)::

    Coils             0 pump run command (W)        1 pump reset (W, momentary, reads 0)
    Discrete inputs   0 pump running                1 pump tripped
    Holding regs      0-1 pump speed setpoint % float32 (W, 0..100)
                      2   tank level setpoint cm uint16 (W, 50..450)
    Input regs        0-1 outlet flow m3/h float32  2-3 motor current A float32
                      4   motor temperature 0.1 degC int16
                      5   pump speed 0.1 % uint16   6-7 product count uint32
                      8   tank level mm uint16

It uses pymodbus's SimDevice datastore (the old ModbusDeviceContext one is deprecated). The
device's action hook runs on every request: reads refresh the register images from the model
first, writes are decoded, validated by the model and applied, or answered with exception 3
(ILLEGAL_VALUE). Addresses outside the map answer exception 2 (ILLEGAL_ADDRESS), and requests
for another device id answer exception 0x0B (gateway target failed to respond), as a gateway would.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.sim.plant_model import PlantModel
from drivers.sim.quiet import logger_silenced

DEVICE_ID = 1
COIL_COUNT = 2
DISCRETE_INPUT_COUNT = 2
HOLDING_COUNT = 3
INPUT_COUNT = 9

_READ_DISCRETE, _READ_INPUT = 2, 4
_WRITE_COIL, _WRITE_REGISTER = 5, 6
_BIT_FUNCTIONS = {1, 2, 5, 15}
_ECHO_READBACKS = {_WRITE_COIL, _WRITE_REGISTER}  # pymodbus re-reads after these to build the echo


def _float_regs(value: float) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">f", value)))


def _regs_float(high: int, low: int) -> float:
    value: float = struct.unpack(">f", struct.pack(">HH", high, low))[0]
    return value


def _scaled_u16(value: float, scale: float) -> int:
    return min(0xFFFF, max(0, round(value * scale)))


def _scaled_i16(value: float, scale: float) -> int:
    return min(0x7FFF, max(-0x8000, round(value * scale))) & 0xFFFF


def encode_input_registers(model: PlantModel) -> list[int]:
    """The nine input registers as the map above defines them."""
    count = model.product_count
    return [
        *_float_regs(model.outlet_flow),
        *_float_regs(model.motor_current),
        _scaled_i16(model.motor_temp, 10),
        _scaled_u16(model.pump_speed, 10),
        (count >> 16) & 0xFFFF,
        count & 0xFFFF,
        _scaled_u16(model.level, 1000),
    ]


def encode_holding_registers(model: PlantModel) -> list[int]:
    return [*_float_regs(model.pump_speed_sp), _scaled_u16(model.level_sp, 100)]


class PlantModbusServer:
    """Serves a :class:`PlantModel` over Modbus TCP. Values are read live, so no publish step."""

    def __init__(self, model: PlantModel, host: str = "127.0.0.1", port: int = 5020) -> None:
        self._model = model
        self._host = host
        self._port = port
        self._server: ModbusTcpServer | None = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The listening port (the real one once started, also when 0 was requested)."""
        return self._port

    async def start(self) -> None:
        """Listen; ``OSError`` naming the port if it cannot be bound."""
        device = SimDevice(
            id=DEVICE_ID,
            simdata=(
                [SimData(0, values=[False] * COIL_COUNT, datatype=DataType.BITS)],
                [SimData(0, values=[False] * DISCRETE_INPUT_COUNT, datatype=DataType.BITS)],
                [SimData(0, values=0.0, datatype=DataType.FLOAT32), SimData(2, datatype=DataType.UINT16)],
                [
                    SimData(0, count=2, values=0.0, datatype=DataType.FLOAT32),
                    SimData(4, datatype=DataType.INT16),
                    SimData(5, datatype=DataType.UINT16),
                    SimData(6, datatype=DataType.UINT32),
                    SimData(8, datatype=DataType.UINT16),
                ],
            ),
            action=self._action,
        )
        # id 0 stands for "every other id" in pymodbus: answer those like a gateway with no such
        # target. It spans the whole address range because pymodbus range-checks before the action.
        others = SimDevice(
            id=0, simdata=[SimData(0, count=0x10000, datatype=DataType.REGISTERS)], action=_no_such_device
        )
        server = ModbusTcpServer(context=[device, others], address=(self._host, self._port))
        try:
            with logger_silenced("pymodbus.logging"):
                await server.serve_forever(background=True)
        except RuntimeError as exc:
            await server.shutdown()
            raise OSError(f"Modbus TCP port {self._port} on {self._host} is not available") from exc
        listener = server.transport
        sockets = getattr(listener, "sockets", None)
        if sockets:
            self._port = sockets[0].getsockname()[1]
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus hook, called before every access with the live register image of the block."""
        if function_code in _BIT_FUNCTIONS:
            return self._bits(function_code, address, registers, set_values)
        if set_values is not None:
            return self._write_holding(address, [int(v) for v in set_values])
        if function_code in _ECHO_READBACKS:
            return None  # keep the just-written registers so the response echoes the request
        if function_code == _READ_INPUT:
            image = encode_input_registers(self._model)
        else:  # holding-register reads, including the read halves of FC 22 and FC 23
            image = encode_holding_registers(self._model)
        registers[: len(image)] = image
        return None

    def _bits(
        self, function_code: int, address: int, registers: list[int], set_values: Sequence[bool] | None
    ) -> ExcCodes | None:
        # pymodbus stores bits 16 to a register and only tells the action which register is
        # touched, so for reads only the start address can be checked: coils/inputs 2..15 read 0.
        if set_values is None:
            if address >= (DISCRETE_INPUT_COUNT if function_code == _READ_DISCRETE else COIL_COUNT):
                return ExcCodes.ILLEGAL_ADDRESS
            if function_code == _WRITE_COIL:
                return None
            model = self._model
            if function_code == _READ_DISCRETE:
                registers[0] = int(model.pump_running) | int(model.pump_tripped) << 1
            else:
                registers[0] = int(model.pump_run_cmd)  # bit 1, the reset, is momentary: always 0
            return None
        if address + len(set_values) > COIL_COUNT:
            return ExcCodes.ILLEGAL_ADDRESS
        writes = {address + offset: bool(value) for offset, value in enumerate(set_values)}
        if 0 in writes:
            self._model.pump_run_cmd = writes[0]
        if writes.get(1):
            self._model.reset_pump()
        return None

    def _write_holding(self, address: int, values: list[int]) -> ExcCodes | None:
        end = address + len(values)
        if end > HOLDING_COUNT:
            return ExcCodes.ILLEGAL_ADDRESS
        if address == 1 or (address == 0 and end == 1):
            return ExcCodes.ILLEGAL_ADDRESS  # half of the float32 setpoint: refuse, never tear it
        regs = {address + offset: value for offset, value in enumerate(values)}
        writes: list[tuple[str, float]] = []
        if 0 in regs:
            writes.append(("pump_speed_sp", _regs_float(regs[0], regs[1])))
        if 2 in regs:
            writes.append(("level_sp", regs[2] / 100.0))
        try:
            for field, value in writes:  # all or nothing: validate everything before applying
                self._model.validate(field, value)
        except (ValueError, TypeError):
            return ExcCodes.ILLEGAL_VALUE
        for field, value in writes:
            self._model.write(field, value)
        return None


async def _no_such_device(
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    registers: list[int],
    set_values: list[int] | list[bool] | None,
) -> ExcCodes | None:
    return ExcCodes.GATEWAY_NO_RESPONSE
