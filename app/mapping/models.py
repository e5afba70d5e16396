"""The mapping format, version 1. These models are the contract.

The YAML loader validates against them, `okrsync schema` exports them as JSON
Schema, and docs/mappings.md documents them. A source block is validated in a
second step by the model of the connector its `type:` names.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"),
    Field(
        description="Letters, digits, '.', '_' and '-'; used in API paths.",
        examples=["mobile-v2"],
    ),
]

Direction = Literal["increase", "decrease"]

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_YEAR = re.compile(r"^(\d{4})$")


class Strict(BaseModel):
    """Base of mapping models: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True
    )


class Period(Strict):
    """The dates an objective runs over, both inclusive, in the mapping's zone."""

    start: date
    end: date
    label: str = Field(default="", description="Shown instead of the dates.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if not self.label:
            self.label = f"{self.start.isoformat()}..{self.end.isoformat()}"
        return self

    @classmethod
    def parse_name(cls, name: str) -> Period:
        """Turn `2026-Q4`, `2026-H1` or `2026` into a period."""
        if match := _QUARTER.match(name):
            year, quarter = int(match[1]), int(match[2])
            start = date(year, 3 * quarter - 2, 1)
            end = _month_end(year, 3 * quarter)
        elif match := _HALF.match(name):
            year, half = int(match[1]), int(match[2])
            start = date(year, 6 * half - 5, 1)
            end = _month_end(year, 6 * half)
        elif match := _YEAR.match(name):
            start, end = date(int(match[1]), 1, 1), date(int(match[1]), 12, 31)
        else:
            raise ValueError(
                f"{name!r} is not a period; write a quarter (2026-Q4), a half "
                "(2026-H1), a year (2026) or {start: 2026-10-01, end: 2026-12-31}"
            )
        return cls(start=start, end=end, label=name)


def _month_end(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


class StatusThresholds(Strict):
    """How far behind the expected progress a key result may be.

    Expected progress is the share of the period elapsed. A key result is on
    track at or above `on_track` times that, at risk at or above `at_risk`
    times it, and off track below.
    """

    on_track: float = Field(default=0.95, gt=0, le=1)
    at_risk: float = Field(default=0.75, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.at_risk > self.on_track:
            raise ValueError("at_risk must not be above on_track")
        return self


WINDOW_PATTERN = r"^(period|period_to_date|[1-9][0-9]{0,3}d)$"

Kind = Literal["increase", "decrease", "stay_above", "stay_below", "milestone"]


class KeyResult(Strict):
    """A measurable result, fed by a source's metric or by check-ins.

    Four shapes: move from `start` to `target` (up or down); stay above or
    below a threshold (`stay_above` / `stay_below`); or a `milestone`, done
    once the value reaches `target` (1 by default).
    """

    id: Identifier
    title: str = Field(min_length=1)
    source: str | None = Field(
        default=None, description="Name of a source in this file's `sources`."
    )
    metric: str | None = Field(
        default=None, description="A metric the source's connector offers."
    )
    query: str | None = Field(
        default=None, description="The connector's query text (JQL, search, ...)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Extra metric parameters."
    )
    window: str | None = Field(
        default=None,
        pattern=WINDOW_PATTERN,
        description="For metrics measured over time: `period` (the whole "
        "period), `period_to_date` (the default) or a trailing `7d`, `30d`.",
    )
    start: float | None = Field(
        default=None, description="The value at the period's start (default 0)."
    )
    target: float | None = Field(default=None, description="The value that means done.")
    stay_above: float | None = Field(
        default=None, description="Done while the value is at or above this."
    )
    stay_below: float | None = Field(
        default=None, description="Done while the value is at or below this."
    )
    milestone: bool = Field(
        default=False, description="Done or not done: the value reaches target."
    )
    unit: str = Field(default="", description="Shown after values, e.g. '%'.")
    weight: float = Field(
        default=1.0, gt=0, description="Share in the objective's progress."
    )
    direction: Direction | None = Field(
        default=None,
        description="Which way is progress; inferred from start and target.",
    )

    @property
    def kind(self) -> Kind:
        """How progress is scored: see `app.progress.key_result_progress`."""
        if self.stay_above is not None:
            return "stay_above"
        if self.stay_below is not None:
            return "stay_below"
        if self.milestone:
            return "milestone"
        return self.direction or "increase"

    @property
    def threshold(self) -> float | None:
        """The stay_above or stay_below value, if any."""
        return self.stay_above if self.stay_above is not None else self.stay_below

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.source is None and (self.metric or self.query or self.params):
            raise ValueError("metric, query and params need a source")
        if self.source is not None and not self.metric:
            raise ValueError("a key result with a source needs a metric")
        if self.stay_above is not None or self.stay_below is not None:
            return self._check_threshold()
        if self.milestone:
            self.start = 0.0 if self.start is None else self.start
            self.target = 1.0 if self.target is None else self.target
        if self.target is None:
            raise ValueError(
                "target is required (or stay_above, stay_below, or milestone: true)"
            )
        self.start = 0.0 if self.start is None else self.start
        return self._check_direction(self.start, self.target)

    def _check_threshold(self) -> Self:
        if self.stay_above is not None and self.stay_below is not None:
            raise ValueError("use stay_above or stay_below, not both")
        if self.target is not None or self.start is not None or self.milestone:
            raise ValueError(
                "stay_above and stay_below replace start, target and milestone"
            )
        if self.direction is not None:
            raise ValueError("direction does not apply to stay_above or stay_below")
        return self

    def _check_direction(self, start: float, target: float) -> Self:
        if target == start:
            raise ValueError("target must differ from start")
        inferred: Direction = "increase" if target > start else "decrease"
        if self.direction is None:
            self.direction = inferred
        elif self.direction != inferred:
            side = "below" if inferred == "decrease" else "above"
            raise ValueError(
                f"direction is {self.direction} but target {target:g} is {side} "
                f"start {start:g}"
            )
        return self


class Objective(Strict):
    """A goal for a period, measured by its key results."""

    id: Identifier
    title: str = Field(min_length=1)
    period: Period
    team: str | None = None
    owner: str | None = None
    description: str = ""
    key_results: list[KeyResult] = Field(min_length=1)

    @field_validator("period", mode="before")
    @classmethod
    def _period_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            return Period.parse_name(value.strip())
        return value


class Mapping(Strict):
    """One mapping file."""

    version: int = Field(description="The format version; only 1 exists.")
    timezone: str = Field(
        default="UTC", description="IANA zone in which periods and status are read."
    )
    status: StatusThresholds = Field(default_factory=StatusThresholds)
    sources: dict[Identifier, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named upstream connections; each has a `type` naming a "
        "connector and that connector's settings.",
    )
    objectives: list[Objective] = Field(default_factory=list)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"version {value} is not supported; this okrsync reads 1")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as "
                "Europe/Oslo or UTC"
            ) from None
        return value
