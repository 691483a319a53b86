"""Modbus TCP devices for the benchmarks, in their own process so their CPU is not counted:
`python -m tests.benchmarks.modbus_load_server N` serves N devices (unit 1, 1,000 holding and
input registers each) on N free ports and prints READY <ports as JSON>."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

REGISTERS = 1000


def device() -> SimDevice:
    return SimDevice(id=1, simdata=([SimData(0, values=[False] * REGISTERS, datatype=DataType.BITS)],
                                    [SimData(0, values=[False] * REGISTERS, datatype=DataType.BITS)],
                                    [SimData(0, count=REGISTERS, datatype=DataType.REGISTERS)],
                                    [SimData(0, count=REGISTERS, datatype=DataType.REGISTERS)]))


async def serve(count: int) -> None:
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    from tests.support import free_port

    servers, ports = [], []
    for _ in range(count):
        port = free_port()
        server = ModbusTcpServer(device(), address=("127.0.0.1", port))
        await server.serve_forever(background=True)
        servers.append(server)
        ports.append(port)
    print(f"READY {json.dumps(ports)}", flush=True)
    await asyncio.Event().wait()


@contextlib.contextmanager
def modbus_devices(count: int) -> Iterator[list[int]]:
    """Run `count` devices in a separate process; yields their ports."""
    command = [sys.executable, "-m", "tests.benchmarks.modbus_load_server", str(count)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("READY"):
            raise RuntimeError(f"modbus devices did not start: {line!r}")
        yield json.loads(line.split(" ", 1)[1])
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
