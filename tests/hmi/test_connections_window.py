"""The Connections window: a technician sees the untrusted server certificate and trusts it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from asyncua import ua

from drivers.opcua.pki import certificate_info
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.storage.journal import read_journal
from hmi.ui.connections import ConnectionsWindow, describe_security
from hmi.ui.device_details import DeviceDetails
from hmi.ui.main_window import MainWindow
from tests.drivers.opcua.secure_peer import secure_server
from tests.support_threads import peer_in_thread


def write_site(site_dir: Path, peer) -> Path:
    site_dir.mkdir()
    (site_dir / "site.yaml").write_text(textwrap.dedent(f"""\
        schema_version: 1
        name: Secure
        connections:
          - {{name: plc, url: "{peer.url}", options: {{watchdog_s: 0.5}}}}
        tags:
          - {{name: value, address: "opcua://plc/{peer.value_node}"}}
        """))
    return site_dir


def test_trust_an_untrusted_server_from_the_window(qtbot, tmp_path):
    with peer_in_thread(lambda: secure_server(tmp_path, [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])) \
            as peer:
        runtime = Runtime(load_site(write_site(tmp_path / "site", peer)), tmp_path / "data")
        runtime.start()
        try:
            bridge = Bridge(runtime)
            window = ConnectionsWindow(bridge, refresh_ms=200)
            qtbot.addWidget(window)
            window.show()
            thumbprint = certificate_info(peer.certificate).thumbprint
            qtbot.waitUntil(lambda: window.certificate_box.isVisible(), timeout=15_000)
            assert window.certificate_labels["thumbprint"].text() == thumbprint
            assert "Secure test server" in window.certificate_labels["subject"].text()
            assert window.table.item(0, 1).text() == "down"
            window.trust("plc", thumbprint)  # what "Trust this certificate…" does after the confirmation
            qtbot.waitUntil(lambda: window.table.item(0, 1).text() == "connected", timeout=15_000)
            assert window.table.item(0, 3).text() == "Basic256Sha256/SignAndEncrypt"
            assert not window.certificate_box.isVisible()
            qtbot.waitUntil(lambda: runtime.registry.last("value") is not None
                            and runtime.registry.last("value").value == 41.5, timeout=10_000)
            window.close()
        finally:
            runtime.stop()
        trusted = [e.entry for e in read_journal(tmp_path / "data" / "history.sqlite", category="security")]
        assert [(e.event, e.source, e.new_value, e.result) for e in trusted] == [
            ("certificate_trusted", "plc", thumbprint, "ok")]
        assert trusted[0].user == runtime.user
        assert "Secure test server" in trusted[0].message


def test_a_new_untrusted_certificate_opens_the_connections_window_once(qtbot, tmp_path):
    with peer_in_thread(lambda: secure_server(tmp_path, [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])) \
            as peer:
        runtime = Runtime(load_site(write_site(tmp_path / "site", peer)), tmp_path / "data")
        runtime.start()
        try:
            bridge = Bridge(runtime)
            main = MainWindow(bridge)
            qtbot.addWidget(main)
            main.show()
            qtbot.waitUntil(lambda: main.connections_window is not None and main.connections_window.isVisible(),
                            timeout=15_000)
            window = main.connections_window
            assert window.selected_connection() == "plc"
            qtbot.waitUntil(lambda: window.certificate_box.isVisible(), timeout=5_000)
            assert window.certificate_labels["thumbprint"].text() == certificate_info(peer.certificate).thumbprint
            window.close()  # the technician decides later: the same certificate does not pop up again
            qtbot.wait(1500)
            main._offer_trust({"plc": {"untrusted_certificate": {"thumbprint": window.certificate_labels[
                "thumbprint"].text()}}})
            assert not window.isVisible()
            main.close()
            bridge.close()
        finally:
            runtime.stop()


def test_unsecured_connections_carry_a_visible_marker():
    assert describe_security({"url": "opc.tcp://plc:4840", "security": "None/None"}) == ("None: unsecured", True)
    assert describe_security({"url": "modbus://drive:502", "security": ""})[1] is True
    assert describe_security({"url": "opc.tcp://plc:4840", "security": "Basic256Sha256/SignAndEncrypt"}) == (
        "Basic256Sha256/SignAndEncrypt", False)
    assert describe_security({"url": "opc.tcp://plc:4840", "security": ""}) == ("-", False)  # not connected yet


def test_device_counters_and_frames_show_for_connections_that_report_them(qtbot):
    details = DeviceDetails()
    qtbot.addWidget(details)
    details.show_connection({"devices": {1: {"requests": 96, "errors": 0, "timeouts": 2, "mean_ms": 3.0,
                                             "max_ms": 15.2}},
                             "comm_log": ["01:10:10.907 TX 00 5d 00 00 00 06 01 01 00 00 00 01"],
                             "overruns_fast": 3})
    assert not details.isHidden()
    assert [details.devices.item(0, c).text() for c in range(6)] == ["1", "96", "0", "2", "3.0", "15.2"]
    assert "TX 00 5d" in details.log.toPlainText()
    assert details.devices_box.title() == "Devices (scan overruns: fast 3)"  # a scan class too slow for its period
    details.show_connection({"security": "Basic256Sha256/SignAndEncrypt"})  # OPC UA reports no devices
    assert details.isHidden()
