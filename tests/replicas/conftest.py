"""Fixtures for the schedule tests: a fresh database, a clock that sleeping
moves, and schedulers that stand for replicas sharing that database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import SQLModel

from app.clock import FrozenClock
from app.store.db import Database
from app.store.tables import SyncRow
from app.sync.engine import SyncReport
from app.sync.scheduler import Scheduler
from connectors.base import Sleep

INTERVAL = 60.0
TTL = 30.0
POLL = 5.0


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An empty database with every table (SQLite, then PostgreSQL)."""
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.drop_all)
        await connection.run_sync(SQLModel.metadata.create_all)
    yield database
    await database.dispose()


@dataclass
class Sleeper:
    """A fake sleep that records every wait in `delays`.

    With `moves_clock` it moves the clock on by the seconds asked for and
    yields; otherwise it never returns, so heartbeats and polls happen only
    when a test calls them.
    """

    clock: FrozenClock
    moves_clock: bool = False
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if not self.moves_clock:
            await asyncio.Event().wait()
        self.clock.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleeper(clock: FrozenClock) -> Sleeper:
    return Sleeper(clock)


@dataclass
class Syncs:
    """Stands for the sync engine: records which replica ran which sync.

    `hold`, when set, is awaited inside every sync before it finishes, so a
    test can act while a sync runs.
    """

    database: Database
    ran: list[tuple[str, str]] = field(default_factory=list)
    hold: Callable[[str], Awaitable[None]] | None = None
    error: Exception | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def runner(self, replica: str) -> Callable[[str], Coroutine[Any, Any, SyncReport]]:
        async def run(sync_id: str) -> SyncReport:
            self.started.set()
            await self._set_state(sync_id, "running")
            if self.hold is not None:
                await self.hold(sync_id)
            if self.error is not None:
                raise self.error
            self.ran.append((replica, sync_id))
            await self._set_state(sync_id, "succeeded")
            return SyncReport(sync_id=sync_id, state="succeeded")

        return run

    async def _set_state(self, sync_id: str, state: str) -> None:
        async with self.database.session() as session:
            row = await session.get(SyncRow, sync_id)
            assert row is not None, f"the scheduler did not create sync {sync_id}"
            row.state = state
            session.add(row)
            await session.commit()


@pytest.fixture
def syncs(database: Database) -> Syncs:
    return Syncs(database)


@pytest.fixture
def replica(
    database: Database, clock: FrozenClock, sleeper: Sleeper, syncs: Syncs
) -> Callable[..., Scheduler]:
    """A scheduler named `name` on the shared database, as a replica has;
    the shared fake sleep unless another is given."""

    def make(name: str, sleep: Sleep | None = None) -> Scheduler:
        return Scheduler(
            database,
            syncs.runner(name),
            interval=INTERVAL,
            lease_ttl=TTL,
            poll_interval=POLL,
            clock=clock,
            sleep=sleep or sleeper,
            replica=name,
        )

    return make
