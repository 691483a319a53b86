"""Register <-> value conversion for the Modbus driver (16-bit big-endian registers)."""

from __future__ import annotations

import struct

from drivers.modbus.address import ModbusAddress
from drivers.values import DataType

_FORMATS = {DataType.INT16: "h", DataType.UINT16: "H", DataType.INT32: "i", DataType.UINT32: "I",
            DataType.FLOAT32: "f", DataType.FLOAT64: "d"}


def decode_registers(address: ModbusAddress, registers: list[int]) -> float | int:
    """Decode the `address.count` registers that hold one value."""
    words = list(registers[: address.count])
    if address.word_order == "little":
        words.reverse()
    raw = struct.pack(f">{len(words)}H", *words)
    return struct.unpack(">" + _FORMATS[address.data_type], raw)[0]


def encode_value(address: ModbusAddress, value: float | int) -> list[int]:
    """Encode a value (already coerced to the tag's type) into registers to write."""
    raw = struct.pack(">" + _FORMATS[address.data_type], value)
    words = list(struct.unpack(f">{len(raw) // 2}H", raw))
    if address.word_order == "little":
        words.reverse()
    return words
