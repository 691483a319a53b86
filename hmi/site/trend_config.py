"""Saved trends: a trend's pens, time range and view, kept as `<site>/trends/<name>.yaml`.

A saved trend reopens exactly as it was saved: the same pens with their colours, widths and axes, the
same time range (live with its span, or a fixed window), the same normalised or per-unit view. Files are
validated like the site project: every problem names the file, the line and the field, e.g.
`trends/tank.yaml:7: pens[1].tag: unknown tag 'tank_levl'`, and they are written atomically (a crash
while saving leaves the previous file, never half a file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import AwareDatetime, Field, ValidationError, field_validator, model_validator

from drivers.values import DataType
from hmi.files import write_atomically
from hmi.site.loader import Problem, SiteError, _problem, _problem_from_pydantic, read_yaml_mapping
from hmi.site.schema import NAME_PATTERN, Strict, TagSpec

TRENDS_DIR = "trends"
MAX_PENS = 64
PRESETS_S = {"10 min": 600.0, "1 h": 3600.0, "8 h": 8 * 3600.0, "24 h": 86400.0}


class TrendPenConfig(Strict):
    tag: str = Field(pattern=NAME_PATTERN)
    color: str | None = None  # "#rrggbb"; default: the next colour of the palette
    width: float = Field(default=2.0, ge=1.0, le=6.0)
    axis: str | None = None  # pens with the same axis name share a Y axis; default: one axis per unit
    # how samples are joined: "step" holds each value until the next sample (on/off states, setpoints),
    # "linear" draws straight lines; "auto" is step for on/off and writable tags, linear otherwise
    style: Literal["auto", "linear", "step"] = "auto"
    low: float | None = None  # a fixed scale of the pen's own (both or neither); default: the tag's range
    high: float | None = None

    @field_validator("color")
    @classmethod
    def _hex_colour(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError(f"a colour is written #rrggbb (e.g. #1f4e9c), not {value!r}")
        return value.lower() if value is not None else None

    @model_validator(mode="after")
    def _scale(self) -> TrendPenConfig:
        if (self.low is None) != (self.high is None):
            raise ValueError("give both 'low' and 'high' for a fixed scale, or neither")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class TrendTimeConfig(Strict):
    live: bool = True  # now at the right edge, scrolling; else the fixed window ending at `end`
    span_s: float = Field(default=600.0, ge=1.0, le=5 * 366 * 86400.0)
    end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _fixed_needs_end(self) -> TrendTimeConfig:
        if not self.live and self.end is None:
            raise ValueError("a fixed time range (live: false) needs 'end' (ISO 8601 with a time zone)")
        return self

    @property
    def end_s(self) -> float | None:
        return None if self.end is None else self.end.timestamp()

    @classmethod
    def fixed(cls, t0: float, t1: float) -> TrendTimeConfig:
        return cls(live=False, span_s=t1 - t0, end=datetime.fromtimestamp(t1, UTC))


class TrendConfig(Strict):
    schema_version: Literal[1] = 1
    name: str = Field(pattern=NAME_PATTERN)
    title: str = ""
    pens: list[TrendPenConfig] = Field(min_length=1, max_length=MAX_PENS)
    time: TrendTimeConfig = TrendTimeConfig()
    normalised: bool = False  # every pen at 0-100 % of its range on one axis, instead of one axis per unit
    autoscale: bool = False  # follow the visible data instead of the engineering ranges

    @field_validator("pens")
    @classmethod
    def _unique_pens(cls, pens: list[TrendPenConfig]) -> list[TrendPenConfig]:
        tags = [p.tag for p in pens]
        duplicates = sorted({t for t in tags if tags.count(t) > 1})
        if duplicates:
            raise ValueError(f"a tag can be on a trend once: {', '.join(duplicates)} appear(s) more than once")
        return pens


def trends_folder(site_folder: Path) -> Path:
    return Path(site_folder) / TRENDS_DIR


def trend_path(site_folder: Path, name: str) -> Path:
    return trends_folder(site_folder) / f"{name}.yaml"


def list_trends(site_folder: Path) -> list[Path]:
    """The saved trend files of a site, by name."""
    folder = trends_folder(site_folder)
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def trendable(spec: TagSpec) -> bool:
    """Numbers and on/off states can be trended; strings cannot."""
    return spec.data_type is not DataType.STRING


def load_trend(path: Path, tags: Mapping[str, TagSpec] | None = None) -> TrendConfig:
    """Read and validate a saved trend; with `tags` (the site's), every pen must be a trendable tag.
    Raises SiteError listing every problem with file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    return parse_trend(text, path, tags)


def parse_trend(text: str, path: Path, tags: Mapping[str, TagSpec] | None = None) -> TrendConfig:
    file = str(path)
    data, lines = read_yaml_mapping(text, file, "a saved trend must be a mapping with schema_version, name and pens")
    try:
        config = TrendConfig.model_validate(data)
    except ValidationError as exc:
        raise SiteError([_problem_from_pydantic(file, lines, err) for err in exc.errors()]) from None
    problems = []
    if config.name != path.stem:
        problems.append(
            _problem(file, lines, ("name",), f"the name {config.name!r} must match the file name {path.stem!r}")
        )
    if tags is not None:
        for i, pen in enumerate(config.pens):
            spec = tags.get(pen.tag)
            if spec is None:
                problems.append(_problem(file, lines, ("pens", i, "tag"), f"unknown tag {pen.tag!r}"))
            elif not trendable(spec):
                problems.append(
                    _problem(
                        file,
                        lines,
                        ("pens", i, "tag"),
                        f"tag {pen.tag!r} is a {spec.data_type.value}: only numbers and on/off states can be trended",
                    )
                )
    if problems:
        raise SiteError(problems)
    return config


def dump_trend(config: TrendConfig) -> str:
    data = config.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def save_trend(site_folder: Path, config: TrendConfig) -> Path:
    """Write `<site>/trends/<name>.yaml` atomically (a temporary file, then a rename); returns the path."""
    path = trend_path(site_folder, config.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dump_trend(config)
    parse_trend(text, path)  # what is written must load again
    write_atomically(path, text)
    return path


__all__ = [
    "MAX_PENS",
    "PRESETS_S",
    "TRENDS_DIR",
    "TrendConfig",
    "TrendPenConfig",
    "TrendTimeConfig",
    "dump_trend",
    "list_trends",
    "load_trend",
    "parse_trend",
    "save_trend",
    "trend_path",
    "trendable",
    "trends_folder",
]
