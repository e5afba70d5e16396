"""Database tables. Progress and status are stored as computed at sync time,
so API reads do no math and no per-key-result queries.

Objectives and key results carry a `revision` that grows with every change a
reader could see; the API derives its ETags from them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone on every backend; reads back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _utc(nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


# An objective as loaded from a mapping file, with its rolled-up progress.
class ObjectiveRow(SQLModel, table=True):
    __tablename__ = "objective"

    id: str = Field(primary_key=True)
    title: str
    team: str | None = Field(default=None, index=True)
    owner: str | None = None
    description: str = ""
    period_label: str = Field(index=True)
    period_start: date
    period_end: date
    timezone: str = "UTC"
    mapping_file: str = ""
    position: int = 0
    progress: float | None = None
    expected: float | None = None
    status: str = Field(default="no_data", index=True)
    archived: bool = Field(default=False, index=True)
    revision: int = 0
    updated_at: datetime = _utc(nullable=False)


# A key result: its definition from the mapping and its latest computed state.
class KeyResultRow(SQLModel, table=True):
    __tablename__ = "key_result"

    id: str = Field(primary_key=True)
    objective_id: str = Field(index=True)
    position: int = 0
    title: str
    source: str | None = None
    source_type: str | None = None
    metric: str | None = None
    query: str | None = None
    params: dict[str, Any] | None = _json()
    start: float
    target: float
    unit: str = ""
    weight: float = 1.0
    direction: str = "increase"
    kind: str = "increase"
    threshold: float | None = None
    window: str | None = None
    value: float | None = None
    progress: float | None = None
    status: str = "no_data"
    synced_at: datetime | None = _utc()
    stale: bool = False
    last_error: str | None = None
    error_kind: str | None = None
    next_try_at: datetime | None = _utc()
    evidence: dict[str, Any] | None = _json()
    archived: bool = Field(default=False, index=True)
    revision: int = 0
    updated_at: datetime = _utc(nullable=False)


# One recorded value of a key result; a new row only when the value changes.
class MeasurementRow(SQLModel, table=True):
    __tablename__ = "measurement"
    __table_args__ = (Index("ix_measurement_kr_time", "key_result_id", "measured_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key_result_id: str
    measured_at: datetime = _utc(nullable=False)
    value: float | None = None
    source: str | None = None
    sync_id: str | None = None
    note: str | None = None
    confidence: float | None = None
    evidence: dict[str, Any] | None = _json()


# One sync run: its state, request counts and each key result's outcome.
class SyncRow(SQLModel, table=True):
    __tablename__ = "sync"

    id: str = Field(primary_key=True)
    trigger: str = "api"
    state: str = Field(default="queued", index=True)
    created_at: datetime = _utc(nullable=False)
    started_at: datetime | None = _utc()
    finished_at: datetime | None = _utc()
    requests: int = 0
    stats: dict[str, Any] | None = _json()
    outcomes: list[dict[str, Any]] | None = _json()
    error: str | None = None


# A connector's reading kept with the ETag it came with, for conditional requests.
class ReadingCacheRow(SQLModel, table=True):
    __tablename__ = "reading_cache"

    source: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    etag: str
    reading: dict[str, Any] | None = _json()
    updated_at: datetime = _utc(nullable=False)


# A source the engine must leave alone until a time, e.g. after a long rate limit.
class SourceStateRow(SQLModel, table=True):
    __tablename__ = "source_state"

    source: str = Field(primary_key=True)
    name: str
    deferred_until: datetime | None = _utc()
    reason: str | None = None
    updated_at: datetime = _utc(nullable=False)


# An API token: only a hash of it is kept; the token itself is shown once.
class ApiTokenRow(SQLModel, table=True):
    __tablename__ = "api_token"

    id: str = Field(primary_key=True)
    name: str
    scope: str
    token_hash: str = Field(unique=True)
    hint: str = Field(description="The token's first characters, to recognise it.")
    created_at: datetime = _utc(nullable=False)
    last_used_at: datetime | None = _utc()
    revoked_at: datetime | None = _utc()
