"""Response bodies of the REST API."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from app.store.tables import KeyResultRow, MeasurementRow, ObjectiveRow, SyncRow

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: Any) -> Any:
    # Pydantic would read a number as a Unix time; the document promises an
    # ISO 8601 date-time, so a number is a mistake worth telling.
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("use an ISO 8601 date-time, e.g. 2026-10-01T00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_not_a_number)]
"""A date-time query parameter: ISO 8601 text only, not a Unix time."""


# A key result as the API shows it: definition plus latest computed state.
class KeyResultPublic(BaseModel):
    id: str
    objective_id: str
    title: str
    source: str | None
    source_type: str | None
    metric: str | None
    query: str | None
    params: dict[str, Any] | None
    start: float
    target: float
    unit: str
    weight: float
    direction: str
    kind: str = Field(
        description="increase, decrease, stay_above, stay_below or milestone."
    )
    threshold: float | None = Field(description="For stay_above and stay_below.")
    window: str | None = Field(description="Time window of analytics metrics.")
    value: float | None = Field(
        description="Latest good value; kept when a sync fails."
    )
    progress: float | None = Field(description="0..1; null when there is no value.")
    status: str = Field(description="on_track, at_risk, off_track or no_data.")
    synced_at: datetime | None = Field(description="When the value was last read.")
    stale: bool = Field(description="True when the last sync of it failed.")
    last_error: str | None
    error_kind: str | None = Field(
        description="configuration, transient or rate_limited."
    )
    next_try_at: datetime | None = Field(
        description="When a rate-limited source will be asked again."
    )
    archived: bool

    @classmethod
    def of(cls, row: KeyResultRow) -> KeyResultPublic:
        return cls.model_validate(row, from_attributes=True)


# The dates an objective covers.
class PeriodPublic(BaseModel):
    label: str
    start: date
    end: date


# An objective with its key results and rolled-up progress.
class ObjectivePublic(BaseModel):
    id: str
    title: str
    team: str | None
    owner: str | None
    description: str
    period: PeriodPublic
    timezone: str
    progress: float | None = Field(description="Weighted mean of key results, 0..1.")
    expected_progress: float | None = Field(description="Share of the period passed.")
    status: str
    archived: bool
    key_results: list[KeyResultPublic]

    @classmethod
    def of(cls, row: ObjectiveRow, key_results: list[KeyResultRow]) -> ObjectivePublic:
        return cls(
            id=row.id,
            title=row.title,
            team=row.team,
            owner=row.owner,
            description=row.description,
            period=PeriodPublic(
                label=row.period_label, start=row.period_start, end=row.period_end
            ),
            timezone=row.timezone,
            progress=row.progress,
            expected_progress=row.expected,
            status=row.status,
            archived=row.archived,
            key_results=[KeyResultPublic.of(kr) for kr in key_results],
        )


# A page of objectives.
class ObjectiveList(BaseModel):
    items: list[ObjectivePublic]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null at the end."
    )


# One recorded value: from a sync, or a check-in with its note and confidence.
class MeasurementPublic(BaseModel):
    measured_at: datetime
    value: float | None
    source: str | None = Field(description="The source's name, or `check-in`.")
    sync_id: str | None
    note: str | None = None
    confidence: float | None = None

    @classmethod
    def of(cls, row: MeasurementRow) -> MeasurementPublic:
        return cls.model_validate(row, from_attributes=True)


# A value recorded by hand.
class CheckIn(BaseModel):
    model_config = {"extra": "forbid"}

    value: float = Field(allow_inf_nan=False, description="The value now.")
    note: str | None = Field(default=None, max_length=2000)
    confidence: float | None = Field(
        default=None, ge=0, le=1, description="How sure the author is, 0 to 1."
    )


# Why a key result's value is what it is.
class EvidencePublic(BaseModel):
    key_result_id: str
    value: float | None
    synced_at: datetime | None
    evidence: dict[str, Any] | None = Field(
        description="The request made (secrets masked), the relevant part of the "
        "answer, and the keys of the items counted (capped)."
    )
    previous: MeasurementPublic | None = Field(
        description="The measurement before the one that set the current value."
    )
    entered: list[str] = Field(description="Items counted now but not then.")
    left: list[str] = Field(description="Items counted then but not now.")
    items_compared: bool = Field(
        description="False when either side has no item list or a capped one, "
        "so entered and left may be incomplete."
    )


# A key result's history.
class HistoryPublic(BaseModel):
    key_result_id: str
    measurements: list[MeasurementPublic]


# The answer to starting a sync.
class SyncAccepted(BaseModel):
    id: str
    state: str
    url: str


# A sync run with per-source costs and per-key-result outcomes.
class SyncPublic(BaseModel):
    id: str
    trigger: str
    state: str = Field(
        description="queued, running, succeeded, partial, failed, or abandoned "
        "(its replica stopped mid-sync)."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requests: int = Field(description="Upstream HTTP requests made.")
    sources: dict[str, Any]
    key_results: list[dict[str, Any]]
    error: str | None

    @classmethod
    def of(cls, row: SyncRow) -> SyncPublic:
        return cls(
            id=row.id,
            trigger=row.trigger,
            state=row.state,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            requests=row.requests,
            sources=row.stats or {},
            key_results=row.outcomes or [],
            error=row.error,
        )


# Liveness answer.
class Health(BaseModel):
    status: str
