"""Alarm definitions in site.yaml: every mistake is an error at load with file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hmi.runtime.demo import DEMO_SITE
from hmi.site import SiteError, load_site

HEAD = """\
schema_version: 1
name: Alarms
connections:
  - {name: m, url: "mem://"}
tags:
  - name: level_sp
    address: mem://m/level_sp
  - name: running
    address: mem://m/running
    data_type: bool
  - name: level
    address: mem://m/level
    alarms:
"""


def problems(alarms: str, tmp_path: Path, extra: str = "") -> list[str]:
    (tmp_path / "site.yaml").write_text(HEAD + textwrap.indent(textwrap.dedent(alarms), "      ") + extra)
    with pytest.raises(SiteError) as caught:
        load_site(tmp_path)
    return [str(p) for p in caught.value.problems]


def test_the_demo_site_defines_alarms():
    site = load_site(DEMO_SITE)
    assert sum(len(t.alarms) for t in site.project.tags) >= 5


def test_a_limit_that_is_not_a_number(tmp_path):
    assert problems("- {type: hi, limit: high}\n", tmp_path) == [
        f"{tmp_path / 'site.yaml'}:14: tags[2].alarms[0].limit: Input should be a valid number, unable to parse "
        "string as a number"]


def test_a_missing_limit_and_an_unknown_type(tmp_path):
    found = problems("- {type: hi}\n- {type: hihihi, limit: 3}\n", tmp_path)
    assert found[0].endswith(":14: tags[2].alarms[0]: a hi alarm needs 'limit' (a number)")
    assert ":15: tags[2].alarms[1].type: Input should be 'hihi', 'hi'" in found[1]


def test_an_expression_that_does_not_parse_or_names_an_unknown_tag(tmp_path):
    found = problems("""\
        - {type: hi, limit: 3, suppress_when: "not runing"}
        - {type: lo, limit: 1, suppress_when: "running and"}
        - {type: lolo, limit: 0.5, suppress_when: "__import__('os')"}
        """, tmp_path)
    assert ":14: tags[2].alarms[0].suppress_when:" in found[0]
    assert "'runing'" in found[0]
    assert "running" in found[0].split("'runing'")[1]  # the suggestion
    assert ":15: tags[2].alarms[1].suppress_when:" in found[1]
    assert ":16: tags[2].alarms[2].suppress_when:" in found[2]


def test_a_deviation_from_a_tag_that_does_not_exist(tmp_path):
    found = problems("- {type: deviation, setpoint: level_spp, limit: 0.5}\n", tmp_path)
    assert found == [f"{tmp_path / 'site.yaml'}:14: tags[2].alarms[0].setpoint: unknown tag 'level_spp'"]


def test_limits_out_of_order_and_duplicate_names(tmp_path):
    found = problems("""\
        - {type: hihi, limit: 4}
        - {type: hi, limit: 4.5}
        - {type: hi, limit: 5, name: HI}
        """, tmp_path)
    assert any(":16: tags[2].alarms[2].name: level has two alarms named 'HI'" in p for p in found)
    assert any(":14: tags[2].alarms[0].limit: the hihi limit (4) must be at or above the hi limit" in p
               for p in found)


def test_a_limit_alarm_on_an_on_off_tag(tmp_path):
    found = problems("- {type: state}\n", tmp_path, extra=textwrap.indent(textwrap.dedent("""\
        - name: pump
          address: mem://m/pump
          data_type: bool
          alarms: [{type: hi, limit: 1}]
        """), "  "))
    assert found == [f"{tmp_path / 'site.yaml'}:18: tags[3].alarms[0].type: a hi alarm needs a number, "
                     "but pump is bool"]


def test_a_message_with_an_unknown_field(tmp_path):
    found = problems("- {type: hi, limit: 3, message: 'Level {valu}'}\n", tmp_path)
    assert "unknown field {valu}" in found[0]
    assert ":14:" in found[0]
