"""Site loading: the demo site is valid; every kind of mistake names file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hmi.runtime.demo import DEMO_SITE
from hmi.site import SiteError, load_site, parse_site

GOOD = """\
schema_version: 1
name: Test
connections:
  - name: plc
    url: opc.tcp://127.0.0.1:4840
  - name: drive
    url: modbus://127.0.0.1:5020
tags:
  - name: speed
    address: "opcua://plc/ns=2;s=Line1.Speed"
    units: m/s
  - name: level
    address: modbus://drive/1/hr/40001?type=float32
    writable: true
    limits: {low: 0, high: 10}
screens:
  - name: main
    title: Main
    panels:
      - title: P
        widgets:
          - {type: value, tag: speed}
          - {type: setpoint, tag: level}
"""


def load(text: str, tmp_path: Path):
    (tmp_path / "site.yaml").write_text(textwrap.dedent(text))
    return load_site(tmp_path)


def problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(SiteError) as caught:
        load(text, tmp_path)
    return [str(p) for p in caught.value.problems]


def test_demo_site_is_valid():
    site = load_site(DEMO_SITE)
    assert site.project.screens, "the demo site must have an overview screen"
    assert {a.connection for a in site.addresses.values()} == {"plant_opcua", "plant_modbus"}


def test_good_site_parses_addresses_once(tmp_path):
    site = load(GOOD, tmp_path)
    level = site.addresses["level"].address
    assert (level.unit, level.table.value, level.offset, level.data_type.value) == (1, "hr", 0, "float32")


def test_unknown_scheme_names_file_line_and_field(tmp_path):
    text = GOOD.replace('"opcua://plc/ns=2;s=Line1.Speed"', '"opcx://plc/ns=2;s=Line1.Speed"')
    (message,) = problems(text, tmp_path)
    assert message.startswith(f"{tmp_path / 'site.yaml'}:10: tags[0].address: ")
    assert "unknown scheme 'opcx'" in message


def test_all_problems_are_reported_at_once(tmp_path):
    text = GOOD.replace("units: m/s", "unitz: m/s").replace("1/hr/40001", "1/hx/40001")
    found = problems(text, tmp_path)
    assert any(":11: tags[0].unitz: unknown field" in p for p in found), found
    assert any(":13: tags[1].address:" in p and "table 'hx'" in p for p in found), found


def test_cross_references_are_checked(tmp_path):
    text = GOOD.replace("opcua://plc/", "opcua://plc9/").replace("{type: value, tag: speed}",
                                                                   "{type: value, tag: sped}")
    found = problems(text, tmp_path)
    assert any("tags[0].address: connection 'plc9' is not defined" in p for p in found), found
    assert any("screens[0].panels[0].widgets[0].tag: unknown tag 'sped'" in p for p in found), found


def test_setpoint_on_read_only_tag_is_refused(tmp_path):
    text = GOOD.replace("{type: setpoint, tag: level}", "{type: setpoint, tag: speed}")
    (message,) = problems(text, tmp_path)
    assert "tag 'speed' is not writable" in message


def test_yaml_syntax_error_has_a_line(tmp_path):
    (message,) = problems(GOOD.replace("  - name: level", "  - name: [level"), tmp_path)
    assert ": YAML syntax:" in message
    assert "site.yaml:" in message


def test_bad_connection_option_is_named(tmp_path):
    text = GOOD.replace("url: modbus://127.0.0.1:5020", "url: modbus://127.0.0.1:5020\n    options: {timeout_s: -1}")
    (message,) = problems(text, tmp_path)
    assert "connections[1].options: option 'timeout_s' must be a number" in message


def test_missing_site_file(tmp_path):
    with pytest.raises(SiteError, match=r"no site\.yaml"):
        load_site(tmp_path / "nowhere")


def test_with_connections_revalidates(tmp_path):
    site = load(GOOD, tmp_path).with_connections({"drive": "modbus://127.0.0.1:1502"})
    assert site.connection_settings["drive"].port == 1502
    assert parse_site(GOOD, tmp_path / "site.yaml").project.name == "Test"


def test_a_scan_class_the_connection_does_not_define_is_named(tmp_path):
    text = GOOD.replace("url: modbus://127.0.0.1:5020",
                        "url: modbus://127.0.0.1:5020\n    options: {scan_classes: {fast: 100}}")
    text = text.replace("?type=float32", "?type=float32&scan=fsat")
    found = problems(text, tmp_path)
    assert len(found) == 1
    assert "site.yaml:14: tags[1].address: scan class 'fsat' is not defined" in found[0]
    assert "(defined: default, fast)" in found[0]
    assert load(text.replace("scan=fsat", "scan=fast"), tmp_path).addresses["level"].address.scan == "fast"


def test_two_connections_on_one_serial_line_are_refused(tmp_path):
    text = GOOD.replace("url: modbus://127.0.0.1:5020",
                        "url: modbus+rtu:///dev/ttyUSB0\n  - name: meter\n    url: modbus+rtu:///dev/ttyUSB0")
    found = problems(text, tmp_path)
    assert len(found) == 1
    assert "connections[2].url: /dev/ttyUSB0 is already used by connection 'drive'" in found[0]
