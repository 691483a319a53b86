"""A load source for the OPC UA benchmarks: N Double variables, all rewritten `rate` times per second.

Runs as its own process (`python -m tests.benchmarks.opcua_load_server PORT N RATE`) so the clients
measured in the benchmark do not share an interpreter with it. Each value is the time it was
written (epoch seconds), so a client can also measure latency. Prints READY <url> when serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time
from collections.abc import Iterator

from asyncua import Server, ua

NAMESPACE = "urn:linewise:bench"
SLICE_S = 0.010


async def serve(port: int, count: int, rate: float) -> None:
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    index = await server.register_namespace(NAMESPACE)
    folder = await server.nodes.objects.add_object(ua.NodeId("Bench", index), "Bench")
    node_ids = [ua.NodeId(f"Bench.V{i}", index) for i in range(count)]
    for node_id in node_ids:
        await folder.add_variable(node_id, node_id.Identifier, 0.0)
    async with server:
        print(f"READY opc.tcp://127.0.0.1:{port}", flush=True)
        # Writes are spread over the period in 10 ms slices, as a PLC's values change: one burst of
        # all of them would block this server's publishing for tens of ms and charge that to the client.
        slices = max(1, round(1.0 / rate / SLICE_S))
        per_slice = -(-count // slices)
        next_due = time.monotonic()
        while True:
            for start in range(0, count, per_slice):
                for node_id in node_ids[start:start + per_slice]:  # each value is stamped when written
                    value = ua.DataValue(ua.Variant(time.time(), ua.VariantType.Double), SourceTimestamp=None)
                    await server.write_attribute_value(node_id, value)
                next_due += SLICE_S
                await asyncio.sleep(max(0.0, next_due - time.monotonic()))


@contextlib.contextmanager
def load_server(count: int, rate: float) -> Iterator[str]:
    """Run the load server in its own process on a free port; yields its URL."""
    from tests.support import free_port

    command = [sys.executable, "-m", "tests.benchmarks.opcua_load_server", str(free_port()), str(count), str(rate)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("READY"):
            raise RuntimeError(f"load server did not start: {line!r}")
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
