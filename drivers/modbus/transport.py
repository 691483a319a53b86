"""The pymodbus client for a connection's transport: TCP, RTU on a serial line, RTU over TCP.

pymodbus' own retries and reconnects are off: the driver retries (per request, `retries`) and
the supervisor reconnects, so every attempt is counted and visible.
"""

from __future__ import annotations

from collections.abc import Callable

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.framer import FramerType

from drivers.modbus.settings import ModbusSettings


def new_client(settings: ModbusSettings, trace_packet: Callable[[bool, bytes], bytes]) -> ModbusBaseClient:
    common = {"timeout": settings.timeout_s, "retries": 0, "reconnect_delay": 0, "trace_packet": trace_packet}
    if settings.transport == "rtu":
        line = settings.serial
        assert line is not None
        return AsyncModbusSerialClient(line.device, framer=FramerType.RTU, baudrate=line.baudrate,
                                       bytesize=line.bytesize, parity=line.parity, stopbits=line.stopbits, **common)
    framer = FramerType.RTU if settings.transport == "rtutcp" else FramerType.SOCKET
    return AsyncModbusTcpClient(settings.host, port=settings.port, framer=framer, **common)


def describe(settings: ModbusSettings) -> str:
    if settings.transport == "rtu" and settings.serial is not None:
        return f"RTU {settings.serial.describe()}"
    where = f"{settings.host}:{settings.port}"
    return f"RTU over TCP {where}" if settings.transport == "rtutcp" else where


def unreachable(settings: ModbusSettings) -> str:
    if settings.transport == "rtu" and settings.serial is not None:
        return (f"cannot open serial port {settings.serial.device} (is the adapter plugged in, the name right, "
                "and the port not used by another program?)")
    return (f"cannot connect to {settings.host}:{settings.port} "
            "(is the device on, the address and port right, the network up?)")
