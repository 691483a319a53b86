"""Coalescing tags into block reads: the fewest requests that cover every point."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from drivers.modbus.address import ModbusAddress, Table
from drivers.model import Point

MAX_REGISTERS = 125  # Modbus limit for function codes 3 and 4
MAX_BITS = 2000  # Modbus limit for function codes 1 and 2


@dataclass
class Block:
    unit: int
    table: Table
    start: int
    count: int
    points: list[Point] = field(default_factory=list)

    def slice_for(self, address: ModbusAddress) -> slice:
        first = address.offset - self.start
        return slice(first, first + address.count)


def plan_blocks(points: Iterable[Point], max_gap: int) -> list[Block]:
    """Group points by (unit, table) and merge neighbours closer than `max_gap`."""
    by_area: dict[tuple[int, Table], list[Point]] = {}
    for point in points:
        address: ModbusAddress = point.address
        by_area.setdefault((address.unit, address.table), []).append(point)
    blocks: list[Block] = []
    for (unit, table), members in sorted(by_area.items()):
        limit = MAX_BITS if table.is_bits else MAX_REGISTERS
        members.sort(key=lambda p: p.address.offset)
        current: Block | None = None
        for point in members:
            address = point.address
            end = address.offset + address.count
            if current is not None:
                gap = address.offset - (current.start + current.count)
                new_count = max(current.count, end - current.start)
                if gap <= max_gap and new_count <= limit:
                    current.count = new_count
                    current.points.append(point)
                    continue
            current = Block(unit, table, address.offset, address.count, [point])
            blocks.append(current)
    return blocks


def split_block(block: Block) -> list[Block]:
    """Two smaller reads covering the block's points: how a refused block (illegal data address)
    is narrowed down to the tag whose register does not exist, instead of failing all of them."""
    members = sorted(block.points, key=lambda p: p.address.offset)
    halves = members[: len(members) // 2], members[len(members) // 2:]
    return [_cover(block, half) for half in halves if half]


def _cover(block: Block, points: list[Point]) -> Block:
    start = min(p.address.offset for p in points)
    end = max(p.address.offset + p.address.count for p in points)
    return Block(block.unit, block.table, start, end - start, list(points))
