"""The built-in demo plant as a child process (`python -m drivers.sim`).

The plant serves real OPC UA and Modbus TCP on 127.0.0.1. The child watches its stdin
and exits when it closes, so it dies with Linewise even if Linewise is killed.
"""

from __future__ import annotations

import json
import logging
import selectors
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

READY_PREFIX = "LINEWISE-DEMO-READY "
OPCUA_CONNECTION = "plant_opcua"  # the demo site's connection names
MODBUS_CONNECTION = "plant_modbus"
DEMO_SITE = Path(__file__).resolve().parents[2] / "resources" / "demo_site"


class DemoPlantError(RuntimeError):
    pass


class DemoPlantProcess:
    def __init__(self, opcua_port: int = 0, modbus_port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.opcua_port = opcua_port
        self.modbus_port = modbus_port
        self.opcua_url = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "drivers.sim", "--host", self.host,
                   "--opcua-port", str(self.opcua_port), "--modbus-port", str(self.modbus_port)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            ready = self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.opcua_url = ready["opcua_url"]
        self.opcua_port = urlsplit(self.opcua_url).port or self.opcua_port
        self.modbus_port = int(ready["modbus_port"])
        log.info("demo plant running: %s and modbus://%s:%d", self.opcua_url, self.host, self.modbus_port)

    def _wait_ready(self, timeout: float) -> dict:
        assert self._process is not None
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while (remaining := deadline - time.monotonic()) > 0:
                if not selector.select(remaining):
                    break
                line = self._process.stdout.readline()
                if not line:
                    code = self._process.wait(5)
                    raise DemoPlantError(f"demo plant exited with code {code} before it was ready "
                                         "(see its error above)")
                if line.startswith(READY_PREFIX):
                    return json.loads(line[len(READY_PREFIX):])
        raise DemoPlantError(f"demo plant not ready within {timeout:.0f} s")

    def connection_urls(self) -> dict[str, str]:
        """Where the demo site's connections must point to reach this plant."""
        return {OPCUA_CONNECTION: self.opcua_url, MODBUS_CONNECTION: f"modbus://{self.host}:{self.modbus_port}"}

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()  # EOF on stdin asks the plant to shut down cleanly
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("demo plant did not stop in %.0f s; killing it", timeout)
            process.kill()
            process.wait(5)
