"""A secured asyncua.Server on a free loopback port, for the OPC UA security tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from cryptography import x509

from drivers.opcua.pki import PkiStore, certificate_info, load_certificate
from tests.support import free_port

NAMESPACE = "urn:linewise:test-secure"


class PasswordUsers:
    """Server-side user manager: named users with passwords, optional anonymous, X.509 users.

    asyncua hands `get_user` the channel's client certificate for anonymous sessions and the
    verified user certificate for X.509 sessions, as DER bytes or a parsed certificate.
    """

    def __init__(self, passwords: dict[str, str], anonymous: bool, certificates: list[x509.Certificate]) -> None:
        self.passwords = passwords
        self.anonymous = anonymous
        self.thumbprints = {certificate_info(c).thumbprint for c in certificates}

    def get_user(self, iserver, username=None, password=None, certificate=None) -> User | None:
        if username is not None:
            return User(role=UserRole.User, name=username) if self.passwords.get(username) == password else None
        if certificate:  # empty on an unsecured channel
            cert = certificate if isinstance(certificate, x509.Certificate) else load_certificate(bytes(certificate))
            if certificate_info(cert).thumbprint in self.thumbprints:
                return User(role=UserRole.User, name="x509")
        # asyncua's default ruleset lets the Anonymous role read nothing on secured endpoints
        return User(role=UserRole.User, name="anonymous") if self.anonymous else None


@dataclass
class SecurePeer:
    url: str
    certificate: x509.Certificate
    value_node: str


@contextlib.asynccontextmanager
async def secure_server(folder: Path, policies: list[ua.SecurityPolicyType], *, passwords: dict[str, str] | None = None,
                        anonymous: bool = True, user_certs: list[x509.Certificate] | None = None
                        ) -> AsyncIterator[SecurePeer]:
    pki = PkiStore(folder / "server-pki")
    cert_path, key_path = pki.ensure_own_certificate("urn:linewise:test-secure-server", "Secure test server")
    users = PasswordUsers(passwords or {}, anonymous, user_certs or [])
    server = Server(user_manager=users)
    await server.init()
    port = free_port()
    url = f"opc.tcp://127.0.0.1:{port}"
    server.set_endpoint(url)
    await server.set_application_uri("urn:linewise:test-secure-server")
    server.set_security_policy(policies)
    tokens = [ua.UserNameIdentityToken, ua.X509IdentityToken] + ([ua.AnonymousIdentityToken] if anonymous else [])
    server.set_identity_tokens(tokens)
    await server.load_certificate(str(cert_path))
    await server.load_private_key(str(key_path))
    index = await server.register_namespace(NAMESPACE)
    obj = await server.nodes.objects.add_object(ua.NodeId("Secure", index), "Secure")
    var = await obj.add_variable(ua.NodeId("Secure.Value", index), "Value", 41.5)
    await var.set_writable()
    array = await obj.add_variable(ua.NodeId("Secure.Array", index), "Array", [1.0, 2.0, 3.0])
    await array.set_writable()
    small = await obj.add_variable(ua.NodeId("Secure.Int16", index), "Int16", ua.Variant(0, ua.VariantType.Int16))
    await small.set_writable()
    ramp = await obj.add_variable(ua.NodeId("Secure.Ramp", index), "Ramp", 0.0)
    await ramp.set_writable()

    async def scale(parent: ua.NodeId, x: ua.Variant, factor: ua.Variant) -> list[ua.Variant]:
        if x.VariantType != ua.VariantType.Double or factor.VariantType != ua.VariantType.Int32:
            raise ua.UaStatusCodeError(ua.StatusCodes.BadTypeMismatch)
        return [ua.Variant(x.Value * factor.Value, ua.VariantType.Double)]

    x_arg = ua.Argument(Name="x", DataType=ua.NodeId(ua.ObjectIds.Double), ValueRank=-1)
    factor_arg = ua.Argument(Name="factor", DataType=ua.NodeId(ua.ObjectIds.Int32), ValueRank=-1)
    out_arg = ua.Argument(Name="result", DataType=ua.NodeId(ua.ObjectIds.Double), ValueRank=-1)
    await obj.add_method(ua.NodeId("Secure.Scale", index), "Scale", scale, [x_arg, factor_arg], [out_arg])
    async with server:
        yield SecurePeer(url, load_certificate(cert_path), f"nsu={NAMESPACE};s=Secure.Value")
