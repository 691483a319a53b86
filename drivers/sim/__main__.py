"""Child-process entry of the demo plant: ``python -m drivers.sim --opcua-port N --modbus-port M``.

The parent learns the endpoints from exactly one stdout line, printed once both servers listen::

    LINEWISE-DEMO-READY {"opcua_url": "...", "modbus_host": "127.0.0.1", "modbus_port": M,
                         "opcua_certificate": "<pki>/own/certs/...der" or null}

The plant runs until SIGTERM/SIGINT or until its stdin reaches end-of-file. The latter ties its
life to the parent's: when the parent dies, even by SIGKILL, the pipe closes and the plant shuts
down cleanly instead of lingering on the ports. (Stdin that is not a pipe, socket or terminal,
such as /dev/null, is not watched, since it would end the plant at once.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import stat
import sys
import threading
from pathlib import Path

from drivers.sim.plant import DemoPlant

READY_PREFIX = "LINEWISE-DEMO-READY"


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0..65535 (0 = pick a free one), got {text}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.sim",
        description="Linewise demo plant (tank + pump) over OPC UA and Modbus TCP.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    add("--opcua-port", type=_port, default=4840, help="OPC UA port, 0 = any free (default 4840)")
    add("--modbus-port", type=_port, default=5020, help="Modbus TCP port, 0 = any free (default 5020)")
    add("--pki", type=Path, metavar="DIR",
        help="secure OPC UA with this PKI folder (own/, trusted/, rejected/): SignAndEncrypt only, and only "
             "clients whose certificate is in trusted/ (default: unsecured, None policy)")
    add("--trust-client", type=Path, action="append", default=[], metavar="CERT",
        help="put this client certificate in the plant's trusted/ folder first (repeatable)")
    add("--dt", type=_positive_float, default=0.1, help="simulation step in seconds (default 0.1)")
    add("--verbose", action="store_true", help="log at INFO level, including asyncua and pymodbus")
    return parser.parse_args(argv)


def configure_logging(verbose: bool) -> None:
    """Log to stderr (stdout carries the READY line); the protocol libraries are chatty at INFO."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in ("asyncua", "pymodbus"):
        logging.getLogger(name).setLevel(level)


def _stdin_is_watchable() -> bool:
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or (stat.S_ISCHR(mode) and os.isatty(0))


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` when stdin reaches EOF.

    A blocking reader thread rather than ``loop.connect_read_pipe``: the latter makes the file
    description non-blocking, which would leak into a terminal shared with the user's shell.
    """

    def read_until_eof() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=read_until_eof, name="stdin-eof-watch", daemon=True).start()


async def serve(args: argparse.Namespace) -> int:
    plant = DemoPlant(host=args.host, opcua_port=args.opcua_port, modbus_port=args.modbus_port, dt=args.dt,
                      pki_dir=args.pki, trusted_clients=args.trust_client)
    try:
        await plant.start()
    except OSError as exc:
        print(f"linewise demo plant: {exc}", file=sys.stderr, flush=True)
        return 1
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    try:
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
        if _stdin_is_watchable():
            _watch_stdin(loop, stop)
        certificate = plant.opcua_certificate
        ready = {"opcua_url": plant.opcua_url, "modbus_host": plant.host, "modbus_port": plant.modbus_port,
                 "opcua_certificate": None if certificate is None else str(certificate)}
        sys.stdout.write(f"{READY_PREFIX} {json.dumps(ready)}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await plant.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.verbose)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
