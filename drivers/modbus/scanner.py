"""The register scanner's views: a range of registers decoded every way at once, so a technician
can see where a value lives and in which order its bytes lie (the manual is often wrong)."""

from __future__ import annotations

import math
import struct

from drivers.modbus.codec import registers_to_bytes

MAX_SCAN = 125  # one read
# (heading, registers, struct format, byte order)
VIEWS: list[tuple[str, int, str, str]] = [
    ("int16", 1, "h", "ABCD"),
    ("float32 ABCD", 2, "f", "ABCD"), ("float32 CDAB", 2, "f", "CDAB"),
    ("float32 BADC", 2, "f", "BADC"), ("float32 DCBA", 2, "f", "DCBA"),
    ("int32 ABCD", 2, "i", "ABCD"), ("int32 CDAB", 2, "i", "CDAB"),
    ("uint32 ABCD", 2, "I", "ABCD"), ("uint32 CDAB", 2, "I", "CDAB"),
    ("float64 ABCD", 4, "d", "ABCD"), ("float64 DCBA", 4, "d", "DCBA"),
]
HEADINGS = ["Address", "Hex", "uint16", *(v[0] for v in VIEWS), "Bits 15..0", "ASCII"]


def decode_views(start: int, registers: list[int]) -> list[list[str]]:
    """One row per register: the value starting at that register in every view ('' where the
    range ends first). Floats that are not finite or absurdly large are shown as such, since a
    misaligned read usually looks like that."""
    rows = []
    for i, word in enumerate(registers):
        row = [str(start + i), f"{word:04X}", str(word)]
        for _heading, size, fmt, order in VIEWS:
            words = registers[i:i + size]
            row.append(_format(struct.unpack(">" + fmt, registers_to_bytes(words, order))[0])
                       if len(words) == size else "")
        row.append(f"{word >> 8:08b} {word & 0xFF:08b}")
        row.append("".join(chr(b) if 32 <= b < 127 else "·" for b in word.to_bytes(2, "big")))
        rows.append(row)
    return rows


def _format(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"
