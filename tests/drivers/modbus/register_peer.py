"""A plain Modbus TCP device on a free loopback port: 200 of each table, device id 1, settable.

Two behaviours of real devices are switchable: `refuse_mask_write` answers function 22 with
Illegal Function (many PLCs lack it), and `clamp` makes the device keep min(value, limit) for a
holding register, as a drive clamps a setpoint it accepted.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.support import free_port

SIZE = 200
MASK_WRITE = 22
READS = (1, 2, 3, 4)


@dataclass
class RegisterPeer:
    port: int
    refuse_mask_write: bool = False
    clamp: dict[int, int] = field(default_factory=dict)  # holding register -> highest value it keeps
    requests: list[tuple[int, int, int]] = field(default_factory=list)  # (function, address, count)

    async def action(self, function_code: int, start_address: int, address: int, count: int,
                     registers: list[int], set_values: list[int] | list[bool] | None) -> ExcCodes | None:
        if set_values is not None or function_code in READS or (function_code == MASK_WRITE
                                                                 and self.refuse_mask_write):
            self.requests.append((function_code, address, count))  # pymodbus also calls for its echo reads
        if function_code == MASK_WRITE and self.refuse_mask_write:
            return ExcCodes.ILLEGAL_FUNCTION
        if set_values is not None and function_code in (6, 16):
            for i in range(len(set_values)):
                limit = self.clamp.get(address + i)
                if limit is not None:
                    set_values[i] = min(int(set_values[i]), limit)
        return None


@contextlib.asynccontextmanager
async def register_peer() -> AsyncIterator[RegisterPeer]:
    peer = RegisterPeer(free_port())
    device = SimDevice(
        id=1,
        simdata=(
            [SimData(0, values=[False] * SIZE, datatype=DataType.BITS)],
            [SimData(0, values=[False] * SIZE, datatype=DataType.BITS)],
            [SimData(0, count=SIZE, datatype=DataType.REGISTERS)],
            [SimData(0, count=SIZE, datatype=DataType.REGISTERS)],
        ),
        action=peer.action,
    )
    server = ModbusTcpServer(context=[device], address=("127.0.0.1", peer.port))
    await server.serve_forever(background=True)
    try:
        yield peer
    finally:
        await server.shutdown()
