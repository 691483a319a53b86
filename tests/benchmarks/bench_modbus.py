"""Modbus: requests per scan, read cost against bare pymodbus, and 100 devices at 10 Hz.

1. A realistic register map (2,000 tags over 10 devices: clusters of mixed types with gaps, as
   a drive or meter lays out its map): requests per scan when coalesced vs one per tag.
2. Reads per second and CPU per read in a tight loop, `driver.read()` vs a bare pymodbus
   `read_holding_registers` on its own connection to the same device (goal: ours/bare >= 0.9).
3. 100 devices (separate connections, as 100 drives on a plant network), each polled at 10 Hz
   by its own driver: this process's CPU as a share of one core (goal <= 15 %).
The devices run in a separate process, so only the client side is measured.
"""

from __future__ import annotations

import asyncio
import random
import time

from pymodbus.client import AsyncModbusTcpClient

from drivers.modbus.address import parse_modbus_address
from drivers.modbus.blocks import plan_blocks
from drivers.modbus.driver import ModbusDriver
from drivers.modbus.settings import modbus_settings
from drivers.model import Point
from hmi.runtime.heap import freeze_startup_heap
from tests.benchmarks import write_result
from tests.benchmarks.modbus_load_server import modbus_devices

TYPES = [("uint16", 1), ("int16", 1), ("float32", 2), ("uint32", 2), ("float32", 2), ("int16", 1)]
READ_WINDOW_S = 5.0
FLEET = 100
FLEET_HZ = 10.0
FLEET_WINDOW_S = 10.0


def register_map(devices: int = 10, tags_per_device: int = 200, seed: int = 7) -> list[Point]:
    """Tags in clusters of 5-20 neighbours, clusters 10-60 registers apart, half input and half
    holding registers: what a drive's or a power meter's documented map looks like."""
    rng = random.Random(seed)
    points = []
    for unit in range(1, devices + 1):
        offset, table, placed = 0, "ir", 0
        while placed < tags_per_device:
            for _ in range(min(rng.randint(5, 20), tags_per_device - placed)):
                type_, size = rng.choice(TYPES)
                points.append(Point(f"u{unit}_{placed}",
                                    parse_modbus_address(f"{unit}/{table}/{offset}", {"type": type_})))
                offset += size
                placed += 1
            offset += rng.randint(10, 60)
            if placed >= tags_per_device // 2:
                table = "hr"
    return points


def requests_per_scan() -> dict[str, float]:
    points = register_map()
    coalesced = len(plan_blocks(points, max_gap=8))
    return {"tags": len(points), "one_request_per_tag": len(points), "coalesced": coalesced,
            "reduction": len(points) / coalesced}


async def bare_reads(port: int) -> tuple[float, float]:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2)
    await client.connect()
    try:
        return await _tight_loop(lambda: client.read_holding_registers(0, count=10, device_id=1))
    finally:
        client.close()


async def driver_reads(port: int) -> tuple[float, float]:
    settings = modbus_settings(f"modbus://127.0.0.1:{port}", {"poll_interval_ms": 3_600_000, "timeout_s": 2})
    driver = ModbusDriver("bench", settings)
    polled = Point("polled", parse_modbus_address("1/hr/500", {}))
    block = Point("block", parse_modbus_address("1/hr/0", {"type": "string", "length": "20"}))  # 10 registers
    connected = asyncio.Event()
    await driver.start([polled], lambda updates: None,
                       lambda _name, state, _detail: connected.set() if state.value == "connected" else None)
    try:
        await connected.wait()
        return await _tight_loop(lambda: driver.read(block))
    finally:
        await driver.close()


async def _tight_loop(read) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    for _ in range(200):  # warm up
        await read()
    count, began, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - began < READ_WINDOW_S:
        await read()
        count += 1
    elapsed, cpu_used = time.perf_counter() - began, time.process_time() - cpu
    return count / elapsed, cpu_used / count * 1e6


async def fleet(ports: list[int]) -> dict[str, float]:
    options = {"poll_interval_ms": 1000 / FLEET_HZ, "timeout_s": 2}
    drivers = [ModbusDriver(f"drive{i}", modbus_settings(f"modbus://127.0.0.1:{port}", options))
               for i, port in enumerate(ports)]
    points = [Point(f"d{i}", parse_modbus_address(f"1/hr/{i}", {"type": "float32"})) for i in range(0, 20, 2)]
    received = 0

    def count(updates) -> None:  # type: ignore[no-untyped-def]
        nonlocal received
        received += len(updates)

    for driver in drivers:
        await driver.start(points, count, lambda *state: None)
    try:
        await asyncio.sleep(2.0)
        freeze_startup_heap()
        reads_before, updates_before = sum(d.counters.reads for d in drivers), received
        began, cpu = time.perf_counter(), time.process_time()
        await asyncio.sleep(FLEET_WINDOW_S)
        elapsed, cpu_used = time.perf_counter() - began, time.process_time() - cpu
        reads = sum(d.counters.reads for d in drivers) - reads_before
        overruns = sum(d.counters.extra.get("overruns", 0) for d in drivers)
    finally:
        await asyncio.gather(*(d.close() for d in drivers))
    return {"devices": len(drivers), "target_reads_per_s": len(drivers) * FLEET_HZ, "reads_per_s": reads / elapsed,
            "updates_per_s": (received - updates_before) / elapsed, "cpu_share_of_one_core": cpu_used / elapsed,
            "overruns": overruns}


def main() -> None:
    scan = requests_per_scan()
    with modbus_devices(1) as (port,):
        bare_rate, bare_cpu = asyncio.run(bare_reads(port))
        ours_rate, ours_cpu = asyncio.run(driver_reads(port))
        bare_rate2, bare_cpu2 = asyncio.run(bare_reads(port))
    bare_rate, bare_cpu = max(bare_rate, bare_rate2), min(bare_cpu, bare_cpu2)
    with modbus_devices(FLEET) as ports:
        fleet_result = asyncio.run(fleet(ports))
    result = {"requests_per_scan": scan,
              "reads": {"bare_per_s": bare_rate, "ours_per_s": ours_rate, "bare_cpu_us": bare_cpu,
                        "ours_cpu_us": ours_cpu, "rate_ratio_ours_vs_bare": ours_rate / bare_rate,
                        "cpu_ratio_bare_vs_ours": bare_cpu / ours_cpu},
              "fleet": fleet_result}
    print(f"requests per scan, {scan['tags']} tags over 10 devices: one per tag {scan['one_request_per_tag']}, "
          f"coalesced {scan['coalesced']} ({scan['reduction']:.0f}x fewer)")
    print(f"{'reads, 10 registers':<24}{'reads/s':>10}{'CPU us/read':>14}")
    print(f"{'bare pymodbus':<24}{bare_rate:>10,.0f}{bare_cpu:>14.1f}")
    print(f"{'linewise driver.read':<24}{ours_rate:>10,.0f}{ours_cpu:>14.1f}")
    print(f"ours / bare: reads/s {ours_rate / bare_rate:.2f}, CPU per read {bare_cpu / ours_cpu:.2f} "
          "(as bare/ours; goal >= 0.9)")
    print(f"{FLEET} devices at {FLEET_HZ:g} Hz: {fleet_result['reads_per_s']:,.0f} reads/s "
          f"(target {fleet_result['target_reads_per_s']:,.0f}), {fleet_result['updates_per_s']:,.0f} updates/s, "
          f"CPU {fleet_result['cpu_share_of_one_core'] * 100:.1f} % of one core (goal <= 15 %), "
          f"overruns {fleet_result['overruns']}")
    write_result("bench-modbus", result)


if __name__ == "__main__":
    main()
