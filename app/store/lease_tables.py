"""The table through which replicas agree who runs a schedule, and when.

One row per schedule name. A replica takes the row with a conditional UPDATE
(due, and free or expired), keeps `expires_at` moving while it works, and on
finishing sets the next due time and lets go. Nothing kept in one process's
memory decides who works, so any number of replicas can share a database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.store.tables import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


# Who runs a schedule now (if anyone), until when, and when it is next due.
class ScheduleLeaseRow(SQLModel, table=True):
    __tablename__ = "schedule_lease"

    name: str = Field(primary_key=True)
    holder: str | None = Field(
        default=None, description="Who holds the lease: host, process id and claim."
    )
    expires_at: datetime | None = _utc()
    next_due_at: datetime = _utc(nullable=False)
    sync_id: str | None = Field(
        default=None, description="The sync the holder runs; abandoned if it dies."
    )
    claimed_at: datetime | None = _utc()
    updated_at: datetime = _utc(nullable=False)
