"""Modbus TCP driver (pymodbus). `plugin` is importable without pymodbus."""
