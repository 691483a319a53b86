"""The runtime: one asyncio loop in its own thread that runs acquisition and storage."""

from hmi.runtime.demo import DemoPlantError, DemoPlantProcess
from hmi.runtime.io_thread import IoThread
from hmi.runtime.runtime import Runtime, default_data_dir

__all__ = ["DemoPlantError", "DemoPlantProcess", "IoThread", "Runtime", "default_data_dir"]
