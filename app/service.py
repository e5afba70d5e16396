"""The running service: database, current mappings, sync engine and schedule.

The CLI and the API both drive okrsync through one `Service`, so a sync from
`okrsync sync`, from `POST /api/v1/syncs` and from the schedule are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

import httpx

from app.clock import Clock, system_clock
from app.mapping import MappingSet, load_mapping_set
from app.settings import Settings
from app.store import repository
from app.store.db import Database
from app.sync.engine import SyncEngine, SyncReport
from connectors.base import Sleep

logger = logging.getLogger(__name__)


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
        self.database = Database(settings.database_url)
        self.engine = SyncEngine(
            self.database, clock=clock, transport=transport, sleep=sleep
        )
        self.mappings = MappingSet()
        self._tasks: set[asyncio.Task[object]] = set()

    async def start(self, mapping_paths: Sequence[Path] | None = None) -> None:
        """Create the schema and load the mappings (MappingError if invalid)."""
        paths = self.settings.mappings if mapping_paths is None else mapping_paths
        mappings = load_mapping_set(paths) if paths else MappingSet()
        await self.database.prepare()
        await self.use_mappings(mappings)

    async def use_mappings(self, mappings: MappingSet) -> None:
        """Make `mappings` current and store their definitions."""
        async with self.database.session() as session:
            await repository.save_definitions(session, mappings, self.clock())
            await session.commit()
        self.mappings = mappings

    async def sync(
        self, *, trigger: str = "manual", sync_id: str | None = None
    ) -> SyncReport:
        """Sync every key result now and wait for the result."""
        return await self.engine.run(self.mappings, sync_id=sync_id, trigger=trigger)

    async def start_sync(self, trigger: str = "api") -> str:
        """Queue a sync in the background and return its id at once."""
        sync_id = await self.engine.create_run(trigger)
        self._spawn(self.sync(trigger=trigger, sync_id=sync_id))
        return sync_id

    async def run_schedule(self) -> None:
        """Sync every `sync_interval` seconds until cancelled."""
        interval = self.settings.sync_interval
        while True:
            try:
                await self.sync(trigger="schedule")
            except Exception:
                logger.exception("Scheduled sync failed; next try in %.0f s", interval)
            await asyncio.sleep(interval)

    def start_schedule(self) -> None:
        """Run `run_schedule` in the background when an interval is set."""
        if self.settings.sync_interval > 0:
            self._spawn(self.run_schedule())

    def _spawn(self, coroutine: object) -> None:
        task: asyncio.Task[object] = asyncio.create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop background work and close the database."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.database.dispose()
