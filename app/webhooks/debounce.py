"""Gathers re-sync requests so that a burst of webhooks costs one sync.

The first request starts a short window; requests arriving within it join
it; when it closes, the union of their key results is synced once. Requests
arriving while that sync runs start the next window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[Any]"]


@dataclass
class ResyncBatch:
    """Key results to re-sync together and the deliveries that asked for it."""

    key_results: set[str] = field(default_factory=set)
    deliveries: set[int] = field(default_factory=set)


class Debouncer:
    """Runs `run` once per window with everything requested in that window."""

    def __init__(
        self,
        delay: float,
        run: Callable[[ResyncBatch], Awaitable[None]],
        spawn: Spawn,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Set up an idle debouncer.

        Args:
            delay: Seconds a window stays open after its first request.
            run: Called with each closed window's batch.
            spawn: Starts a background task (the service's, so closing the
                service cancels it).
            sleep: Awaited for the window (real time: debouncing is about
                how upstreams send, not about the service's clock).
        """
        self.delay = delay
        self._run = run
        self._spawn = spawn
        self.sleep = sleep
        self._open: ResyncBatch | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(
        self, key_results: Collection[str], deliveries: Collection[int] = ()
    ) -> None:
        """Ask for a re-sync of `key_results` on behalf of `deliveries`.

        Args:
            key_results: Key result ids; may be empty when the deliveries
                affect nothing but should still be marked handled.
            deliveries: Ids of the stored incoming deliveries.
        """
        if self._open is None:
            self._open = ResyncBatch()
            task = self._spawn(self._close_after_delay(self._open))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._open.key_results.update(key_results)
        self._open.deliveries.update(deliveries)

    async def _close_after_delay(self, batch: ResyncBatch) -> None:
        await self.sleep(self.delay)

        if self._open is batch:
            self._open = None
        try:
            await self._run(batch)
        except Exception:
            logger.exception(
                "Webhook re-sync of %d key results failed", len(batch.key_results)
            )

    async def wait_idle(self) -> None:
        """Return once no window is open and no batch is running (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
