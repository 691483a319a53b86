"""The OPC UA certificate store of a site: `<site>/pki/{own,trusted,rejected}` as OPC UA lays it out.

- `own/certs/client.der` + `own/private/client.pem`: Linewise's application instance certificate,
  generated on first use with the application URI in its SubjectAltName (OPC UA Part 6 §6.2.2).
- `trusted/certs/`: server certificates a technician has accepted.
- `rejected/certs/`: server certificates that were presented but not trusted, kept so a
  technician can inspect and trust them (GUI or `linewise pki trust`).

Certificates are identified by their SHA-1 thumbprint, as OPC UA tools show it. Uses only
`cryptography`, so the CLI and GUI can use it without a connection.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CLIENT_CERT = "client.der"
CLIENT_KEY = "client.pem"


@dataclass(frozen=True)
class CertificateInfo:
    """What a technician needs to decide whether to trust a certificate."""

    subject: str
    issuer: str
    thumbprint: str  # SHA-1, upper-case hex, as OPC UA tools display it
    not_before: dt.datetime
    not_after: dt.datetime
    application_uri: str | None
    path: Path | None = None

    def validity_problem(self, now: dt.datetime | None = None) -> str | None:
        now = now or dt.datetime.now(dt.UTC)
        if now < self.not_before:
            return f"not valid before {self.not_before:%Y-%m-%d %H:%M} UTC"
        if now > self.not_after:
            return f"expired on {self.not_after:%Y-%m-%d %H:%M} UTC"
        return None

    def describe(self) -> str:
        return (f"subject: {self.subject}\nissuer: {self.issuer}\nthumbprint (SHA-1): {self.thumbprint}\n"
                f"valid: {self.not_before:%Y-%m-%d} .. {self.not_after:%Y-%m-%d}\n"
                f"application URI: {self.application_uri or '-'}")


def certificate_info(cert: x509.Certificate, path: Path | None = None) -> CertificateInfo:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # OPC UA defines thumbprints as SHA-1
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        application_uri=uris[0] if uris else None,
        path=path,
    )


def load_certificate(data_or_path: bytes | Path) -> x509.Certificate:
    data = data_or_path.read_bytes() if isinstance(data_or_path, Path) else data_or_path
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


class PkiStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.own = root / "own"
        self.trusted = root / "trusted" / "certs"
        self.rejected = root / "rejected" / "certs"

    def ensure_folders(self) -> None:
        for folder in (self.own / "certs", self.own / "private", self.trusted, self.rejected):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.own / "private", 0o700)

    # -- our own application instance certificate -----------------------------------------

    @property
    def own_certificate_path(self) -> Path:
        return self.own / "certs" / CLIENT_CERT

    @property
    def own_key_path(self) -> Path:
        return self.own / "private" / CLIENT_KEY

    def ensure_own_certificate(self, application_uri: str, application_name: str,
                               days: int = 5 * 365) -> tuple[Path, Path]:
        """Create this application's instance certificate and key on first use; reuse them afterwards.

        The client uses it; the demo plant and test servers make theirs the same way."""
        self.ensure_folders()
        cert_path, key_path = self.own_certificate_path, self.own_key_path
        if cert_path.exists() and key_path.exists():
            return cert_path, key_path
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        hostname = socket.gethostname()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{application_name}@{hostname}"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Linewise")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate a PLC clock slightly behind
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(application_uri),
                                                        x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=True,
                                         data_encipherment=True, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        os.chmod(key_path, 0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        return cert_path, key_path

    # -- peers --------------------------------------------------------------------------

    def is_trusted(self, cert: x509.Certificate) -> bool:
        thumbprint = certificate_info(cert).thumbprint
        return any(info.thumbprint == thumbprint for info in self._infos(self.trusted))

    def reject(self, cert: x509.Certificate) -> CertificateInfo:
        """Keep an untrusted certificate in rejected/ for a technician to inspect and trust."""
        self.ensure_folders()
        info = certificate_info(cert)
        path = self.rejected / _file_name(cert, info)
        if not path.exists():
            path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        return certificate_info(cert, path)

    def trust(self, thumbprint: str) -> CertificateInfo:
        """Move a rejected certificate (by thumbprint, or a unique prefix of it) to trusted/."""
        info = self._find(self.rejected, thumbprint)
        self.ensure_folders()
        target = self.trusted / info.path.name  # type: ignore[union-attr]
        shutil.move(str(info.path), target)
        return certificate_info(load_certificate(target), target)

    def trust_certificate(self, cert: x509.Certificate) -> CertificateInfo:
        """Trust a certificate given directly (from a file a technician received)."""
        self.ensure_folders()
        info = certificate_info(cert)
        path = self.trusted / _file_name(cert, info)
        path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        for rejected in self._infos(self.rejected):
            if rejected.thumbprint == info.thumbprint and rejected.path is not None:
                rejected.path.unlink()
        return certificate_info(cert, path)

    def untrust(self, thumbprint: str) -> CertificateInfo:
        info = self._find(self.trusted, thumbprint)
        self.ensure_folders()
        target = self.rejected / info.path.name  # type: ignore[union-attr]
        shutil.move(str(info.path), target)
        return info

    def trusted_certificates(self) -> list[CertificateInfo]:
        return self._infos(self.trusted)

    def rejected_certificates(self) -> list[CertificateInfo]:
        return self._infos(self.rejected)

    def _find(self, folder: Path, thumbprint: str) -> CertificateInfo:
        wanted = thumbprint.replace(":", "").strip().upper()
        matches = [i for i in self._infos(folder) if wanted and i.thumbprint.startswith(wanted)]
        where = folder.relative_to(self.root)
        if not matches:
            raise KeyError(f"no certificate with thumbprint {thumbprint!r} in {where}")
        if len(matches) > 1:
            raise KeyError(f"thumbprint {thumbprint!r} matches {len(matches)} certificates in {where}; give more of it")
        return matches[0]

    @staticmethod
    def _infos(folder: Path) -> list[CertificateInfo]:
        if not folder.is_dir():
            return []
        infos = []
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".der", ".pem", ".crt", ".cer"):
                try:
                    infos.append(certificate_info(load_certificate(path), path))
                except ValueError:
                    continue  # not a certificate: ignore, as OPC UA stacks do
        return infos


def _file_name(cert: x509.Certificate, info: CertificateInfo) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else "certificate"
    safe = re.sub(r"[^A-Za-z0-9._@-]+", "_", common_name)[:60]
    return f"{safe} [{info.thumbprint}].der"
