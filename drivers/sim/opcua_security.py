"""Security of the demo plant's OPC UA server, set up as a well-run PLC would be.

SignAndEncrypt endpoints only, with the three current policies; the plant's own certificate is
made on first start and kept in its PKI folder (own/, trusted/, rejected/, as the client's). A
client certificate must be in trusted/: an unknown one is refused with BadCertificateUntrusted
and kept in rejected/ for an administrator, so the demo shows both halves of the exchange.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.crypto.permission_rules import User, UserRole
from cryptography import x509

from drivers.opcua.pki import PkiStore, load_certificate

SECURE_POLICIES = [
    ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
    ua.SecurityPolicyType.Aes128Sha256RsaOaep_SignAndEncrypt,
]


class TrustedClients:
    """asyncua certificate validator: the client's certificate must be in the plant's trusted/ folder.

    The folder is read on every new secure channel, so a certificate an administrator moves
    there is accepted from the next attempt on, without restarting the plant."""

    def __init__(self, pki: PkiStore) -> None:
        self.pki = pki

    async def __call__(self, cert: x509.Certificate, _description: ua.ApplicationDescription) -> None:
        if not self.pki.is_trusted(cert):
            self.pki.reject(cert)
            raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise ServiceError(ua.StatusCodes.BadCertificateTimeInvalid)


class AnonymousOperators:
    """asyncua user manager: an anonymous session on a trusted, encrypted channel may read and write.

    The trust is in the client certificate; asyncua's default would let Anonymous read nothing on a
    secured endpoint. No admin role: nobody may change the address space."""

    def get_user(self, iserver: object, username: str | None = None, password: str | None = None,
                 certificate: object = None) -> User | None:
        return None if username is not None else User(role=UserRole.User, name="operator")


def plant_pki(folder: Path, trusted_clients: list[Path]) -> PkiStore:
    """The plant's PKI store, with the given client certificates (files) trusted."""
    pki = PkiStore(folder)
    pki.ensure_folders()
    for path in trusted_clients:
        pki.trust_certificate(load_certificate(path))
    return pki
