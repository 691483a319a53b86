"""Saved trends: every mistake names the file, the line and the field; saving is atomic and round-trips."""

from __future__ import annotations

import os
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hmi.site import SiteError, TagSpec
from hmi.site.trend_config import (
    TrendConfig,
    TrendPenConfig,
    TrendTimeConfig,
    list_trends,
    load_trend,
    parse_trend,
    save_trend,
)

TAGS = {
    "level": TagSpec(name="level", address="mem://local/level", units="m"),
    "flow": TagSpec(name="flow", address="mem://local/flow"),
    "label": TagSpec(name="label", address="mem://local/label?type=string", data_type="string"),
}

GOOD = """\
schema_version: 1
name: tank
title: Tank T-101
pens:
  - {tag: level, color: "#1f4e9c", width: 2}
  - tag: flow
    axis: flows
    low: 0
    high: 40
time: {live: false, span_s: 3600, end: "2025-03-01T12:00:00Z"}
normalised: false
autoscale: true
"""


def problems(text: str, name: str = "tank") -> list[str]:
    with pytest.raises(SiteError) as caught:
        parse_trend(textwrap.dedent(text), Path(f"/site/trends/{name}.yaml"), TAGS)
    return [str(p) for p in caught.value.problems]


def test_a_valid_file_loads():
    config = parse_trend(GOOD, Path("/site/trends/tank.yaml"), TAGS)
    assert [p.tag for p in config.pens] == ["level", "flow"]
    assert config.pens[1].axis == "flows"
    assert config.time.end == datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert config.time.end_s == datetime(2025, 3, 1, 12, tzinfo=UTC).timestamp()
    assert config.autoscale


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("tag: flow", "tag: flwo"), "/site/trends/tank.yaml:6: pens[1].tag: unknown tag 'flwo'"),
        (
            GOOD.replace("tag: flow", "tag: label"),
            "/site/trends/tank.yaml:6: pens[1].tag: tag 'label' is a string: only numbers and on/off states can be "
            "trended",
        ),
        (
            GOOD.replace('"#1f4e9c"', "blue"),
            "/site/trends/tank.yaml:5: pens[0].color: a colour is written #rrggbb (e.g. #1f4e9c), not 'blue'",
        ),
        (GOOD.replace("width: 2", "widht: 2"), "/site/trends/tank.yaml:5: pens[0].widht: unknown field"),
        (
            GOOD.replace("    high: 40\n", ""),
            "/site/trends/tank.yaml:6: pens[1]: give both 'low' and 'high' for a fixed scale, or neither",
        ),
        (
            GOOD.replace("live: false", "live: no").replace(', end: "2025-03-01T12:00:00Z"', ""),
            "/site/trends/tank.yaml:10: time: a fixed time range (live: false) needs 'end'",
        ),
        (GOOD.replace('"2025-03-01T12:00:00Z"', '"2025-03-01T12:00:00"'), "/site/trends/tank.yaml:10: time.end: "),
        (GOOD.replace("schema_version: 1", "schema_version: 2"), "/site/trends/tank.yaml:1: schema_version: "),
        (
            GOOD.replace("name: tank", "name: other"),
            "/site/trends/tank.yaml:2: name: the name 'other' must match the file name 'tank'",
        ),
        (
            GOOD.replace("  - tag: flow", "  - tag: level"),
            "/site/trends/tank.yaml:4: pens: a tag can be on a trend once: level appear(s) more than once",
        ),
        (GOOD.replace("pens:", "pens: [").replace("  - {tag", "  {tag", 1), "/site/trends/tank.yaml:"),
    ],
)
def test_every_mistake_names_file_line_and_field(text, expected):
    found = problems(text)
    assert any(p.startswith(expected) or expected in p for p in found), found


def test_several_problems_are_reported_at_once():
    found = problems(GOOD.replace("tag: flow", "tag: flwo").replace("tag: level", "tag: levl"))
    assert len(found) == 2


def test_not_a_mapping_and_unreadable_files(tmp_path):
    assert problems("- just\n- a list\n") == [
        "/site/trends/tank.yaml:1: a saved trend must be a mapping with schema_version, name and pens"
    ]
    with pytest.raises(SiteError, match="cannot read"):
        load_trend(tmp_path / "missing.yaml")


def test_save_writes_atomically_and_round_trips(tmp_path):
    config = TrendConfig(
        name="mine",
        title="Mine",
        pens=[TrendPenConfig(tag="level", color="#112233"), TrendPenConfig(tag="flow", low=1, high=2.5)],
        time=TrendTimeConfig.fixed(1_700_000_000.5, 1_700_003_600.25),
        normalised=True,
    )
    path = save_trend(tmp_path, config)
    assert path == tmp_path / "trends" / "mine.yaml"
    assert load_trend(path, TAGS) == config
    assert "schema_version: 1" in path.read_text()
    assert [p.name for p in list_trends(tmp_path)] == ["mine.yaml"]
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]  # no temporary left behind
    before = path.read_bytes()
    with pytest.raises(SiteError):  # an invalid config is refused before anything is written
        save_trend(tmp_path, config.model_copy(update={"name": "mine", "pens": [TrendPenConfig(tag="level")] * 2}))
    assert path.read_bytes() == before


def test_no_trends_folder_means_no_saved_trends(tmp_path):
    assert list_trends(tmp_path) == []
