"""Tag address parsing and Modbus register coding (no peer needed)."""

from __future__ import annotations

import pytest

from drivers.modbus.address import Table
from drivers.modbus.blocks import plan_blocks
from drivers.modbus.codec import decode_registers, encode_value
from drivers.model import Point
from drivers.plugins import AddressError, parse_tag_address


@pytest.mark.parametrize(
    ("uri", "table", "offset"),
    [
        ("modbus://d/1/hr/40001", Table.HOLDING_REGISTERS, 0),
        ("modbus://d/1/hr/400100", Table.HOLDING_REGISTERS, 99),
        ("modbus://d/1/hr/100", Table.HOLDING_REGISTERS, 100),
        ("modbus://d/1/ir/30010", Table.INPUT_REGISTERS, 9),
        ("modbus://d/1/di/10001", Table.DISCRETE_INPUTS, 0),
        ("modbus://d/1/co/00001", Table.COILS, 0),
        ("modbus://d/1/co/1", Table.COILS, 1),
    ],
)
def test_modbus_zero_based_and_classic_notation(uri, table, offset):
    address = parse_tag_address(uri).address
    assert (address.table, address.offset) == (table, offset)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("modbus://d/1/xx/1", "table 'xx'"),
        ("modbus://d/300/hr/1", "unit id '300'"),
        ("modbus://d/1/hr/1?type=float128", "register type 'float128'"),
        ("modbus://d/1/co/1?type=float32", "coils and discrete inputs are bool"),
        ("modbus://d/1/hr/1?wordorder=big", "unknown modbus option(s) wordorder"),
        ("modbus://d/1/hr/65535?type=float32", "runs past register 65535"),
        ("modbus://d/1/hr", "<unit>/<table>/<address>"),
        ("opcua://plc/ns=2;x=Speed", "is not an OPC UA NodeId"),
        ("opcua://plc/ns=2;i=abc", "is not a number"),
        ("opcx://plc/ns=2;s=Speed", "unknown scheme 'opcx'"),
        ("opcua:///ns=2;s=Speed", "names no connection"),
        ("just-text", "is not a tag address"),
    ],
)
def test_bad_addresses_say_what_is_wrong(uri, message):
    with pytest.raises(AddressError, match=None) as caught:
        parse_tag_address(uri)
    assert message in str(caught.value)


def test_opcua_namespace_uri_form():
    address = parse_tag_address("opcua://plc/nsu=urn:x:y;s=Line1.Tank.Level").address
    assert address.namespace_uri == "urn:x:y"
    assert address.with_index(3) == "ns=3;s=Line1.Tank.Level"


@pytest.mark.parametrize(
    ("type_", "order", "value", "registers"),
    [
        ("float32", "big", 1.5, [0x3FC0, 0x0000]),
        ("float32", "little", 1.5, [0x0000, 0x3FC0]),
        ("int16", "big", -2, [0xFFFE]),
        ("uint32", "big", 0x12345678, [0x1234, 0x5678]),
        ("int32", "little", -1, [0xFFFF, 0xFFFF]),
    ],
)
def test_register_coding_round_trips(type_, order, value, registers):
    address = parse_tag_address(f"modbus://d/1/hr/0?type={type_}&word_order={order}").address
    assert encode_value(address, value) == registers
    assert decode_registers(address, registers) == value


def test_block_planning_coalesces_neighbours_and_respects_limits():
    def point(offset: int, type_: str = "uint16", table: str = "hr") -> Point:
        return Point(f"t{offset}", parse_tag_address(f"modbus://d/1/{table}/{offset}?type={type_}").address)

    points = [point(0, "float32"), point(2), point(5), point(40), point(200), point(0, table="ir")]
    blocks = plan_blocks(points, max_gap=8)
    spans = [(b.table.value, b.start, b.count, len(b.points)) for b in blocks]
    assert spans == [("hr", 0, 6, 3), ("hr", 40, 1, 1), ("hr", 200, 1, 1), ("ir", 0, 1, 1)]
    many = [point(i * 2, "float32") for i in range(100)]  # 200 registers in a row
    assert [b.count for b in plan_blocks(many, max_gap=0)] == [124, 76]
