"""Scheduled syncs, run once per interval however many replicas there are.

The replicas agree through the database, not through memory or local files:
a `schedule_lease` row per schedule says who holds it, until when, and when
the schedule is next due. Every replica polls (`run_once`, jittered); the one
whose conditional UPDATE takes a due, free row creates the sync row in the
same transaction, runs the sync, renews the lease every third of its
lifetime, and on finishing sets the next due time to start + interval.

A replica that dies mid-sync stops renewing; once its lease has expired the
next replica to poll takes the schedule, marks the sync the dead one left
behind `abandoned`, and runs a new one. A sync writes all its results in one
transaction at its end (`SyncEngine._run`), so a dead replica leaves nothing
half-written. A replica that finds it has lost its lease (say it was paused
for longer than the lease) cancels its sync rather than race the new holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.clock import Clock
from app.store import leases, repository
from app.store.db import Database
from app.store.lease_tables import ScheduleLeaseRow
from app.sync.engine import SyncReport
from connectors.base import Sleep

logger = logging.getLogger(__name__)

SCHEDULE = "sync"
"""The name of the scheduled sync's lease row."""

RunSync = Callable[[str], Coroutine[Any, Any, SyncReport]]
"""Runs the sync with the given (already created) sync id."""


def replica_name() -> str:
    """This process as lease holders name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    """A lease this replica won, and the sync it runs under it."""

    holder: str
    sync_id: str
    started: datetime
    expires_at: datetime
    abandoned: str | None = None
    """The sync a dead holder left unfinished, now marked abandoned."""


class Scheduler:
    """Runs the scheduled sync when it is due and no other replica runs it."""

    def __init__(
        self,
        database: Database,
        run_sync: RunSync,
        *,
        interval: float,
        lease_ttl: float,
        poll_interval: float,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        name: str = SCHEDULE,
        replica: str | None = None,
    ) -> None:
        """Set up a scheduler; nothing happens until `run_once` or `run_forever`.

        Args:
            database: Where the lease and the sync rows are.
            run_sync: Runs a sync given the id of its row.
            interval: Seconds from one scheduled sync's start to the next.
            lease_ttl: Seconds a claim lasts without renewal.
            poll_interval: Seconds between looks, before jitter.
            clock: The service's clock; lease times come from it.
            sleep: Waits between polls and heartbeats (a fake one in tests).
            name: The lease row's name.
            replica: How this process is named in the lease; host and pid
                by default.
        """
        self.database = database
        self.run_sync = run_sync
        self.interval = timedelta(seconds=interval)
        self.lease_ttl = timedelta(seconds=lease_ttl)
        self.poll_interval = poll_interval
        self.clock = clock
        self.sleep = sleep
        self.name = name
        self.replica = replica or replica_name()
        self._row_exists = False

    async def run_forever(self) -> None:
        """Poll, and run the sync whenever this replica wins it, until cancelled."""
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception(
                    "Checking schedule %s failed; looking again in about %.0f s",
                    self.name,
                    self.poll_interval,
                )
            # Jitter keeps replicas started together from polling in lockstep.
            await self.sleep(self.poll_interval * random.uniform(0.5, 1.5))

    async def run_once(self) -> SyncReport | None:
        """One poll: if the sync is due and free, claim it and run it to the end.

        Returns:
            The sync's report, or None when nothing ran here (not due, held by
            another replica, the sync failed, or the lease was lost).
        """
        claim = await self.claim()
        if claim is None:
            return None
        return await self._run_claimed(claim)

    async def claim(self) -> Claim | None:
        """Take the schedule if it is due and free, creating its sync row.

        A cheap read first, so polls of a schedule that is not due write
        nothing; the conditional UPDATE then decides between replicas.
        """
        now = self.clock()
        await self._ensure_row(now)
        holder = f"{self.replica}/{uuid.uuid4().hex[:8]}"
        until = now + self.lease_ttl
        async with self.database.session() as session:
            before = await leases.get_lease(session, self.name)
            if before is None or not _claimable(before, now):
                return None
            previous_holder, previous_expiry = before.holder, before.expires_at
            if not await leases.claim(session, self.name, holder, now, until):
                await session.rollback()
                return None

            row = await leases.get_lease(session, self.name)
            left = row.sync_id if row is not None else None
            sync_id = uuid.uuid4().hex
            abandoned = None
            if left is not None:
                error = _abandoned_text(previous_holder, previous_expiry, sync_id)
                if await leases.abandon_sync(session, left, now, error):
                    abandoned = left

            await repository.create_sync(session, sync_id, "schedule", now)
            await leases.set_sync(session, self.name, holder, sync_id)
            await session.commit()

        if abandoned is not None:
            logger.warning(
                "Sync %s was abandoned by %s, whose lease expired; sync %s replaces it",
                abandoned,
                previous_holder,
                sync_id,
            )
        logger.info("Schedule %s claimed by %s for sync %s", self.name, holder, sync_id)
        return Claim(holder, sync_id, now, until, abandoned)

    async def heartbeat(self, claim: Claim) -> bool:
        """Renew the lease for another `lease_ttl`; False if it is not ours."""
        now = self.clock()
        async with self.database.session() as session:
            held = await leases.extend(
                session, self.name, claim.holder, now, now + self.lease_ttl
            )
            await session.commit()
        return held

    async def finish(self, claim: Claim) -> bool:
        """Let go of the lease; the schedule is next due `interval` after the
        claimed sync started. False if another replica had taken it meanwhile.
        """
        next_due = claim.started + self.interval
        return await self._release(claim, next_due)

    async def _run_claimed(self, claim: Claim) -> SyncReport | None:
        sync = asyncio.create_task(self.run_sync(claim.sync_id))
        beats = asyncio.create_task(self._keep_alive(claim, sync))
        report = None
        try:
            report = await sync
        except asyncio.CancelledError:
            if not (beats.done() and not beats.cancelled() and beats.result()):
                # This replica is shutting down: hand the schedule on now.
                await self._give_back(claim)
                raise
            return None
        except Exception as exc:
            # The engine has logged the details and marked the sync failed.
            logger.warning(
                "Scheduled sync %s failed (%s); the next one is due in %.0f s",
                claim.sync_id,
                type(exc).__name__,
                self.interval.total_seconds(),
            )
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await beats

        if not await self.finish(claim):
            logger.warning(
                "Schedule %s was taken over by another replica while sync %s ran; "
                "check this replica for pauses longer than the lease (%.0f s)",
                self.name,
                claim.sync_id,
                self.lease_ttl.total_seconds(),
            )
        return report

    async def _keep_alive(self, claim: Claim, sync: asyncio.Task[SyncReport]) -> bool:
        """Renew the lease every third of its lifetime while `sync` runs.

        Returns:
            True when the lease was lost and `sync` was cancelled.
        """
        expires = claim.expires_at
        period = self.lease_ttl.total_seconds() / 3
        while True:
            await self.sleep(period)
            try:
                held = await self.heartbeat(claim)
            except Exception:
                # The database may be back before the lease runs out.
                held = self.clock() < expires
                logger.warning(
                    "Could not renew the lease of schedule %s; trying again",
                    self.name,
                    exc_info=True,
                )
            else:
                if held:
                    expires = self.clock() + self.lease_ttl
            if not held:
                logger.error(
                    "Lost the lease of schedule %s during sync %s; stopping that "
                    "sync so that only the new holder's runs",
                    self.name,
                    claim.sync_id,
                )
                sync.cancel()
                return True

    async def _give_back(self, claim: Claim) -> None:
        """Mark the unfinished sync abandoned and free the schedule, due now."""
        now = self.clock()
        error = (
            f"Replica {self.replica} stopped during this sync; the next replica "
            "to poll runs the schedule again."
        )
        try:
            async with self.database.session() as session:
                await leases.abandon_sync(session, claim.sync_id, now, error)
                await leases.release(session, self.name, claim.holder, now, None)
                await session.commit()
        except Exception:
            logger.warning(
                "Could not hand schedule %s on while stopping; another replica "
                "takes it when the lease expires",
                self.name,
                exc_info=True,
            )

    async def _release(self, claim: Claim, next_due: datetime | None) -> bool:
        now = self.clock()
        async with self.database.session() as session:
            released = await leases.release(
                session, self.name, claim.holder, now, next_due
            )
            await session.commit()
        return released

    async def _ensure_row(self, now: datetime) -> None:
        # Only spares a look-up per poll; the row itself decides who works.
        if self._row_exists:
            return
        async with self.database.session() as session:
            await leases.ensure_lease(session, self.name, now)
        self._row_exists = True


def _claimable(row: ScheduleLeaseRow, now: datetime) -> bool:
    if row.next_due_at > now:
        return False
    return row.holder is None or (row.expires_at is not None and row.expires_at < now)


def _abandoned_text(
    holder: str | None, expired: datetime | None, successor: str
) -> str:
    when = f"{expired:%Y-%m-%d %H:%M:%S} UTC" if expired is not None else "unknown"
    return (
        f"Replica {holder or 'unknown'} stopped renewing its schedule lease "
        f"(expired {when}) before this sync finished; sync {successor} replaces "
        "it. That replica's log says why it stopped."
    )
