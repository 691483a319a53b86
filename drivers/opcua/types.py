"""OPC UA built-in types <-> the data types a Linewise tag declares."""

from __future__ import annotations

from asyncua import ua

from drivers.values import DataType

VARIANT_TO_TYPE: dict[ua.VariantType, DataType] = {
    ua.VariantType.Boolean: DataType.BOOL,
    ua.VariantType.SByte: DataType.INT16,
    ua.VariantType.Byte: DataType.UINT16,
    ua.VariantType.Int16: DataType.INT16,
    ua.VariantType.UInt16: DataType.UINT16,
    ua.VariantType.Int32: DataType.INT32,
    ua.VariantType.UInt32: DataType.UINT32,
    ua.VariantType.Int64: DataType.INT64,
    ua.VariantType.UInt64: DataType.UINT64,
    ua.VariantType.Float: DataType.FLOAT32,
    ua.VariantType.Double: DataType.FLOAT64,
    ua.VariantType.String: DataType.STRING,
}


def tag_type_for(data_type: ua.NodeId) -> DataType | None:
    """The tag data type for a node's DataType, or None for types Linewise has no equivalent of."""
    try:
        return VARIANT_TO_TYPE.get(ua.datatype_to_varianttype(data_type))
    except Exception:  # a structure or a server-specific type
        return None
