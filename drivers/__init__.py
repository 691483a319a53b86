"""Protocol drivers: asyncio, no Qt. The only package that imports asyncua and pymodbus."""
