"""The running service: database, current mappings, sync engine and schedule.

The CLI and the API both drive okrsync through one `Service`, so a sync from
`okrsync sync`, from `POST /api/v1/syncs` and from the schedule are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError

from app.clock import Clock, system_clock
from app.events import outbox
from app.events.sender import Sender
from app.mapping import MappingSet, load_mapping_set
from app.settings import Settings
from app.store import repository, webhook_repository
from app.store.db import Database, PoolOptions
from app.store.read_cache import ReadCache
from app.store.tables import MeasurementRow
from app.sync.engine import SyncEngine, SyncReport
from app.sync.scheduler import Scheduler
from app.webhooks.debounce import Debouncer, ResyncBatch
from connectors.base import Sleep

logger = logging.getLogger(__name__)


class CheckInRefusedError(Exception):
    """A check-in for a key result that does not take them."""


class Service:
    """Owns the database and the loaded mappings; runs syncs."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.database = Database(settings.database_url, _pool_options(settings))
        self.engine = SyncEngine(
            self.database, clock=clock, transport=transport, sleep=sleep
        )
        self.mappings = MappingSet()
        self.read_cache = ReadCache(self.database)
        self.engine.after_commit.append(self.read_cache.invalidate)
        self._tasks: set[asyncio.Task[object]] = set()
        # Webhooks: re-syncs that incoming deliveries ask for, gathered into
        # one per window, and the sender of outgoing deliveries.
        self.resyncs = Debouncer(
            settings.webhook_debounce_seconds, self._resync, self._spawn
        )
        self.sender = Sender(self.database, settings, clock=clock, transport=transport)
        # Scheduled syncs: replicas sharing the database take turns through a
        # lease row, so each interval's sync runs once, wherever it runs.
        self.scheduler = Scheduler(
            self.database,
            self._scheduled_sync,
            interval=settings.sync_interval,
            lease_ttl=settings.schedule_lease_ttl,
            poll_interval=settings.schedule_poll_interval,
            clock=clock,
            sleep=sleep,
        )

    async def start(self, mapping_paths: Sequence[Path] | None = None) -> None:
        """Create the schema and load the mappings (MappingError if invalid)."""
        paths = self.settings.mappings if mapping_paths is None else mapping_paths
        mappings = load_mapping_set(paths) if paths else MappingSet()
        await self.database.prepare()
        try:
            await self.use_mappings(mappings)
        except IntegrityError:
            # Another replica stored the same new definitions at the same
            # moment; what it stored is what this one meant to, so load again.
            logger.info("Definitions were stored concurrently; loading again")
            await self.use_mappings(mappings)

    async def reload_mappings(self) -> MappingSet:
        """Load every configured mapping file again and swap them in.

        All or nothing: on any problem this raises MappingError and the running
        configuration stays as it was.
        """
        paths = self.settings.mappings
        mappings = load_mapping_set(paths) if paths else MappingSet()
        await self.use_mappings(mappings)
        logger.info(
            "Reloaded mappings: %d objectives, %d key results",
            len(mappings.objectives),
            len(mappings.key_results),
        )
        return mappings

    async def use_mappings(self, mappings: MappingSet) -> None:
        """Make `mappings` current and store their definitions."""
        async with self.database.session() as session:
            await repository.save_definitions(session, mappings, self.clock())
            await session.commit()
        self.mappings = mappings
        self.read_cache.invalidate()

    async def sync(
        self, *, trigger: str = "manual", sync_id: str | None = None
    ) -> SyncReport:
        """Sync every key result now and wait for the result."""
        report = await self.engine.run(self.mappings, sync_id=sync_id, trigger=trigger)
        self.sender.wake()
        return report

    async def start_sync(self, trigger: str = "api") -> str:
        """Queue a sync in the background and return its id at once."""
        sync_id = await self.engine.create_run(trigger)
        self._spawn(self.sync(trigger=trigger, sync_id=sync_id))
        return sync_id

    async def run_schedule(self) -> None:
        """Run the scheduled sync whenever it is due and this replica wins it.

        Every `schedule_poll_interval` seconds (jittered) this replica looks
        at the schedule's lease in the database; of all replicas sharing the
        database, one runs each interval's sync. Runs until cancelled.
        """
        await self.scheduler.run_forever()

    async def _scheduled_sync(self, sync_id: str) -> SyncReport:
        return await self.sync(trigger="schedule", sync_id=sync_id)

    def start_schedule(self) -> None:
        """Run `run_schedule` in the background when an interval is set, and
        the webhook sender always.

        Syncs asked for through the API or by incoming webhooks are not part
        of the schedule: the replica that receives the request runs them.
        """
        if self.settings.sync_interval > 0:
            self._spawn(self.run_schedule())
        self._spawn(self.sender.run_forever())

    def request_resync(
        self, key_result_ids: Collection[str], deliveries: Collection[int] = ()
    ) -> None:
        """Re-sync key results soon, together with others asked for meanwhile.

        The first request opens a window of `webhook_debounce_seconds`; the
        union of what is asked for within it is synced once, and the stored
        incoming deliveries are then marked handled or failed.

        Args:
            key_result_ids: Key results an incoming webhook can affect.
            deliveries: Ids of the stored incoming deliveries asking.
        """
        self.resyncs.add(key_result_ids, deliveries)

    async def _resync(self, batch: ResyncBatch) -> None:
        state, sync_id, error = "handled", None, None
        if batch.key_results:
            try:
                report = await self.engine.run(
                    self.mappings, only=batch.key_results, trigger="webhook"
                )
            except Exception as exc:
                state, error = "failed", str(exc) or type(exc).__name__
            else:
                sync_id = report.sync_id
                if report.state == "failed":
                    errors = {kr.error or kr.outcome for kr in report.failed}
                    state, error = "failed", "; ".join(sorted(errors))[:500]
            self.sender.wake()
        async with self.database.session() as session:
            await webhook_repository.finish_incoming(
                session,
                batch.deliveries,
                state=state,
                now=self.clock(),
                sync_id=sync_id,
                error=error,
            )
            await session.commit()

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coroutine` in the background; `close` cancels what is left."""
        task: asyncio.Task[Any] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def check_in(
        self,
        kr_id: str,
        value: float,
        *,
        note: str | None = None,
        confidence: float | None = None,
    ) -> MeasurementRow:
        """Record a value by hand for a key result without a source.

        Raises:
            LookupError: No key result has this id.
            CheckInRefusedError: It is fed by a source, or archived.
        """
        now = self.clock()
        async with self.database.session() as session:
            row = await repository.get_key_result(session, kr_id)
            if row is None:
                raise LookupError(kr_id)
            if row.source is not None:
                raise CheckInRefusedError(
                    f"key result {kr_id!r} is fed by source {row.source!r}; its "
                    "values come from syncs, not check-ins"
                )
            if row.archived:
                raise CheckInRefusedError(f"key result {kr_id!r} is archived")
            measurement, previous = await repository.check_in(
                session, row, value, note=note, confidence=confidence, now=now
            )
            changes = await repository.refresh_scores(
                session, self.mappings, now, {kr_id: previous}
            )
            await outbox.record_changes(
                session, self.mappings, changes, f"check-in {measurement.id}", now
            )
            await session.commit()
        self.read_cache.invalidate()
        self.sender.wake()
        return measurement

    async def close(self) -> None:
        """Stop background work and close the database."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.sender.aclose()
        await self.database.dispose()


def _pool_options(settings: Settings) -> PoolOptions:
    return PoolOptions(
        size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        timeout=settings.db_pool_timeout,
        pre_ping=settings.db_pool_pre_ping,
    )
