"""Setting up a secure, authenticated OPC UA client before `connect()`.

Kept apart from the data path in driver.py: this is where endpoints are discovered, the
server certificate is checked against the site's PKI store, Linewise's own certificate is
created on first use, and the user identity is attached. Errors are phrased for a
technician: what is wrong and where to fix it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from asyncua import Client, ua
from cryptography import x509

from drivers.model import DriverError, TrustError
from drivers.opcua.pki import PkiStore, certificate_info, load_certificate
from drivers.opcua.security import POLICY_CLASSES, choose_endpoint, describe, policy_name
from drivers.opcua.settings import OpcUaSettings

APPLICATION_NAME = "Linewise HMI"
APPLICATION_URI = f"urn:{socket.gethostname()}:linewise:hmi"
ASYNCUA_PROBE_S = 3600.0

_AUTH_REFUSED = {"BadUserAccessDenied", "BadIdentityTokenInvalid", "BadIdentityTokenRejected"}
_CLIENT_CERT_REFUSED = {"BadCertificateUntrusted", "BadSecurityChecksFailed", "BadCertificateInvalid",
                        "BadCertificateUriInvalid", "BadCertificateUseNotAllowed"}


def ensure_application_certificate(pki_dir: Path) -> Path:
    """Linewise's client certificate in this PKI folder, made on first use: the file a server must trust."""
    cert_path, _key_path = PkiStore(pki_dir).ensure_own_certificate(APPLICATION_URI, APPLICATION_NAME)
    return cert_path


def new_client(settings: OpcUaSettings) -> Client:
    # asyncua still reports a closed transport at once; its timed probe is replaced by the driver's
    # liveness watch, which does not call a busy server lost (see OpcUaDriver._watch_liveness).
    client = Client(settings.url, timeout=settings.timeout_s, watchdog_intervall=ASYNCUA_PROBE_S)
    client.name = client.description = APPLICATION_NAME
    client.application_uri = APPLICATION_URI
    client.product_uri = "urn:linewise"
    client.session_timeout = 60_000  # ms; servers cap long timeouts and warn about it
    return client


async def secure(client: Client, settings: OpcUaSettings) -> str:
    """Choose the endpoint and set up security; returns e.g. 'Basic256Sha256/SignAndEncrypt'."""
    if settings.security_mode == "None":
        return "None/None"
    endpoints = await client.connect_and_get_server_endpoints()
    endpoint = choose_endpoint(endpoints, settings)
    if endpoint.SecurityMode == ua.MessageSecurityMode.None_:
        return describe(endpoint)
    pki = PkiStore(settings.pki_dir)
    server_cert = load_certificate(_first_certificate(endpoint.ServerCertificate))
    require_trusted(pki, server_cert)
    cert_path, key_path = pki.ensure_own_certificate(APPLICATION_URI, APPLICATION_NAME)
    await client.set_security(POLICY_CLASSES[policy_name(endpoint)], str(cert_path), str(key_path),
                              server_certificate=_first_certificate(endpoint.ServerCertificate),
                              mode=endpoint.SecurityMode)

    async def same_certificate(cert: x509.Certificate, _description: ua.ApplicationDescription) -> None:
        # The session must be with the server whose certificate we checked at discovery.
        require_trusted(pki, cert)

    client.certificate_validator = same_certificate
    return describe(endpoint)


async def authenticate(client: Client, settings: OpcUaSettings) -> None:
    if settings.username is not None and settings.password_env is not None:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise DriverError(f"the password of OPC UA user {settings.username!r} is read from the environment "
                              f"variable {settings.password_env}, which is not set")
        client.set_user(settings.username)
        client.set_password(password)
    elif settings.user_certificate is not None and settings.user_private_key is not None:
        await client.load_client_certificate(str(settings.user_certificate))
        await client.load_private_key(str(settings.user_private_key))


def require_trusted(pki: PkiStore, cert: x509.Certificate) -> None:
    info = certificate_info(cert)
    if pki.is_trusted(cert):
        problem = info.validity_problem()
        if problem:
            raise TrustError(f"the server certificate {info.subject} is trusted but {problem}")
        return
    rejected = pki.reject(cert)
    raise TrustError(f"the server certificate is not trusted: {info.subject}, thumbprint {info.thumbprint}. "
                     f"It was stored in {rejected.path}; trust it in the Connections window or with "
                     f"`linewise pki trust --site <site folder> {info.thumbprint[:12]}`",
                     certificate={"subject": info.subject, "issuer": info.issuer, "thumbprint": info.thumbprint,
                                  "valid_from": f"{info.not_before:%Y-%m-%d %H:%M} UTC",
                                  "valid_to": f"{info.not_after:%Y-%m-%d %H:%M} UTC",
                                  "application_uri": info.application_uri or "-",
                                  "validity": info.validity_problem() or "valid"})


def explain_refusal(exc: ua.UaStatusCodeError, settings: OpcUaSettings) -> DriverError:
    """Turn a refused session into a message a technician can act on."""
    name = ua.StatusCode(exc.code).name
    if name in _AUTH_REFUSED:
        who = settings.username or (settings.user_certificate.name if settings.user_certificate else "anonymous")
        return DriverError(f"the server refused the user {who!r} ({name}): check the user name, the password in "
                           f"{settings.password_env or 'the environment'}, or the user's rights on the server")
    if name in _CLIENT_CERT_REFUSED:
        cert = PkiStore(settings.pki_dir).own_certificate_path
        return DriverError(f"the server does not accept Linewise's certificate ({name}): trust {cert} on the "
                           "server (most servers keep it in their rejected folder until an administrator does)")
    return DriverError(f"the server refused the session: {name}")


def _first_certificate(der: bytes) -> bytes:
    """A server may send its certificate chain; the first DER structure is its own certificate."""
    length = int.from_bytes(der[2:4], "big") + 4 if len(der) > 4 and der[1] == 0x82 else len(der)
    return der[:length]
