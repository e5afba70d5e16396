"""Every query and write of schedule leases (see `app.store.lease_tables`).

Each change is one conditional UPDATE judged by its row count, so it behaves
the same on SQLite and PostgreSQL and two replicas can never both win.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.lease_tables import ScheduleLeaseRow
from app.store.tables import SyncRow

UNFINISHED = ("queued", "running")
"""Sync states that a dead holder may have left behind."""


async def ensure_lease(session: AsyncSession, name: str, now: datetime) -> bool:
    """Create the lease row of a schedule, due now, unless it exists. Commits.

    Relies on the primary key rather than a look-up first, so replicas
    starting together create it once.

    Returns:
        True when this call created it.
    """
    if await get_lease(session, name) is not None:
        return False
    session.add(ScheduleLeaseRow(name=name, next_due_at=now, updated_at=now))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def get_lease(session: AsyncSession, name: str) -> ScheduleLeaseRow | None:
    """A schedule's lease row as stored now."""
    query = (
        select(ScheduleLeaseRow)
        .where(ScheduleLeaseRow.name == name)
        # Rows changed by UPDATE statements are read afresh.
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).first()


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(
        col(ScheduleLeaseRow.holder).is_(None),
        col(ScheduleLeaseRow.expires_at) < now,
    )


async def claim(
    session: AsyncSession, name: str, holder: str, now: datetime, until: datetime
) -> bool:
    """Take a schedule that is due and free (or whose holder's lease expired).

    The previous holder's `sync_id` is left in place for the caller to read
    and replace in the same transaction.

    Returns:
        True when `holder` now holds the lease until `until`.
    """
    result = await session.exec(
        update(ScheduleLeaseRow)
        .where(
            col(ScheduleLeaseRow.name) == name,
            col(ScheduleLeaseRow.next_due_at) <= now,
            _free(now),
        )
        .values(holder=holder, expires_at=until, claimed_at=now, updated_at=now)
    )
    return result.rowcount == 1


async def set_sync(
    session: AsyncSession, name: str, holder: str, sync_id: str | None
) -> None:
    """Record which sync the holder runs, so a successor can tidy it up."""
    await session.exec(
        update(ScheduleLeaseRow)
        .where(
            col(ScheduleLeaseRow.name) == name,
            col(ScheduleLeaseRow.holder) == holder,
        )
        .values(sync_id=sync_id)
    )


async def extend(
    session: AsyncSession, name: str, holder: str, now: datetime, until: datetime
) -> bool:
    """Move the holder's lease expiry to `until`; False if it is no longer held."""
    result = await session.exec(
        update(ScheduleLeaseRow)
        .where(
            col(ScheduleLeaseRow.name) == name,
            col(ScheduleLeaseRow.holder) == holder,
        )
        .values(expires_at=until, updated_at=now)
    )
    return result.rowcount == 1


async def release(
    session: AsyncSession,
    name: str,
    holder: str,
    now: datetime,
    next_due_at: datetime | None,
) -> bool:
    """Let go of the lease; the schedule is next due at `next_due_at`.

    With `next_due_at` None the due time stays as it was, so another replica
    takes the schedule at once (a holder that stops before finishing).

    Returns:
        False when `holder` no longer held the lease.
    """
    values: dict[str, object] = {
        "holder": None,
        "expires_at": None,
        "sync_id": None,
        "updated_at": now,
    }
    if next_due_at is not None:
        values["next_due_at"] = next_due_at
    result = await session.exec(
        update(ScheduleLeaseRow)
        .where(
            col(ScheduleLeaseRow.name) == name,
            col(ScheduleLeaseRow.holder) == holder,
        )
        .values(**values)
    )
    return result.rowcount == 1


async def abandon_sync(
    session: AsyncSession, sync_id: str, now: datetime, error: str
) -> bool:
    """Mark a sync `abandoned` if it never finished; False if it had."""
    result = await session.exec(
        update(SyncRow)
        .where(col(SyncRow.id) == sync_id, col(SyncRow.state).in_(UNFINISHED))
        .values(state="abandoned", finished_at=now, error=error)
    )
    return result.rowcount == 1
