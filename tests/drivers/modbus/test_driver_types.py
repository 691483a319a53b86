"""The Modbus driver on the wire: byte orders, 64-bit values, bits, strings, write functions,
read-back verification and scan classes, against a real pymodbus device on loopback."""

from __future__ import annotations

import asyncio

import pytest
from pymodbus.client import AsyncModbusTcpClient

from drivers.modbus.driver import ModbusDriver
from drivers.modbus.settings import modbus_settings
from drivers.model import WriteError
from tests.drivers.modbus.register_peer import register_peer
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until

READ_HOLDING, WRITE_REGISTER, WRITE_COILS, WRITE_REGISTERS, MASK_WRITE = 3, 6, 15, 16, 22


def driver_for(port: int, **options: object) -> ModbusDriver:
    return ModbusDriver("d", modbus_settings(f"modbus://127.0.0.1:{port}",
                                             {"poll_interval_ms": 50, "timeout_s": 0.5, **options}))


async def raw_registers(port: int, address: int, count: int) -> list[int]:
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    await client.connect()
    try:
        return (await client.read_holding_registers(address, count=count, device_id=1)).registers
    finally:
        client.close()


async def raw_write(port: int, address: int, values: list[int]) -> None:
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    await client.connect()
    try:
        await client.write_registers(address, values, device_id=1)
    finally:
        client.close()


def test_byte_orders_64_bit_values_and_strings_on_the_wire():
    orders = {order: point(f"v_{order}", f"modbus://d/1/hr/10?type=uint32&order={order}")
              for order in ("ABCD", "CDAB", "BADC", "DCBA")}
    big = point("big", "modbus://d/1/hr/20?type=int64&order=CDAB")
    name = point("name", "modbus://d/1/hr/30?type=string&length=8")

    async def scenario() -> None:
        async with register_peer() as peer:
            await raw_write(peer.port, 10, [0xAABB, 0xCCDD])
            driver, rec = driver_for(peer.port), Recorder()
            await driver.start([*orders.values(), big, name], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("v_DCBA") is not None, message="first poll")
                assert {o: rec.last(p.tag).value for o, p in orders.items()} == {
                    "ABCD": 0xAABBCCDD, "CDAB": 0xCCDDAABB, "BADC": 0xBBAADDCC, "DCBA": 0xDDCCBBAA}
                await driver.write(big, -(2**62) - 3)  # beyond a float's 53 bits: kept exact
                assert await raw_registers(peer.port, 20, 4) == [0xFFFD, 0xFFFF, 0xFFFF, 0xBFFF]
                await driver.write(name, "P-101")
                assert await raw_registers(peer.port, 30, 4) == [0x502D, 0x3130, 0x3100, 0x0000]
                await async_wait_until(lambda: rec.last("name").value == "P-101", message="string read back")
                assert rec.last("big").value == -(2**62) - 3
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_a_bit_is_written_with_function_22_or_read_modify_write_and_neighbours_survive():
    bit3 = point("bit3", "modbus://d/1/hr/40.3")

    async def scenario() -> None:
        async with register_peer() as peer:
            await raw_write(peer.port, 40, [0x00F0])
            driver, rec = driver_for(peer.port), Recorder()
            await driver.start([bit3], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("bit3") is not None, message="first poll")
                assert rec.last("bit3").value is False
                await driver.write(bit3, True)
                assert await raw_registers(peer.port, 40, 1) == [0x00F8]
                assert (MASK_WRITE, 40, 1) in peer.requests
                peer.refuse_mask_write = True  # a device without function 22
                peer.requests.clear()
                await driver.write(bit3, False)
                assert await raw_registers(peer.port, 40, 1) == [0x00F0]
                functions = [f for f, address, _ in peer.requests if address == 40 and f != READ_HOLDING]
                assert functions[:2] == [MASK_WRITE, WRITE_REGISTER]  # refused, then read-modify-write
                await async_wait_until(lambda: rec.last("bit3").value is False, message="bit cleared")
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_write_functions_follow_the_tag_and_verify_catches_a_clamped_setpoint():
    single = point("single", "modbus://d/1/hr/50")
    multiple = point("multiple", "modbus://d/1/hr/51?write=multiple")
    coil = point("coil", "modbus://d/1/co/5?write=multiple")

    async def scenario() -> None:
        async with register_peer() as peer:
            peer.clamp[50] = 100  # the device keeps at most 100 in register 50
            driver, rec = driver_for(peer.port, verify_writes=True), Recorder()
            await driver.start([single, multiple, coil], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("coil") is not None, message="first poll")
                peer.requests.clear()
                await driver.write(single, 90)
                await driver.write(multiple, 7)
                await driver.write(coil, True)
                writes = [(f, a) for f, a, _ in peer.requests if f not in (1, 3)]
                assert writes == [(WRITE_REGISTER, 50), (WRITE_REGISTERS, 51), (WRITE_COILS, 5)]
                with pytest.raises(WriteError, match=r"accepted 150 but holds 100 \(read back\)"):
                    await driver.write(single, 150)
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_scan_classes_poll_at_their_own_rates():
    fast = point("fast", "modbus://d/1/hr/0?scan=fast")
    slow = point("slow", "modbus://d/1/hr/100?scan=slow")

    async def scenario() -> None:
        async with register_peer() as peer:
            driver = driver_for(peer.port, scan_classes={"fast": 50, "slow": 1000})
            rec = Recorder()
            await driver.start([fast, slow], rec.on_updates, rec.on_state)
            try:
                await asyncio.sleep(2.2)
            finally:
                await driver.close()
            fast_reads = sum(1 for f, a, _ in peer.requests if (f, a) == (READ_HOLDING, 0))
            slow_reads = sum(1 for f, a, _ in peer.requests if (f, a) == (READ_HOLDING, 100))
            assert 2 <= slow_reads <= 4  # at 0, 1 and 2 s
            assert fast_reads >= 5 * slow_reads

    asyncio.run(scenario())


def test_a_write_re_polls_its_own_scan_class_at_once():
    slow = point("slow", "modbus://d/1/hr/100?scan=slow")

    async def scenario() -> None:
        async with register_peer() as peer:
            driver = driver_for(peer.port, scan_classes={"slow": 10_000})
            rec = Recorder()
            await driver.start([slow], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("slow") is not None, message="first poll")
                await driver.write(slow, 5)
                await async_wait_until(lambda: rec.last("slow").value == 5, timeout=2,
                                       message="the written value, long before the next 10 s scan")
            finally:
                await driver.close()

    asyncio.run(scenario())
