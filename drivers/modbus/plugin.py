"""Registers the Modbus driver under the `modbus` tag scheme (no pymodbus import here)."""

from __future__ import annotations

from drivers.modbus.address import ModbusAddress, parse_modbus_address
from drivers.modbus.settings import URL_SCHEMES, ModbusSettings, modbus_settings
from drivers.model import Driver
from drivers.plugins import DriverPlugin


def _check(address: ModbusAddress, settings: ModbusSettings) -> str | None:
    if address.scan not in settings.scan_classes_s:
        return (f"scan class {address.scan!r} is not defined in the connection's scan_classes "
                f"(defined: {', '.join(sorted(settings.scan_classes_s))})")
    return None


def _create(name: str, settings: ModbusSettings) -> Driver:
    from drivers.modbus.driver import ModbusDriver

    return ModbusDriver(name, settings)


PLUGIN = DriverPlugin(
    scheme="modbus",
    url_schemes=URL_SCHEMES,
    parse_address=parse_modbus_address,
    settings=modbus_settings,
    create=_create,
    check_address=_check,
)
