"""OPC UA client driver (asyncua). `plugin` is importable without asyncua."""
