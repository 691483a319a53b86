"""Modbus tag addresses: `modbus://<connection>/<unit>/<table>/<address>?type=..&word_order=..`.

Tables: `co` coils, `di` discrete inputs, `ir` input registers, `hr` holding registers.
The address is zero-based (the number in the request PDU) unless it is written in the
classic notation, which carries the table digit: 00001.. coils, 10001.. discrete inputs,
30001.. input registers, 40001.. holding registers (5 or 6 digits, one-based).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from drivers.plugins import AddressError
from drivers.values import DataType


class Table(enum.StrEnum):
    COILS = "co"
    DISCRETE_INPUTS = "di"
    INPUT_REGISTERS = "ir"
    HOLDING_REGISTERS = "hr"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COILS, Table.DISCRETE_INPUTS)

    @property
    def is_writable(self) -> bool:
        return self in (Table.COILS, Table.HOLDING_REGISTERS)


_CLASSIC_DIGIT = {Table.COILS: "0", Table.DISCRETE_INPUTS: "1", Table.INPUT_REGISTERS: "3",
                  Table.HOLDING_REGISTERS: "4"}
_REGISTER_TYPES = {DataType.INT16: 1, DataType.UINT16: 1, DataType.INT32: 2, DataType.UINT32: 2,
                   DataType.FLOAT32: 2, DataType.FLOAT64: 4}
_KNOWN_OPTIONS = {"type", "word_order"}


@dataclass(frozen=True, slots=True)
class ModbusAddress:
    unit: int
    table: Table
    offset: int
    data_type: DataType
    word_order: str  # "big": high word first (ABCD); "little": low word first (CDAB)

    @property
    def count(self) -> int:
        """Registers (or bits) this value occupies."""
        return 1 if self.table.is_bits else _REGISTER_TYPES[self.data_type]


def parse_modbus_address(path: str, query: Mapping[str, str]) -> ModbusAddress:
    parts = path.split("/")
    if len(parts) != 3:
        raise AddressError(f"modbus address {path!r} must be <unit>/<table>/<address>, e.g. 1/hr/40001")
    unit_text, table_text, number_text = parts
    if not unit_text.isdigit() or not 0 <= int(unit_text) <= 247:
        raise AddressError(f"modbus unit id {unit_text!r} must be a number 0..247")
    try:
        table = Table(table_text.lower())
    except ValueError:
        raise AddressError(f"modbus table {table_text!r} must be one of co, di, ir, hr") from None
    offset = _parse_offset(number_text, table)
    unknown = set(query) - _KNOWN_OPTIONS
    if unknown:
        raise AddressError(f"unknown modbus option(s) {', '.join(sorted(unknown))} "
                           f"(known: {', '.join(sorted(_KNOWN_OPTIONS))})")
    data_type = _parse_type(query.get("type"), table)
    word_order = query.get("word_order", "big")
    if word_order not in ("big", "little"):
        raise AddressError(f"word_order {word_order!r} must be big or little")
    address = ModbusAddress(int(unit_text), table, offset, data_type, word_order)
    if address.offset + address.count > 65536:
        raise AddressError(f"modbus address {path!r} runs past register 65535")
    return address


def _parse_offset(text: str, table: Table) -> int:
    if not text.isdigit():
        raise AddressError(f"modbus address {text!r} is not a number")
    digit = _CLASSIC_DIGIT[table]
    if len(text) in (5, 6) and text.startswith(digit):
        one_based = int(text[1:])
        if one_based < 1:
            raise AddressError(f"classic modbus address {text!r} starts at {digit}{'0' * (len(text) - 2)}1")
        return one_based - 1
    value = int(text)
    if value > 65535:
        raise AddressError(f"modbus address {text!r} is beyond 65535 and not classic {digit}xxxx notation")
    return value


def _parse_type(text: str | None, table: Table) -> DataType:
    if table.is_bits:
        if text not in (None, "bool"):
            raise AddressError(f"coils and discrete inputs are bool, not {text!r}")
        return DataType.BOOL
    if text is None:
        return DataType.UINT16
    try:
        data_type = DataType(text)
    except ValueError:
        data_type = None
    if data_type not in _REGISTER_TYPES:
        raise AddressError(f"register type {text!r} must be one of {', '.join(_REGISTER_TYPES)}")
    return data_type
