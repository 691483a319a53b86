"""Modbus tag addresses: `modbus://<connection>/<unit>/<table>/<address>[.<bit>]?type=..&order=..`.

Tables: `co` coils, `di` discrete inputs, `ir` input registers, `hr` holding registers.
The address is zero-based (the number in the request PDU) unless it is written in the
classic notation, which carries the table digit: 00001.. coils, 10001.. discrete inputs,
30001.. input registers, 40001.. holding registers (5 or 6 digits, one-based).

Query options:
- `type`: int16 uint16 int32 uint32 int64 uint64 float32 float64 (registers, default uint16),
  `bool` (coils and inputs; on a register it needs a bit: `40001.3` or `bit=3`, 0 = least
  significant), `string` (with `length=` in characters, two per register).
- `order`: how the value's bytes A (most significant) .. D lie in the registers: ABCD (big
  endian, the Modbus default), CDAB (words swapped), BADC (bytes swapped), DCBA (little
  endian). For 64-bit values the same swaps apply to four words. `word_order=big|little` is
  kept as a synonym of ABCD|CDAB. Strings use only the byte swap.
- `write`: `single` (functions 5/6, the default for one coil or register) or `multiple`
  (15/16, for devices that implement only those). Values of two or more registers use 16.
- `scan`: the scan class the tag is polled in (see the connection's `scan_classes`).
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
        return self in _BIT_TABLES

    @property
    def is_writable(self) -> bool:
        return self in (Table.COILS, Table.HOLDING_REGISTERS)


_BIT_TABLES = frozenset({Table.COILS, Table.DISCRETE_INPUTS})
_CLASSIC_DIGIT = {Table.COILS: "0", Table.DISCRETE_INPUTS: "1", Table.INPUT_REGISTERS: "3",
                  Table.HOLDING_REGISTERS: "4"}
_REGISTER_TYPES = {DataType.INT16: 1, DataType.UINT16: 1, DataType.INT32: 2, DataType.UINT32: 2,
                   DataType.INT64: 4, DataType.UINT64: 4, DataType.FLOAT32: 2, DataType.FLOAT64: 4}
ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")
_WORD_ORDER_SYNONYMS = {"big": "ABCD", "little": "CDAB"}
_KNOWN_OPTIONS = {"type", "order", "word_order", "bit", "length", "write", "scan"}
DEFAULT_SCAN = "default"
MAX_STRING = 250  # characters: 125 registers, one read


@dataclass(frozen=True, slots=True)
class ModbusAddress:
    unit: int
    table: Table
    offset: int
    data_type: DataType
    order: str = "ABCD"
    bit: int | None = None  # a bool inside a register
    length: int = 0  # characters of a string
    write_multiple: bool = False  # use function 15/16 even for one coil or register
    scan: str = DEFAULT_SCAN

    @property
    def count(self) -> int:
        """Registers (or bits) this value occupies."""
        if self.table.is_bits or self.bit is not None:
            return 1
        if self.data_type is DataType.STRING:
            return (self.length + 1) // 2
        return _REGISTER_TYPES[self.data_type]


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
    unknown = set(query) - _KNOWN_OPTIONS
    if unknown:
        raise AddressError(f"unknown modbus option(s) {', '.join(sorted(unknown))} "
                           f"(known: {', '.join(sorted(_KNOWN_OPTIONS))})")
    number_text, _, bit_text = number_text.partition(".")
    offset = _parse_offset(number_text, table)
    bit = _parse_bit(bit_text or query.get("bit"), table)
    data_type = _parse_type(query.get("type"), table, bit)
    length = _parse_length(query.get("length"), data_type)
    address = ModbusAddress(int(unit_text), table, offset, data_type, _parse_order(query), bit, length,
                            _parse_write(query.get("write"), table), query.get("scan") or DEFAULT_SCAN)
    if address.offset + address.count > 65536:
        raise AddressError(f"modbus address {path!r} runs past register 65535")
    return address


def _parse_bit(text: str | None, table: Table) -> int | None:
    if text is None or text == "":
        return None
    if table.is_bits:
        raise AddressError(f"a bit number ({text}) is for registers; coils and discrete inputs are single bits")
    if not text.isdigit() or not 0 <= int(text) <= 15:
        raise AddressError(f"bit {text!r} must be 0..15 (0 = least significant bit of the register)")
    return int(text)


def _parse_order(query: Mapping[str, str]) -> str:
    if "order" in query and "word_order" in query:
        raise AddressError("give either order= or word_order=, not both")
    if "word_order" in query:
        order = _WORD_ORDER_SYNONYMS.get(query["word_order"])
        if order is None:
            raise AddressError(f"word_order {query['word_order']!r} must be big or little (or use order=ABCD..)")
        return order
    order = query.get("order", "ABCD").upper()
    if order not in ORDERS:
        raise AddressError(f"order {query.get('order')!r} must be one of {', '.join(ORDERS)}")
    return order


def _parse_length(text: str | None, data_type: DataType) -> int:
    if data_type is not DataType.STRING:
        if text is not None:
            raise AddressError("length= is for type=string")
        return 0
    if text is None or not text.isdigit() or not 1 <= int(text) <= MAX_STRING:
        raise AddressError(f"a string needs length=1..{MAX_STRING} (characters, two per register), not {text!r}")
    return int(text)


def _parse_write(text: str | None, table: Table) -> bool:
    if text not in (None, "single", "multiple"):
        raise AddressError(f"write={text!r} must be single (functions 5/6) or multiple (15/16)")
    if text is not None and not table.is_writable:
        raise AddressError(f"write={text} on a read-only table ({table.value})")
    return text == "multiple"


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


def _parse_type(text: str | None, table: Table, bit: int | None) -> DataType:
    if table.is_bits or bit is not None:
        if text not in (None, "bool"):
            what = "a bit in a register is" if bit is not None else "coils and discrete inputs are"
            raise AddressError(f"{what} bool, not {text!r}")
        return DataType.BOOL
    if text is None:
        return DataType.UINT16
    if text == "bool":
        raise AddressError("type=bool on a register needs the bit: 40001.3 or bit=3")
    try:
        data_type = DataType(text)
    except ValueError:
        data_type = None
    if data_type is not DataType.STRING and data_type not in _REGISTER_TYPES:
        raise AddressError(f"register type {text!r} must be one of {', '.join(_REGISTER_TYPES)}, bool "
                           "(with a bit) or string (with length)")
    return data_type
