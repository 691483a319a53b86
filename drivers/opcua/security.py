"""Choosing an endpoint: the most secure one the server offers that the site allows."""

from __future__ import annotations

from asyncua import ua
from asyncua.crypto import security_policies as sp

from drivers.model import DriverError
from drivers.opcua.settings import OpcUaSettings

POLICY_URI_PREFIX = "http://opcfoundation.org/UA/SecurityPolicy#"
# Deprecated policies (Basic128Rsa15, Basic256) are never chosen. Strongest first.
POLICY_CLASSES: dict[str, type[sp.SecurityPolicy]] = {
    "Aes256_Sha256_RsaPss": sp.SecurityPolicyAes256Sha256RsaPss,
    "Basic256Sha256": sp.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": sp.SecurityPolicyAes128Sha256RsaOaep,
}
_POLICY_RANK = {name: len(POLICY_CLASSES) - i for i, name in enumerate(POLICY_CLASSES)}
_MODE_RANK = {ua.MessageSecurityMode.SignAndEncrypt: 2, ua.MessageSecurityMode.Sign: 1, ua.MessageSecurityMode.None_: 0}


def policy_name(endpoint: ua.EndpointDescription) -> str:
    return endpoint.SecurityPolicyUri.removeprefix(POLICY_URI_PREFIX)


def mode_name(mode: ua.MessageSecurityMode) -> str:
    return "None" if mode == ua.MessageSecurityMode.None_ else mode.name


def describe(endpoint: ua.EndpointDescription) -> str:
    return f"{policy_name(endpoint)}/{mode_name(endpoint.SecurityMode)}"


def allowed(endpoint: ua.EndpointDescription, settings: OpcUaSettings) -> bool:
    mode = mode_name(endpoint.SecurityMode)
    policy = policy_name(endpoint)
    if settings.security_mode == "None":
        return mode == "None"
    if mode == "None" or policy not in POLICY_CLASSES:
        return False  # unsecured or deprecated: only with an explicit security_mode None
    if settings.security_mode != "auto" and mode != settings.security_mode:
        return False
    return settings.security_policy in ("auto", policy)


def choose_endpoint(endpoints: list[ua.EndpointDescription], settings: OpcUaSettings) -> ua.EndpointDescription:
    """The most secure allowed endpoint; raises DriverError saying what was offered if none fits."""
    candidates = [e for e in endpoints if allowed(e, settings)]
    if not candidates:
        offered = ", ".join(sorted({describe(e) for e in endpoints})) or "nothing"
        wanted = f"{settings.security_policy}/{settings.security_mode}"
        hint = " (set security_mode: None to allow an unsecured connection)" if offered.endswith("/None") or \
            all(mode_name(e.SecurityMode) == "None" for e in endpoints) else ""
        raise DriverError(f"no endpoint matches the site's security {wanted}: server offers {offered}{hint}")
    return max(candidates, key=lambda e: (_MODE_RANK[e.SecurityMode], _POLICY_RANK.get(policy_name(e), 0),
                                          e.SecurityLevel))
