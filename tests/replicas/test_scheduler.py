"""The schedule lease: replicas sharing a database run each interval's sync
once, take over from a dead replica, and never run two syncs at once.

Each scheduler here stands for one replica; they share one database (SQLite,
then PostgreSQL) and one fake clock that the fake sleep moves on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import SQLModel, col, select

from app.clock import FrozenClock
from app.service import Service
from app.settings import Settings
from app.store import leases
from app.store.db import Database
from app.store.lease_tables import ScheduleLeaseRow
from app.store.tables import SyncRow
from app.sync.scheduler import SCHEDULE, Scheduler
from tests.replicas.conftest import INTERVAL, POLL, TTL, Sleeper, Syncs

Replica = Callable[..., Scheduler]


async def lease_row(database: Database) -> ScheduleLeaseRow:
    async with database.session() as session:
        row = await leases.get_lease(session, SCHEDULE)
    assert row is not None
    return row


async def sync_rows(database: Database) -> list[SyncRow]:
    async with database.session() as session:
        query = select(SyncRow).order_by(col(SyncRow.created_at), col(SyncRow.id))
        return list(await session.exec(query))


def later(clock: FrozenClock, seconds: float) -> None:
    clock.now += timedelta(seconds=seconds)


async def test_three_replicas_polling_together_run_one_sync_per_interval(
    replica: Replica, syncs: Syncs, clock: FrozenClock, database: Database
) -> None:
    replicas = [replica(name) for name in ("a", "b", "c")]

    for _ in range(4):
        reports = await asyncio.gather(*(r.run_once() for r in replicas))
        assert sum(report is not None for report in reports) == 1
        later(clock, INTERVAL / 2)
        assert await asyncio.gather(*(r.run_once() for r in replicas)) == [None] * 3
        later(clock, INTERVAL / 2)

    assert len(syncs.ran) == 4
    rows = await sync_rows(database)
    assert [row.trigger for row in rows] == ["schedule"] * 4
    gaps = [b.created_at - a.created_at for a, b in zip(rows, rows[1:], strict=False)]
    assert gaps == [timedelta(seconds=INTERVAL)] * 3


async def test_the_next_sync_is_due_one_interval_after_the_last_one_started(
    replica: Replica, syncs: Syncs, clock: FrozenClock, database: Database
) -> None:
    started = clock.now

    async def slow(_sync_id: str) -> None:
        later(clock, 25)

    syncs.hold = slow
    assert await replica("a").run_once() is not None

    row = await lease_row(database)
    assert row.next_due_at == started + timedelta(seconds=INTERVAL)
    assert row.holder is None
    assert row.sync_id is None


async def test_a_dead_holder_s_lease_is_taken_once_expired_and_its_sync_abandoned(
    replica: Replica, syncs: Syncs, clock: FrozenClock, database: Database
) -> None:
    dead, alive = replica("dead-host:41"), replica("alive-host:42")
    claim = await dead.claim()
    assert claim is not None

    later(clock, TTL - 1)
    assert await alive.run_once() is None
    later(clock, 2)
    report = await alive.run_once()

    assert report is not None
    assert syncs.ran == [("alive-host:42", report.sync_id)]
    rows = {row.id: row for row in await sync_rows(database)}
    left = rows[claim.sync_id]
    assert left.state == "abandoned"
    assert left.finished_at == clock.now
    assert left.error is not None
    assert "dead-host:41" in left.error
    assert report.sync_id in left.error
    assert rows[report.sync_id].state == "succeeded"


async def test_heartbeats_keep_a_long_sync_s_lease_from_other_replicas(
    replica: Replica,
    syncs: Syncs,
    clock: FrozenClock,
    sleeper: Sleeper,
) -> None:
    sleeper.moves_clock = True
    other = replica("b")
    refused: list[object] = []

    async def long_sync(_sync_id: str) -> None:
        # The heartbeat's fake sleep moves the clock; each time it passes
        # another lease lifetime, the other replica tries to take over.
        start = clock.now
        while clock.now < start + timedelta(seconds=4 * TTL):
            await asyncio.sleep(0)
            if clock.now > start + timedelta(seconds=TTL * (len(refused) + 1)):
                refused.append(await other.claim())

    syncs.hold = long_sync
    report = await replica("a").run_once()

    assert report is not None
    assert len(refused) >= 3
    assert refused == [None] * len(refused)
    beats = [delay for delay in sleeper.delays if delay == pytest.approx(TTL / 3)]
    assert len(beats) >= 12
    assert [name for name, _ in syncs.ran] == ["a"]


class Ticker:
    """A fake sleep that returns once per `tick()`, for heartbeats on cue."""

    def __init__(self) -> None:
        self._ticks: asyncio.Queue[None] = asyncio.Queue()

    def tick(self) -> None:
        self._ticks.put_nowait(None)

    async def __call__(self, _seconds: float) -> None:
        await self._ticks.get()


async def test_a_replica_that_lost_its_lease_cancels_its_sync_at_the_next_heartbeat(
    replica: Replica, syncs: Syncs, clock: FrozenClock, database: Database
) -> None:
    ticker = Ticker()
    paused, successor = replica("paused", sleep=ticker), replica("successor")
    finished_anyway = []

    async def stuck(sync_id: str) -> None:
        if sync_id == first.sync_id:
            await asyncio.Event().wait()
            finished_anyway.append(sync_id)

    first = await paused.claim()
    assert first is not None
    syncs.hold = stuck
    running = asyncio.create_task(paused._run_claimed(first))
    await syncs.started.wait()

    # The paused replica misses its heartbeats; the lease runs out.
    later(clock, TTL + 1)
    report = await successor.run_once()
    assert report is not None
    ticker.tick()

    assert await asyncio.wait_for(running, timeout=5) is None
    assert finished_anyway == []
    assert [name for name, _ in syncs.ran] == ["successor"]
    rows = {row.id: row for row in await sync_rows(database)}
    assert rows[first.sync_id].state == "abandoned"
    lease = await lease_row(database)
    assert lease.holder is None
    assert lease.next_due_at == clock.now + timedelta(seconds=INTERVAL)


async def test_a_failed_sync_still_sets_the_next_due_time_and_frees_the_lease(
    replica: Replica, syncs: Syncs, clock: FrozenClock, database: Database
) -> None:
    started = clock.now
    syncs.error = RuntimeError("database went away")

    assert await replica("a").run_once() is None

    lease = await lease_row(database)
    assert lease.holder is None
    assert lease.next_due_at == started + timedelta(seconds=INTERVAL)
    assert await replica("b").run_once() is None


async def test_a_replica_stopping_mid_sync_abandons_it_and_frees_the_schedule_at_once(
    replica: Replica, syncs: Syncs, clock: FrozenClock, database: Database
) -> None:
    async def forever(_sync_id: str) -> None:
        await asyncio.Event().wait()

    syncs.hold = forever
    stopping = asyncio.create_task(replica("stopping").run_once())
    await syncs.started.wait()
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping

    [left] = await sync_rows(database)
    assert left.state == "abandoned"
    assert left.error is not None
    assert "stopping" in left.error
    syncs.hold = None
    report = await replica("next").run_once()
    assert report is not None
    assert syncs.ran == [("next", report.sync_id)]


async def test_run_forever_keeps_polling_with_jitter_after_an_error(
    replica: Replica, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 20:
            raise asyncio.CancelledError

    scheduler = replica("a", sleep=sleep)
    polls = 0

    async def failing_claim() -> None:
        nonlocal polls
        polls += 1
        raise OSError("connection refused")

    monkeypatch.setattr(scheduler, "claim", failing_claim)

    with pytest.raises(asyncio.CancelledError):
        await scheduler.run_forever()

    assert polls == 20
    assert all(POLL * 0.5 <= wait <= POLL * 1.5 for wait in waits)
    assert len(set(waits)) > 1


async def test_the_service_s_scheduled_sync_runs_the_engine_under_the_lease(
    database_url: str,
    clock: FrozenClock,
    fake_mapping: Callable[[str], object],
    fake_connector: type,
) -> None:
    settings = Settings(database_url=database_url, mappings=[], sync_interval=INTERVAL)
    service = Service(settings, clock=clock)
    async with service.database.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.drop_all)
        await connection.run_sync(SQLModel.metadata.create_all)
    fake_connector.answers = {"q": 7}  # type: ignore[attr-defined]
    key_results = (
        "      - {id: kr, title: KR, source: fake, metric: count, query: q, "
        "target: 10}\n"
    )
    await service.use_mappings(fake_mapping(key_results))  # type: ignore[arg-type]
    try:
        report = await service.scheduler.run_once()
        again = await service.scheduler.run_once()
        [row] = await sync_rows(service.database)
    finally:
        await service.close()

    assert report is not None
    assert report.state == "succeeded"
    assert again is None
    assert (row.id, row.trigger, row.state) == (report.sync_id, "schedule", "succeeded")


def test_pool_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OKRSYNC_DB_POOL_SIZE", "3")
    monkeypatch.setenv("OKRSYNC_DB_MAX_OVERFLOW", "4")
    monkeypatch.setenv("OKRSYNC_DB_POOL_TIMEOUT", "2.5")
    monkeypatch.setenv("OKRSYNC_DB_POOL_PRE_PING", "false")
    settings = Settings(database_url="postgresql://okrsync@127.0.0.1:9/okrsync")

    service = Service(settings)
    pool = service.database.engine.sync_engine.pool

    assert pool.size() == 3  # type: ignore[attr-defined]
    assert pool._max_overflow == 4  # type: ignore[attr-defined]
    assert pool._timeout == 2.5  # type: ignore[attr-defined]
    assert pool._pre_ping is False
