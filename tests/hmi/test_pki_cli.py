"""`linewise pki`: what a technician runs to trust a PLC's certificate."""

from __future__ import annotations

import pytest

from drivers.opcua.pki import PkiStore, certificate_info, load_certificate
from hmi.cli import main


def rejected_server_cert(tmp_path):
    server = PkiStore(tmp_path / "server")
    cert_path, _ = server.ensure_own_certificate("urn:plc:1", "PLC-1")
    cert = load_certificate(cert_path)
    site = tmp_path / "site"
    site.mkdir()
    PkiStore(site / "pki").reject(cert)
    return site, certificate_info(cert)


def test_list_trust_untrust(tmp_path, capsys):
    site, info = rejected_server_cert(tmp_path)
    assert main(["pki", "list", "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert "rejected:" in out
    assert info.thumbprint in out
    assert "not created yet" in out

    assert main(["pki", "trust", "--site", str(site), info.thumbprint[:10].lower()]) == 0
    assert "trusted:" in capsys.readouterr().out
    store = PkiStore(site / "pki")
    assert [i.thumbprint for i in store.trusted_certificates()] == [info.thumbprint]
    assert store.rejected_certificates() == []

    assert main(["pki", "untrust", "--site", str(site), info.thumbprint]) == 0
    assert [i.thumbprint for i in store.rejected_certificates()] == [info.thumbprint]


def test_unknown_thumbprint_is_a_clear_error(tmp_path, capsys):
    site, _ = rejected_server_cert(tmp_path)
    assert main(["pki", "trust", "--site", str(site), "ABCDEF"]) == 1
    assert "no certificate with thumbprint 'ABCDEF' in rejected/certs" in capsys.readouterr().err


def test_trust_from_a_file(tmp_path, capsys):
    other = PkiStore(tmp_path / "other")
    cert_path, _ = other.ensure_own_certificate("urn:plc:2", "PLC-2")
    site = tmp_path / "site"
    site.mkdir()
    assert main(["pki", "trust", "--site", str(site), "--file", str(cert_path)]) == 0
    assert PkiStore(site / "pki").is_trusted(load_certificate(cert_path))


def test_own_certificate_is_made_once_with_the_application_uri(tmp_path):
    store = PkiStore(tmp_path / "pki")
    cert_path, key_path = store.ensure_own_certificate("urn:host:linewise:hmi", "Linewise HMI")
    first = cert_path.read_bytes()
    assert store.ensure_own_certificate("urn:host:linewise:hmi", "Linewise HMI") == (cert_path, key_path)
    assert cert_path.read_bytes() == first
    assert certificate_info(load_certificate(cert_path)).application_uri == "urn:host:linewise:hmi"
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"


def test_a_pki_folder_can_be_named_directly(tmp_path, capsys):
    site, info = rejected_server_cert(tmp_path)
    assert main(["pki", "trust", "--pki", str(site / "pki"), info.thumbprint]) == 0
    assert [i.thumbprint for i in PkiStore(site / "pki").trusted_certificates()] == [info.thumbprint]
    with pytest.raises(SystemExit):
        main(["pki", "list", "--pki", str(tmp_path / "nowhere")])
    assert "PKI folder" in capsys.readouterr().err
