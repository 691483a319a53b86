"""The built-in demo plant as a child process (`python -m drivers.sim`).

The plant serves real OPC UA and Modbus TCP on 127.0.0.1. The child watches its stdin
and exits when it closes, so it dies with Linewise even if Linewise is killed.

Given a data folder, the plant is secured and `start` does what a commissioning engineer does
between an HMI and a new PLC: the plant trusts Linewise's certificate and Linewise trusts the
plant's, so the demo runs SignAndEncrypt as a real site should. Both PKI folders live there.
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

from drivers.opcua.pki import PkiStore, load_certificate
from drivers.opcua.session import ensure_application_certificate
from hmi.site import Site

log = logging.getLogger(__name__)

READY_PREFIX = "LINEWISE-DEMO-READY "
OPCUA_CONNECTION = "plant_opcua"  # the demo site's connection names
MODBUS_CONNECTION = "plant_modbus"
DEMO_SITE = Path(__file__).resolve().parents[2] / "resources" / "demo_site"


class DemoPlantError(RuntimeError):
    pass


class DemoPlantProcess:
    def __init__(self, opcua_port: int = 0, modbus_port: int = 0, host: str = "127.0.0.1",
                 data_dir: Path | None = None) -> None:
        """`data_dir`: secure the plant, with Linewise's PKI in data_dir/pki and the plant's in
        data_dir/demo-plant-pki; None: an unsecured plant (the None policy), for tests of other things."""
        self.host = host
        self.opcua_port = opcua_port
        self.modbus_port = modbus_port
        self.client_pki = None if data_dir is None else data_dir / "pki"
        self.plant_pki = None if data_dir is None else data_dir / "demo-plant-pki"
        self.opcua_url = ""
        self.opcua_certificate: Path | None = None  # the plant's, when secured
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "drivers.sim", "--host", self.host,
                   "--opcua-port", str(self.opcua_port), "--modbus-port", str(self.modbus_port)]
        if self.client_pki is not None and self.plant_pki is not None:
            client_cert = ensure_application_certificate(self.client_pki)
            command += ["--pki", str(self.plant_pki), "--trust-client", str(client_cert)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            ready = self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.opcua_url = ready["opcua_url"]
        self.opcua_port = urlsplit(self.opcua_url).port or self.opcua_port
        self.modbus_port = int(ready["modbus_port"])
        certificate = ready.get("opcua_certificate")
        self.opcua_certificate = None if certificate is None else Path(certificate)
        if self.opcua_certificate is not None and self.client_pki is not None:
            PkiStore(self.client_pki).trust_certificate(load_certificate(self.opcua_certificate))
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

    def connection_options(self) -> dict[str, dict[str, str]]:
        """Options the demo site's connections need for this plant: the PKI that trusts it, if secured;
        an unsecured plant must be allowed explicitly (Linewise refuses one by default)."""
        if self.client_pki is None:
            return {OPCUA_CONNECTION: {"security_mode": "None"}}
        return {OPCUA_CONNECTION: {"pki_dir": str(self.client_pki)}}

    def site(self, site: Site) -> Site:
        """The demo site pointed at this plant."""
        return site.with_connections(self.connection_urls(), self.connection_options())

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


def start_demo_plant(site: Site, data_dir: Path) -> tuple[DemoPlantProcess, Site]:
    """Start the secured plant on the demo site's ports (free ones if those are taken); returns it
    and the site pointed at it."""
    urls = {c.name: c.url for c in site.project.connections}
    ports = _port(urls.get(OPCUA_CONNECTION)), _port(urls.get(MODBUS_CONNECTION))
    try:
        plant = DemoPlantProcess(*ports, data_dir=data_dir)
        plant.start()
    except DemoPlantError:
        log.warning("demo ports %d/%d not available; using free ports", *ports)
        plant = DemoPlantProcess(0, 0, data_dir=data_dir)
        plant.start()
    return plant, plant.site(site)


def _port(url: str | None) -> int:
    port = urlsplit(url).port if url else None
    return port or 0
