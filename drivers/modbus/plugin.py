"""Registers the Modbus driver under the `modbus` tag scheme (no pymodbus import here)."""

from __future__ import annotations

from drivers.modbus.address import parse_modbus_address
from drivers.modbus.settings import ModbusSettings, modbus_settings
from drivers.model import Driver
from drivers.plugins import DriverPlugin


def _create(name: str, settings: ModbusSettings) -> Driver:
    from drivers.modbus.driver import ModbusDriver

    return ModbusDriver(name, settings)


PLUGIN = DriverPlugin(
    scheme="modbus",
    url_schemes=("modbus", "modbus+tcp"),
    parse_address=parse_modbus_address,
    settings=modbus_settings,
    create=_create,
)
