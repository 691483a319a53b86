"""Settings of one Modbus connection, validated when the site loads.

Transports, by URL:
- `modbus://host:502` (or `modbus+tcp://`): Modbus TCP.
- `modbus+rtu:///dev/ttyUSB0` (or `modbus+rtu://COM3` on Windows): RTU on a serial line, with
  options baudrate (19200), parity (N, E, O; default E as the Modbus spec says), stopbits, bytesize.
- `modbus+rtutcp://host:4001`: RTU frames over TCP (a serial device server in transparent mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.modbus.address import DEFAULT_SCAN
from drivers.plugins import AddressError
from drivers.supervisor import Backoff, option

_KNOWN = {"timeout_s", "poll_interval_ms", "max_gap", "reconnect_max_s", "scan_classes", "verify_writes",
          "retries", "inter_frame_ms"}
_SERIAL = {"baudrate", "parity", "stopbits", "bytesize"}
URL_SCHEMES = ("modbus", "modbus+tcp", "modbus+rtu", "modbus+rtutcp")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)


@dataclass(frozen=True)
class SerialLine:
    device: str
    baudrate: int = 19200
    parity: str = "E"
    stopbits: int = 1
    bytesize: int = 8

    def describe(self) -> str:
        return f"{self.device} {self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True)
class ModbusSettings:
    host: str
    port: int = 502
    transport: str = "tcp"  # "tcp", "rtu" (serial line) or "rtutcp" (RTU frames over TCP)
    serial: SerialLine | None = None
    retries: int = 0  # a request that gets no answer is sent again this many times
    inter_frame_s: float = 0.0  # quiet time after each answer, for devices that need it
    timeout_s: float = 1.0
    poll_interval_s: float = 0.5
    max_gap: int = 8  # unused registers a block read may span to save a request
    backoff: Backoff = field(default_factory=Backoff)
    scan_classes_s: dict[str, float] = field(default_factory=dict)  # name -> period; "default" = poll_interval
    verify_writes: bool = False  # read back every write and refuse it if the device holds something else

    @property
    def exclusive_resource(self) -> str | None:
        """What no other connection may use at the same time: the serial port of an RTU line."""
        return self.serial.device if self.serial is not None else None

    def scan_period_s(self, scan_class: str) -> float:
        return self.scan_classes_s.get(scan_class, self.poll_interval_s)


def modbus_settings(url: str, options: Mapping[str, Any], site_folder: Path | None = None) -> ModbusSettings:
    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES:
        raise AddressError(f"Modbus connection URL {url!r} must look like modbus://host:502, "
                           "modbus+rtu:///dev/ttyUSB0 or modbus+rtutcp://host:4001")
    transport = {"modbus+rtu": "rtu", "modbus+rtutcp": "rtutcp"}.get(parts.scheme, "tcp")
    known = _KNOWN | (_SERIAL if transport == "rtu" else set())
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"unknown Modbus option(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(sorted(known))})")
    serial = _serial_line(parts.netloc + parts.path, options) if transport == "rtu" else None
    if serial is None and not parts.hostname:
        raise AddressError(f"Modbus connection URL {url!r} has no host")
    try:
        port = parts.port or 502
    except ValueError:
        raise AddressError(f"Modbus connection URL {url!r} has an invalid port") from None
    opts = dict(options)
    poll_interval_s = option(opts, "poll_interval_ms", 500, low=10, high=3_600_000) / 1000
    return ModbusSettings(
        host=parts.hostname or "",
        port=port,
        transport=transport,
        serial=serial,
        retries=int(option(opts, "retries", 1 if transport == "rtu" else 0, low=0, high=5)),
        inter_frame_s=option(opts, "inter_frame_ms", 0, low=0, high=1000) / 1000,
        timeout_s=option(opts, "timeout_s", 1.0, low=0.05, high=60),
        poll_interval_s=poll_interval_s,
        max_gap=int(option(opts, "max_gap", 8, low=0, high=100)),
        backoff=Backoff(maximum_s=option(opts, "reconnect_max_s", 15.0, low=0.5, high=600)),
        scan_classes_s=_scan_classes(opts.get("scan_classes", {})) | {DEFAULT_SCAN: poll_interval_s},
        verify_writes=_flag(opts, "verify_writes"),
    )


def _scan_classes(value: Any) -> dict[str, float]:
    """`scan_classes: {fast: 100, slow: 10000}`: periods in ms per class name."""
    if not isinstance(value, Mapping):
        raise ValueError(f"option 'scan_classes' must map class names to periods in ms, e.g. {{fast: 100}}, "
                         f"not {value!r}")
    if DEFAULT_SCAN in value:
        raise ValueError(f"scan class {DEFAULT_SCAN!r} is poll_interval_ms; give the other classes other names")
    return {str(name): option(dict(value), name, 0, low=10, high=3_600_000) / 1000 for name in value}


def _flag(options: Mapping[str, Any], key: str) -> bool:
    value = options.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"option {key!r} must be true or false, not {value!r}")
    return value


def _serial_line(device: str, options: Mapping[str, Any]) -> SerialLine:
    if not device:
        raise AddressError("a Modbus RTU URL names the serial port: modbus+rtu:///dev/ttyUSB0 or modbus+rtu://COM3")
    baudrate = options.get("baudrate", 19200)
    if baudrate not in BAUDRATES:
        raise ValueError(f"option 'baudrate' must be one of {', '.join(map(str, BAUDRATES))}, not {baudrate!r}")
    parity = str(options.get("parity", "E")).upper()
    if parity not in ("N", "E", "O"):
        raise ValueError(f"option 'parity' must be N, E or O, not {options.get('parity')!r}")
    stopbits, bytesize = options.get("stopbits", 1), options.get("bytesize", 8)
    if stopbits not in (1, 2) or bytesize not in (7, 8):
        raise ValueError(f"options 'stopbits' (1, 2) and 'bytesize' (7, 8) are wrong: {stopbits!r}, {bytesize!r}")
    return SerialLine(device, int(baudrate), parity, int(stopbits), int(bytesize))
