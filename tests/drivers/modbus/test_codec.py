"""Modbus data types and byte orders: known vectors, every order, and round trips."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.modbus.address import ORDERS, parse_modbus_address
from drivers.modbus.codec import bit_masks, decode_registers, encode_value
from drivers.plugins import AddressError


def address(spec: str, **query: str):
    return parse_modbus_address(spec, query)


@pytest.mark.parametrize(
    ("order", "registers"),
    [("ABCD", [0xAABB, 0xCCDD]), ("CDAB", [0xCCDD, 0xAABB]), ("BADC", [0xBBAA, 0xDDCC]),
     ("DCBA", [0xDDCC, 0xBBAA])],
)
def test_the_four_byte_orders_of_a_32_bit_value(order, registers):
    a = address("1/hr/0", type="uint32", order=order)
    assert decode_registers(a, registers) == 0xAABBCCDD
    assert encode_value(a, 0xAABBCCDD) == registers


@pytest.mark.parametrize(
    ("order", "registers"),
    [("ABCD", [0x1122, 0x3344, 0x5566, 0x7788]), ("CDAB", [0x7788, 0x5566, 0x3344, 0x1122]),
     ("BADC", [0x2211, 0x4433, 0x6655, 0x8877]), ("DCBA", [0x8877, 0x6655, 0x4433, 0x2211])],
)
def test_64_bit_values_swap_four_words(order, registers):
    a = address("1/hr/0", type="uint64", order=order)
    assert a.count == 4
    assert decode_registers(a, registers) == 0x1122334455667788
    assert encode_value(a, 0x1122334455667788) == registers


def test_float_and_signed_vectors():
    assert decode_registers(address("1/hr/0", type="float32"), [0x3FC0, 0x0000]) == 1.5
    assert decode_registers(address("1/hr/0", type="float64"), [0x4009, 0x21FB, 0x5444, 0x2D18]) == math.pi
    assert decode_registers(address("1/hr/0", type="int64"), [0xFFFF] * 4) == -1
    assert decode_registers(address("1/hr/0", type="int16", order="BADC"), [0xFEFF]) == -2
    assert address("1/hr/0", type="float32", word_order="little").order == "CDAB"  # the old spelling


def test_bits_inside_a_register():
    bit3 = address("1/hr/40001.3")
    assert (bit3.offset, bit3.bit, bit3.count) == (0, 3, 1)
    assert decode_registers(bit3, [0b1000]) is True
    assert decode_registers(bit3, [0b0111]) is False
    assert address("1/ir/7", bit="15").bit == 15
    assert bit_masks(3, True) == (0xFFF7, 0x0008)
    assert bit_masks(3, False) == (0xFFF7, 0x0000)


def test_strings_two_characters_per_register():
    name = address("1/hr/0", type="string", length="5")
    assert name.count == 3
    assert encode_value(name, "PUMP1") == [0x5055, 0x4D50, 0x3100]
    assert decode_registers(name, [0x5055, 0x4D50, 0x3100]) == "PUMP1"
    assert decode_registers(name, [0x4142, 0x0000, 0x0000]) == "AB"  # NUL-terminated
    swapped = address("1/hr/0", type="string", length="4", order="BADC")
    assert decode_registers(swapped, [0x5550, 0x504D]) == "PUMP"
    with pytest.raises(ValueError, match="longer than the 5 characters"):
        encode_value(name, "PUMP-101")


@pytest.mark.parametrize(
    ("spec", "query", "message"),
    [("1/hr/0", {"type": "bool"}, "needs the bit"),
     ("1/hr/0.16", {}, "bit '16' must be 0..15"),
     ("1/co/0.1", {}, "coils and discrete inputs are single bits"),
     ("1/hr/0.2", {"type": "float32"}, "a bit in a register is bool"),
     ("1/hr/0", {"type": "string"}, "needs length=1..250"),
     ("1/hr/0", {"type": "uint16", "length": "4"}, "length= is for type=string"),
     ("1/hr/0", {"order": "ACBD"}, "must be one of ABCD, CDAB, BADC, DCBA"),
     ("1/ir/0", {"write": "multiple"}, "read-only table"),
     ("1/hr/0", {"type": "int128"}, "register type 'int128' must be one of")],
)
def test_bad_addresses_are_named(spec, query, message):
    with pytest.raises(AddressError, match=message):
        parse_modbus_address(spec, query)


NUMERIC = {
    "int16": st.integers(-(2**15), 2**15 - 1), "uint16": st.integers(0, 2**16 - 1),
    "int32": st.integers(-(2**31), 2**31 - 1), "uint32": st.integers(0, 2**32 - 1),
    "int64": st.integers(-(2**63), 2**63 - 1), "uint64": st.integers(0, 2**64 - 1),
    "float32": st.floats(width=32, allow_nan=False), "float64": st.floats(allow_nan=False),
}


@given(data=st.data(), type_=st.sampled_from(sorted(NUMERIC)), order=st.sampled_from(ORDERS))
def test_every_type_and_order_round_trips(data, type_, order):
    value = data.draw(NUMERIC[type_])
    a = address("1/hr/0", type=type_, order=order)
    registers = encode_value(a, value)
    assert len(registers) == a.count
    assert all(0 <= r <= 0xFFFF for r in registers)
    decoded = decode_registers(a, registers)
    if type_ == "float32":
        assert decoded == struct.unpack(">f", struct.pack(">f", value))[0]
    else:
        assert decoded == value
