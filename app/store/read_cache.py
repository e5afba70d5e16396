"""The data version of progress reads, and rendered answers kept per version.

Dashboards poll the same few reads over and over. Every read first asks for
the data version (revision sums of objectives and key results, the newest
measurement id): at most once per `ttl` per process, so a burst of polls
costs one small query. An answer rendered for the current version is served
from memory, without loading rows or building models. Writes made in this
process invalidate at once; those of other replicas show within `ttl`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from app.store import repository
from app.store.db import Database

Version = tuple[Any, ...]


class ReadCache:
    """The data version, and rendered answers keyed by path and version."""

    def __init__(
        self,
        database: Database,
        *,
        ttl: float = 0.5,
        size: int = 2048,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._version: Version | None = None
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()
        self._answers: OrderedDict[tuple[str, Version], bytes] = OrderedDict()

    async def version(self) -> Version:
        """The data version, read again when older than `ttl`."""
        if self._version is not None and self.clock() - self._read_at < self.ttl:
            return self._version
        async with self._lock:
            if self._version is None or self.clock() - self._read_at >= self.ttl:
                started = self.clock()
                async with self.database.session() as session:
                    self._version = await repository.data_version(session)
                self._read_at = started
        assert self._version is not None
        return self._version

    def invalidate(self) -> None:
        """Forget the version, after a write in this process."""
        self._read_at = float("-inf")

    def get(self, key: str, version: Version) -> bytes | None:
        found = self._answers.get((key, version))
        if found is not None:
            self._answers.move_to_end((key, version))
        return found

    def put(self, key: str, version: Version, body: bytes) -> None:
        self._answers[(key, version)] = body
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
