"""The Connections window: a technician sees the untrusted server certificate and trusts it."""

from __future__ import annotations

import textwrap

from asyncua import ua

from drivers.opcua.pki import certificate_info
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.ui.connections import ConnectionsWindow
from tests.drivers.opcua.secure_peer import secure_server
from tests.support_threads import peer_in_thread


def test_trust_an_untrusted_server_from_the_window(qtbot, tmp_path):
    with peer_in_thread(lambda: secure_server(tmp_path, [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])) \
            as peer:
        site_dir = tmp_path / "site"
        site_dir.mkdir()
        (site_dir / "site.yaml").write_text(textwrap.dedent(f"""\
            schema_version: 1
            name: Secure
            connections:
              - {{name: plc, url: "{peer.url}", options: {{watchdog_s: 0.5}}}}
            tags:
              - {{name: value, address: "opcua://plc/{peer.value_node}"}}
            """))
        runtime = Runtime(load_site(site_dir), tmp_path / "data")
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
