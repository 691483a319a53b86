"""Register <-> value conversion for the Modbus driver.

Each register travels high byte first. A value's bytes A (most significant) .. D lie in its
registers in one of four orders (ABCD, CDAB, BADC, DCBA: see address.py); the same swaps apply
to the four words of a 64-bit value. Strings take only the byte swap.
"""

from __future__ import annotations

import struct

from drivers.modbus.address import ModbusAddress
from drivers.values import DataType

_FORMATS = {DataType.INT16: "h", DataType.UINT16: "H", DataType.INT32: "i", DataType.UINT32: "I",
            DataType.INT64: "q", DataType.UINT64: "Q", DataType.FLOAT32: "f", DataType.FLOAT64: "d"}
_WORD_SWAPPED = ("CDAB", "DCBA")
_BYTE_SWAPPED = ("BADC", "DCBA")


def registers_to_bytes(words: list[int], order: str) -> bytes:
    """The value's bytes, most significant first, from the registers as the device sent them."""
    if order in _WORD_SWAPPED:
        words = words[::-1]
    raw = struct.pack(f">{len(words)}H", *words)
    return _swap_bytes(raw) if order in _BYTE_SWAPPED else raw


def bytes_to_registers(raw: bytes, order: str) -> list[int]:
    """The inverse of registers_to_bytes: registers to send for a value's big-endian bytes."""
    if order in _BYTE_SWAPPED:
        raw = _swap_bytes(raw)
    words = list(struct.unpack(f">{len(raw) // 2}H", raw))
    return words[::-1] if order in _WORD_SWAPPED else words


def decode_registers(address: ModbusAddress, registers: list[int]) -> float | int | bool | str:
    """Decode the `address.count` registers that hold one value."""
    words = list(registers[: address.count])
    if address.bit is not None:
        return bool((words[0] >> address.bit) & 1)
    if address.data_type is DataType.STRING:
        raw = struct.pack(f">{len(words)}H", *words)
        if address.order in _BYTE_SWAPPED:
            raw = _swap_bytes(raw)
        return raw[: address.length].split(b"\0", 1)[0].decode("latin-1").rstrip(" ")
    return struct.unpack(">" + _FORMATS[address.data_type], registers_to_bytes(words, address.order))[0]


def encode_value(address: ModbusAddress, value: float | int | str) -> list[int]:
    """Encode a value (already coerced to the tag's type) into registers to write."""
    if address.data_type is DataType.STRING:
        try:
            raw = str(value).encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"{value!r} has characters a Modbus string (Latin-1) cannot hold") from None
        if len(raw) > address.length:
            raise ValueError(f"{value!r} is longer than the {address.length} characters of this string")
        raw = raw.ljust(address.count * 2, b"\0")
        if address.order in _BYTE_SWAPPED:
            raw = _swap_bytes(raw)
        return list(struct.unpack(f">{address.count}H", raw))
    return bytes_to_registers(struct.pack(">" + _FORMATS[address.data_type], value), address.order)


def bit_masks(bit: int, value: bool) -> tuple[int, int]:
    """AND and OR masks of function 22 (mask write register) that set or clear one bit."""
    return 0xFFFF & ~(1 << bit), (1 << bit) if value else 0


def _swap_bytes(raw: bytes) -> bytes:
    swapped = bytearray(raw)
    swapped[0::2], swapped[1::2] = raw[1::2], raw[0::2]
    return bytes(swapped)
