"""Registers the OPC UA driver under the `opcua` tag scheme (no asyncua import here)."""

from __future__ import annotations

from drivers.model import Driver
from drivers.opcua.address import parse_opcua_address
from drivers.opcua.settings import OpcUaSettings, opcua_settings
from drivers.plugins import DriverPlugin


def _create(name: str, settings: OpcUaSettings) -> Driver:
    from drivers.opcua.driver import OpcUaDriver

    return OpcUaDriver(name, settings)


PLUGIN = DriverPlugin(
    scheme="opcua",
    url_schemes=("opc.tcp",),
    parse_address=parse_opcua_address,
    settings=opcua_settings,
    create=_create,
)
