"""The demo plant secured as a PLC should be: SignAndEncrypt only, and only clients it trusts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from asyncua import Client, ua

from drivers.model import ConnectionState, Quality
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.pki import PkiStore, certificate_info, load_certificate
from drivers.opcua.session import ensure_application_certificate
from drivers.opcua.settings import opcua_settings
from drivers.sim.plant import DemoPlant
from hmi.runtime.demo import DemoPlantProcess
from tests.drivers.recorder import Recorder, point
from tests.support import async_wait_until

LEVEL = point("level", "opcua://plc/nsu=urn:linewise:demo-plant;s=Line1.Tank.Level")
LEVEL_SP = point("level_sp", "opcua://plc/nsu=urn:linewise:demo-plant;s=Line1.Tank.LevelSP")


def test_the_plant_offers_only_encrypted_endpoints(tmp_path):
    async def scenario() -> None:
        async with DemoPlant(opcua_port=0, modbus_port=0, pki_dir=tmp_path / "plant") as plant:
            endpoints = await Client(plant.opcua_url).connect_and_get_server_endpoints()  # open to anyone
        modes = {e.SecurityMode for e in endpoints}
        assert modes == {ua.MessageSecurityMode.SignAndEncrypt}
        assert {e.SecurityPolicyUri.rsplit("#", 1)[1] for e in endpoints} == {
            "Aes256_Sha256_RsaPss", "Basic256Sha256", "Aes128_Sha256_RsaOaep"}

    asyncio.run(scenario())


def test_an_untrusted_client_is_refused_with_a_message_and_kept_in_the_plants_rejected_folder(tmp_path):
    async def scenario() -> None:
        async with DemoPlant(opcua_port=0, modbus_port=0, pki_dir=tmp_path / "plant") as plant:
            client_pki = PkiStore(tmp_path / "client")
            client_pki.trust_certificate(load_certificate(plant.opcua_certificate))  # we trust the plant...
            options = {"pki_dir": str(client_pki.root), "reconnect_max_s": 1.0}
            driver = OpcUaDriver("plc", opcua_settings(plant.opcua_url, options, tmp_path))
            rec = Recorder()
            await driver.start([LEVEL], rec.on_updates, rec.on_state)
            try:  # ...but the plant does not know us yet
                await async_wait_until(lambda: rec.state is ConnectionState.DOWN, timeout=15, message="refusal")
                assert "does not accept Linewise's certificate (BadCertificateUntrusted)" in driver.state_detail
                plant_pki = PkiStore(tmp_path / "plant")
                ours = load_certificate(client_pki.own_certificate_path)
                assert [c.thumbprint for c in plant_pki.rejected_certificates()] == [
                    certificate_info(ours).thumbprint]
                plant_pki.trust(plant_pki.rejected_certificates()[0].thumbprint)  # the PLC's administrator
                driver.retry_now()
                await async_wait_until(lambda: rec.last("level") is not None
                                       and rec.last("level").quality is Quality.GOOD, timeout=15,
                                       message="connected once trusted")
                assert driver.security == "Aes256_Sha256_RsaPss/SignAndEncrypt"
            finally:
                await driver.close()

    asyncio.run(scenario())


def test_the_demo_process_exchanges_certificates_so_the_demo_runs_encrypted(tmp_path):
    plant = DemoPlantProcess(data_dir=tmp_path)
    plant.start()
    try:
        client_pki = PkiStore(tmp_path / "pki")
        assert [c.path.name for c in client_pki.trusted_certificates()]  # the plant's, pre-trusted
        plant_trusted = PkiStore(tmp_path / "demo-plant-pki").trusted_certificates()
        ours = load_certificate(ensure_application_certificate(tmp_path / "pki"))
        assert [c.thumbprint for c in plant_trusted] == [certificate_info(ours).thumbprint]

        async def connect() -> None:
            settings = opcua_settings(plant.opcua_url, plant.connection_options()["plant_opcua"], Path("."))
            driver = OpcUaDriver("plc", settings)
            rec = Recorder()
            await driver.start([LEVEL, LEVEL_SP], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.last("level") is not None, timeout=15, message="a value")
                assert rec.last("level").quality is Quality.GOOD
                assert driver.security == "Aes256_Sha256_RsaPss/SignAndEncrypt"
                await driver.write(LEVEL_SP, 2.5)  # anonymous on a trusted channel may operate
            finally:
                await driver.close()

        asyncio.run(connect())
    finally:
        plant.stop()
