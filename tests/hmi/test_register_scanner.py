"""The register scanner: a range read from a real Modbus device, decoded every way side by side."""

from __future__ import annotations

import textwrap

from drivers.modbus.scanner import HEADINGS, decode_views
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site
from hmi.ui.connections import ConnectionsWindow
from tests.drivers.modbus.register_peer import register_peer
from tests.support_threads import peer_in_thread


def column(heading: str) -> int:
    return HEADINGS.index(heading)


def test_every_view_of_a_range():
    rows = decode_views(100, [0x3FC0, 0x0000, 0x0000, 0x3FC0, 0x4142])
    assert [r[0] for r in rows] == ["100", "101", "102", "103", "104"]
    assert rows[0][column("float32 ABCD")] == "1.5"
    assert rows[2][column("float32 CDAB")] == "1.5"  # the same value, words swapped, found two rows down
    assert rows[0][column("uint32 ABCD")] == str(0x3FC00000)
    assert rows[4][column("ASCII")] == "AB"
    assert rows[4][column("Hex")] == "4142"
    assert rows[4][column("float32 ABCD")] == ""  # the range ends before a second register
    assert rows[0][column("Bits 15..0")] == "00111111 11000000"


def test_the_scanner_reads_a_device_through_the_connections_window(qtbot, tmp_path):
    with peer_in_thread(register_peer) as peer:
        (tmp_path / "site.yaml").write_text(textwrap.dedent(f"""\
            schema_version: 1
            name: Scan
            connections:
              - {{name: drive, url: "modbus://127.0.0.1:{peer.port}", options: {{poll_interval_ms: 100}}}}
            tags:
              - {{name: speed_sp, address: "modbus://drive/1/hr/10?type=float32&order=CDAB", writable: true}}
            """))
        runtime = Runtime(load_site(tmp_path), tmp_path / "data")
        runtime.start()
        try:
            bridge = Bridge(runtime)
            window = ConnectionsWindow(bridge, refresh_ms=200)
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(lambda: window.table.rowCount() == 1 and window.table.item(0, 1).text() == "connected",
                            timeout=10_000)
            runtime.write("speed_sp", 1.5).result(5)
            window.table.selectRow(0)
            scanner = window.open_scanner()
            assert scanner is not None
            scanner.start.setValue(8)
            scanner.count.setValue(6)
            scanner.read()
            qtbot.waitUntil(lambda: scanner.results.rowCount() == 6, timeout=5_000)
            by_address = {scanner.results.item(r, 0).text(): r for r in range(6)}
            assert scanner.results.item(by_address["10"], column("float32 CDAB")).text() == "1.5"
            assert scanner.results.item(by_address["10"], column("Hex")).text() == "0000"
            scanner.unit.setValue(9)  # no such unit: the device says so
            scanner.table_kind.setCurrentIndex(1)
            scanner.start.setValue(190)
            scanner.count.setValue(20)  # past the device's 200 registers
            scanner.read()
            qtbot.waitUntil(lambda: scanner.status.text().startswith("not read:"), timeout=5_000)
            scanner.close()
            window.close()
            bridge.close()
        finally:
            runtime.stop()
