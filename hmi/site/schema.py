"""The site project schema (pydantic). `schema_version` lets later releases migrate files."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from drivers.plugins import AddressError, parse_tag_address
from drivers.values import DataType
from hmi.site.alarm_schema import AlarmSettings, AlarmSpec
from hmi.site.schema_base import NAME_PATTERN, Strict


class Range(Strict):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


class Scaling(Strict):
    """Linear scaling raw -> engineering units: raw_low..raw_high maps to eng_low..eng_high."""

    raw_low: float
    raw_high: float
    eng_low: float
    eng_high: float

    @model_validator(mode="after")
    def _not_degenerate(self) -> Scaling:
        if self.raw_low == self.raw_high:
            raise ValueError("raw_low and raw_high must differ")
        return self

    def to_eng(self, raw: float) -> float:
        return self.eng_low + (raw - self.raw_low) * (self.eng_high - self.eng_low) / (self.raw_high - self.raw_low)

    def to_raw(self, eng: float) -> float:
        return self.raw_low + (eng - self.eng_low) * (self.raw_high - self.raw_low) / (self.eng_high - self.eng_low)


class ConnectionSpec(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    url: str
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)


MAX_RETENTION_DAYS = 36_525  # 100 years


class RetentionSpec(Strict):
    """How long history is kept, per tier, in days; None (``null``): forever.

    ``raw_days`` the stored samples, ``minute_days`` the 1-minute roll-ups, ``hour_days`` the 1-hour ones.
    Older rows are deleted in the background, a little at a time. The sample that holds at the raw cutoff
    is kept, so the oldest raw history still starts with a value. Nothing forbids keeping a finer tier
    longer than a coarser one; usually each coarser tier is kept longer (raw < minute < hour).
    """

    raw_days: float | None = Field(default=90, gt=0, le=MAX_RETENTION_DAYS, allow_inf_nan=False)
    minute_days: float | None = Field(default=730, gt=0, le=MAX_RETENTION_DAYS, allow_inf_nan=False)
    hour_days: float | None = Field(default=None, gt=0, le=MAX_RETENTION_DAYS, allow_inf_nan=False)


class HistorySpec(Strict):
    """How a tag is kept in the historian.

    - ``auto``: measurements (float tags) by swinging-door compression with ``deviation`` (default 0: only
      points on a straight line are dropped), everything else on change;
    - ``sdt``: swinging door; every stored value is reconstructed within ``deviation`` (engineering units)
      by linear interpolation;
    - ``deadband``: on change by more than ``deadband`` (0: every change);
    - ``periodic``: the value every ``period_s``, on a fixed grid;
    - ``all``: every sample; ``off``: nothing.

    Whatever the mode, quality changes and the last value before a gap are always kept, and a value that
    holds is stored again at least every ``max_interval_s``.

    ``retention``: how long this tag's history is kept; when given it replaces the site's
    (``historian.retention``) as a whole, every tier.
    """

    mode: Literal["auto", "sdt", "deadband", "periodic", "all", "off"] = "auto"
    deviation: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    deadband: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    max_interval_s: float = Field(default=3600.0, gt=0, le=366 * 86400, allow_inf_nan=False)
    period_s: float | None = Field(default=None, gt=0, le=86400, allow_inf_nan=False)
    # Names the tag had before: its history carries on under the new name instead of being orphaned.
    renamed_from: list[str] = Field(default_factory=list)
    retention: RetentionSpec | None = None  # None: the site's

    @model_validator(mode="after")
    def _period_when_periodic(self) -> HistorySpec:
        if self.mode == "periodic" and self.period_s is None:
            raise ValueError("mode 'periodic' needs 'period_s' (seconds between stored values)")
        return self


class HistorianSpec(Strict):
    """Where and how the site's history is written (site.yaml, ``historian:``)."""

    # A file path (relative to the data directory) or a SQLAlchemy URL such as
    # postgresql+psycopg://linewise@db-host/plant; default: history.sqlite in the data directory.
    database: str | None = None
    flush_interval_s: float = Field(default=1.0, ge=0.05, le=60, allow_inf_nan=False)
    # Stored rows waiting for the disk (or a database that is down) are bounded: beyond this, the oldest
    # are dropped and counted, so memory stays bounded and the newest data is kept.
    backlog_rows: int = Field(default=2_000_000, ge=10_000)
    # How long history is kept (every tag's, unless its own history.retention says otherwise).
    retention: RetentionSpec = Field(default_factory=RetentionSpec)


class TagSpec(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    address: str
    data_type: DataType = DataType.FLOAT64
    units: str = ""
    description: str = ""
    decimals: int = Field(default=2, ge=0, le=9)
    range: Range | None = None  # display range of bars and trends (EURange)
    normal: Range | None = None  # the normal operating band, drawn on analog indicators
    limits: Range | None = None  # writes outside are refused before they reach the PLC
    scaling: Scaling | None = None
    writable: bool = False
    on_text: str = "ON"
    off_text: str = "OFF"
    history: HistorySpec = Field(default_factory=HistorySpec)
    area: str = ""  # plant area (alarm filters, navigation)
    alarms: list[AlarmSpec] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _address_parses(cls, value: str) -> str:
        try:
            parse_tag_address(value)
        except AddressError as exc:
            raise ValueError(str(exc)) from None
        return value


class WidgetSpec(Strict):
    type: Literal["value", "level", "state", "setpoint", "trend"]
    tag: str | None = None
    tags: list[str] = Field(default_factory=list)
    label: str = ""
    abnormal_when: bool | None = None  # for state widgets: which state is abnormal
    span_s: float = Field(default=300.0, gt=0, le=7 * 86400)

    @model_validator(mode="after")
    def _has_tags(self) -> WidgetSpec:
        if self.type == "trend":
            if not self.tags:
                raise ValueError("a trend needs 'tags': a list of tag names")
        elif not self.tag:
            raise ValueError(f"a {self.type} widget needs 'tag'")
        return self

    def tag_names(self) -> list[str]:
        return list(self.tags) if self.type == "trend" else [self.tag or ""]


class PanelSpec(Strict):
    title: str
    widgets: list[WidgetSpec]
    column: int = Field(default=0, ge=0, le=7)


class ScreenSpec(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    title: str
    panels: list[PanelSpec]


class SiteProject(Strict):
    schema_version: Literal[1]
    name: str
    description: str = ""
    connections: list[ConnectionSpec]
    tags: list[TagSpec]
    screens: list[ScreenSpec] = Field(default_factory=list)
    historian: HistorianSpec = Field(default_factory=HistorianSpec)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
