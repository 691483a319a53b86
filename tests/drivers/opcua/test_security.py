"""OPC UA security against a real secured asyncua.Server: policies, trust, users."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from asyncua import ua

from drivers.model import ConnectionState, Quality
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.pki import PkiStore, certificate_info
from drivers.opcua.settings import opcua_settings
from tests.drivers.opcua.secure_peer import secure_server
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until

P = ua.SecurityPolicyType


def driver_for(url: str, site: Path, **options: object) -> OpcUaDriver:
    return OpcUaDriver("plc", opcua_settings(url, {"watchdog_s": 0.5, "publishing_interval_ms": 50, **options}, site))


async def run_until(driver: OpcUaDriver, rec: Recorder, tag_point, predicate, message: str) -> None:
    await driver.start([tag_point], rec.on_updates, rec.on_state)
    await async_wait_until(predicate, timeout=15, message=message)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (P.Basic256Sha256_SignAndEncrypt, "Basic256Sha256/SignAndEncrypt"),
        (P.Aes128Sha256RsaOaep_SignAndEncrypt, "Aes128_Sha256_RsaOaep/SignAndEncrypt"),
        (P.Aes256Sha256RsaPss_SignAndEncrypt, "Aes256_Sha256_RsaPss/SignAndEncrypt"),
        (P.Basic256Sha256_Sign, "Basic256Sha256/Sign"),
    ],
)
def test_each_policy_after_the_technician_trusts_the_server(tmp_path, policy, expected):
    site = tmp_path / "site"

    async def scenario() -> None:
        async with secure_server(tmp_path, [policy]) as peer:
            rec = Recorder()
            driver = driver_for(peer.url, site)
            tag = point("value", f"opcua://plc/{peer.value_node}")
            try:
                # First contact: the unknown server certificate is refused and kept in rejected/.
                await run_until(driver, rec, tag, lambda: rec.state is ConnectionState.DOWN, "refusal")
                assert "not trusted" in driver.state_detail
                pki = PkiStore(site / "pki")
                (rejected,) = pki.rejected_certificates()
                assert rejected.thumbprint == certificate_info(peer.certificate).thumbprint
                assert rejected.thumbprint[:12] in driver.state_detail
                assert rec.last("value").quality is Quality.COMM_LOST
                # The technician trusts it; the next reconnect succeeds over the secure endpoint.
                pki.trust(rejected.thumbprint[:12])
                await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, timeout=20,
                                       message="connected after trust")
                assert driver.security == expected
                await async_wait_until(lambda: rec.last("value").quality is Quality.GOOD, message="value")
                assert rec.last("value").value == 41.5
                await driver.write(tag, 7.25)
                await async_wait_until(lambda: rec.last("value").value == 7.25, message="write echo")
                own = certificate_info(load(pki.own_certificate_path))
                assert own.application_uri.endswith(":linewise:hmi")
            finally:
                await driver.close()

    asyncio.run(scenario())


def load(path: Path):
    from drivers.opcua.pki import load_certificate

    return load_certificate(path)


def trust_peer(site: Path, peer) -> None:
    PkiStore(site / "pki").trust_certificate(peer.certificate)


def test_auto_picks_the_most_secure_endpoint(tmp_path):
    site = tmp_path / "site"

    async def scenario() -> None:
        policies = [P.NoSecurity, P.Basic256Sha256_Sign, P.Basic256Sha256_SignAndEncrypt,
                    P.Aes256Sha256RsaPss_SignAndEncrypt]
        async with secure_server(tmp_path, policies) as peer:
            trust_peer(site, peer)
            rec = Recorder()
            driver = driver_for(peer.url, site)
            try:
                await run_until(driver, rec, point("v", f"opcua://plc/{peer.value_node}"),
                                lambda: rec.state is ConnectionState.CONNECTED, "connected")
                assert driver.security == "Aes256_Sha256_RsaPss/SignAndEncrypt"
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_unsecured_server_is_refused_unless_the_site_allows_it(tmp_path):
    site = tmp_path / "site"

    async def scenario() -> None:
        async with secure_server(tmp_path, [P.NoSecurity]) as peer:
            rec = Recorder()
            driver = driver_for(peer.url, site)
            try:
                await run_until(driver, rec, point("v", f"opcua://plc/{peer.value_node}"),
                                lambda: rec.state is ConnectionState.DOWN, "refusal")
                assert "server offers None/None" in driver.state_detail
                assert "security_mode: None" in driver.state_detail
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_username_and_password_from_the_environment(tmp_path, monkeypatch):
    site = tmp_path / "site"

    async def scenario(password_var: str) -> tuple[OpcUaDriver, Recorder]:
        async with secure_server(tmp_path, [P.Basic256Sha256_SignAndEncrypt], passwords={"tech": "s3cret"},
                                 anonymous=False) as peer:
            trust_peer(site, peer)
            rec = Recorder()
            driver = driver_for(peer.url, site, username="tech", password_env=password_var)
            try:
                await run_until(driver, rec, point("v", f"opcua://plc/{peer.value_node}"),
                                lambda: rec.state in (ConnectionState.CONNECTED, ConnectionState.DOWN), "outcome")
            finally:
                await driver.close()
            return driver, rec

    monkeypatch.setenv("PLC_PW_GOOD", "s3cret")
    monkeypatch.setenv("PLC_PW_BAD", "guess")
    _, good_rec = asyncio.run(scenario("PLC_PW_GOOD"))
    assert good_rec.states[-2][0] is ConnectionState.CONNECTED  # connected, then closed by the test
    bad, _ = asyncio.run(scenario("PLC_PW_BAD"))
    assert "refused the user 'tech'" in bad.counters.last_error
    assert "PLC_PW_BAD" in bad.counters.last_error
    missing, _ = asyncio.run(scenario("PLC_PW_UNSET"))
    assert "PLC_PW_UNSET, which is not set" in missing.counters.last_error


def test_x509_user_authentication(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    user_pki = PkiStore(tmp_path / "user")
    user_cert, user_key = user_pki.ensure_own_certificate("urn:linewise:test-user", "operator-1")

    async def scenario() -> None:
        async with secure_server(tmp_path, [P.Basic256Sha256_SignAndEncrypt], anonymous=False,
                                 user_certs=[load(user_cert)]) as peer:
            trust_peer(site, peer)
            rec = Recorder()
            driver = driver_for(peer.url, site, user_certificate=str(user_cert), user_private_key=str(user_key))
            try:
                await run_until(driver, rec, point("v", f"opcua://plc/{peer.value_node}"),
                                lambda: rec.state is ConnectionState.CONNECTED, "connected as X.509 user")
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_clear_text_password_in_site_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="passwords are not kept in site files"):
        opcua_settings("opc.tcp://h:4840", {"username": "u", "password": "x"}, tmp_path)
