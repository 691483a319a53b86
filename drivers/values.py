"""Data types a tag can declare, and conversions shared by the drivers."""

from __future__ import annotations

import enum
import math
from typing import Any


class DataType(enum.StrEnum):
    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"

    @property
    def is_numeric(self) -> bool:
        return self not in (DataType.BOOL, DataType.STRING)

    @property
    def is_integer(self) -> bool:
        return self in _INT_RANGES


_INT_RANGES = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
}


def coerce(value: Any, data_type: DataType) -> Any:
    """Convert a value to the Python type of `data_type`, refusing what cannot fit.

    Raises ValueError with a message naming the value and the type.
    """
    if data_type is DataType.BOOL:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "on"):
                return True
            if lowered in ("0", "false", "off"):
                return False
            raise ValueError(f"{value!r} is not a boolean")
        return bool(value)
    if data_type is DataType.STRING:
        return str(value)
    if data_type.is_integer and (whole := _exact_int(value)) is not None:  # 64-bit counters exceed a float
        low, high = _INT_RANGES[data_type]
        if not low <= whole <= high:
            raise ValueError(f"{value!r} does not fit in {data_type} ({low}..{high})")
        return whole
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    if data_type.is_integer:
        low, high = _INT_RANGES[data_type]
        if number != int(number):
            raise ValueError(f"{value!r} is not a whole number ({data_type} expected)")
        if not low <= number <= high:
            raise ValueError(f"{value!r} does not fit in {data_type} ({low}..{high})")
        return int(number)
    return number


def _exact_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None
