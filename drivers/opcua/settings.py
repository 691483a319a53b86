"""Settings of one OPC UA connection, validated when the site loads.

Secure by default: with `security_mode: auto` the driver picks the most secure endpoint the
server offers among those the site allows, and refuses an unsecured one unless the site
says `security_mode: None` explicitly. Passwords never live in the site file: name an
environment variable with `password_env`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.plugins import AddressError
from drivers.supervisor import Backoff, option

MODES = ("auto", "None", "Sign", "SignAndEncrypt")
POLICIES = ("auto", "Aes256_Sha256_RsaPss", "Basic256Sha256", "Aes128_Sha256_RsaOaep")
_KNOWN = {"publishing_interval_ms", "sampling_interval_ms", "timeout_s", "watchdog_s", "reconnect_max_s",
          "security_mode", "security_policy", "username", "password_env", "user_certificate", "user_private_key",
          "conditions", "condition_notifier", "pki_dir"}


@dataclass(frozen=True)
class OpcUaSettings:
    url: str
    publishing_interval_ms: float = 250.0
    sampling_interval_ms: float = 100.0
    timeout_s: float = 4.0
    watchdog_s: float = 1.0  # a silent server is probed after this long, with this timeout
    backoff: Backoff = field(default_factory=Backoff)
    security_mode: str = "auto"
    security_policy: str = "auto"
    pki_dir: Path = Path("pki")
    username: str | None = None
    password_env: str | None = None
    user_certificate: Path | None = None
    user_private_key: Path | None = None
    conditions: bool = False  # subscribe to Alarms & Conditions events
    condition_notifier: str = "i=2253"  # the Server object; some servers use an area object


def opcua_settings(url: str, options: Mapping[str, Any], site_folder: Path) -> OpcUaSettings:
    parts = urlsplit(url)
    if parts.scheme != "opc.tcp" or not parts.hostname:
        raise AddressError(f"OPC UA endpoint URL {url!r} must look like opc.tcp://host:4840")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise AddressError(f"OPC UA endpoint URL {url!r} has an invalid port") from None
    if "password" in options:
        raise ValueError("passwords are not kept in site files: put it in an environment variable and name "
                         "that variable with 'password_env'")
    unknown = set(options) - _KNOWN
    if unknown:
        raise ValueError(f"unknown OPC UA option(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_KNOWN))})")
    opts = dict(options)
    mode = str(opts.get("security_mode", "auto"))
    policy = str(opts.get("security_policy", "auto"))
    if mode not in MODES:
        raise ValueError(f"option 'security_mode' must be one of {', '.join(MODES)}, not {mode!r}")
    if policy not in POLICIES:
        raise ValueError(f"option 'security_policy' must be one of {', '.join(POLICIES)}, not {policy!r}")
    if mode == "None" and policy != "auto":
        raise ValueError(f"security_policy {policy} needs security_mode Sign or SignAndEncrypt, not None")
    username, password_env = opts.get("username"), opts.get("password_env")
    if (username is None) != (password_env is None):
        raise ValueError("give both 'username' and 'password_env' (the environment variable holding the password)")
    user_cert, user_key = (_site_file(site_folder, opts, key) for key in ("user_certificate", "user_private_key"))
    if (user_cert is None) != (user_key is None):
        raise ValueError("X.509 user authentication needs both 'user_certificate' and 'user_private_key'")
    if user_cert is not None and username is not None:
        raise ValueError("choose one user authentication: username/password_env or user_certificate/user_private_key")
    return OpcUaSettings(
        url=url,
        publishing_interval_ms=option(opts, "publishing_interval_ms", 250, low=10, high=600_000),
        sampling_interval_ms=option(opts, "sampling_interval_ms", 100, low=0, high=600_000),
        timeout_s=option(opts, "timeout_s", 4.0, low=0.1, high=120),
        watchdog_s=option(opts, "watchdog_s", 1.0, low=0.1, high=60),
        backoff=Backoff(maximum_s=option(opts, "reconnect_max_s", 15.0, low=0.5, high=600)),
        security_mode=mode,
        security_policy=policy,
        pki_dir=(site_folder / Path(str(opts.get("pki_dir", "pki"))).expanduser()).resolve(),
        username=None if username is None else str(username),
        password_env=None if password_env is None else str(password_env),
        user_certificate=user_cert,
        user_private_key=user_key,
        conditions=bool(opts.get("conditions", False)),
        condition_notifier=str(opts.get("condition_notifier", "i=2253")),
    )


def _site_file(site_folder: Path, options: Mapping[str, Any], key: str) -> Path | None:
    value = options.get(key)
    if value is None:
        return None
    path = (site_folder / str(value)).resolve()
    if not path.is_file():
        raise ValueError(f"option {key!r}: file {path} does not exist")
    return path
