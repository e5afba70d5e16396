"""Fetching every planned query of one source, within its limits.

A source that asks for a pause longer than a sync should wait (a rate limit
reset an hour away) is deferred: its remaining queries are not sent, and the
engine records until when the source is left alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from app.sync.plan import Query, QueryKey, SourcePlan
from connectors.base import (
    Connector,
    ConnectorError,
    RateLimitedError,
    Reading,
    ReadingCache,
    Sleep,
    SourceConfig,
)
from connectors.http import MAX_INLINE_WAIT

logger = logging.getLogger(__name__)

QueryResult = Reading | ConnectorError


@dataclass
class SourceStats:
    """What one source cost in one sync."""

    type: str
    key_results: int = 0
    queries: int = 0
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    wait_seconds: float = 0.0
    failed_queries: int = 0
    deferred_until: datetime | None = None

    @property
    def saved_by_dedupe(self) -> int:
        """Queries not sent because another key result asked the same."""
        return self.key_results - self.queries

    @property
    def counted_requests(self) -> int:
        """Requests that count against a rate limit; 304 answers do not."""
        return self.requests - self.not_modified


class Deferred(ConnectorError):
    """The source is left alone until `until`; nothing was sent."""

    kind = "rate_limited"

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass
class SourceResult:
    """Answers to every query of a source, and what they cost."""

    stats: SourceStats
    answers: dict[QueryKey, QueryResult]
    cache: ReadingCache
    deferred: Deferred | None = None
    cleared: bool = False


@dataclass
class SourceRun:
    """Fetches one source's queries; one instance per source per sync."""

    plan: SourcePlan
    now: datetime
    cache: ReadingCache
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Sleep = asyncio.sleep
    deferred: Deferred | None = None
    wall_clock: Callable[[], float] = time.time
    _limit: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._limit = asyncio.Semaphore(self.plan.source.config.concurrency)

    async def fetch_all(self) -> SourceResult:
        """Ask every query unless the source is deferred."""
        source = self.plan.source
        stats = SourceStats(
            type=source.config.type,
            key_results=self.plan.key_result_count,
            queries=len(self.plan.queries),
        )
        if self.deferred is not None:
            stats.deferred_until = self.deferred.until
            answers: dict[QueryKey, QueryResult] = dict.fromkeys(
                self.plan.queries, self.deferred
            )
            return SourceResult(stats, answers, self.cache, self.deferred)

        connector = source.connector(
            source.name, source.config, transport=self.transport, sleep=self.sleep
        )
        connector.cache = self.cache
        connector.wall_clock = self.wall_clock
        async with connector:
            results: list[QueryResult] = await asyncio.gather(
                *(self._fetch(connector, q) for q in self.plan.queries.values())
            )
            _count(stats, connector)
        answers = dict(zip(self.plan.queries, results, strict=True))
        stats.failed_queries = sum(isinstance(a, ConnectorError) for a in results)
        stats.deferred_until = self.deferred.until if self.deferred else None
        return SourceResult(stats, answers, self.cache, self.deferred, cleared=True)

    async def _fetch(self, connector: Connector[Any], query: Query) -> QueryResult:
        async with self._limit:
            if self.deferred is not None:
                return self.deferred
            try:
                return await connector.fetch(query.request)
            except ConnectorError as exc:
                # An upstream may echo a credential in its error text.
                exc.message = scrub(exc.message, secret_values(connector.config))
                return self._failed(connector, exc)
            except Exception as exc:
                logger.exception("Connector %s raised unexpectedly", connector.name)
                return ConnectorError(f"internal error in the connector: {exc!r}")

    def _failed(self, connector: Connector[Any], exc: ConnectorError) -> QueryResult:
        if isinstance(exc, RateLimitedError) and exc.retry_after > MAX_INLINE_WAIT:
            return self._defer(exc)
        logger.warning(
            "Query to %s failed (%s): %s", connector.name, exc.kind, exc.message
        )
        return exc

    def _defer(self, error: RateLimitedError) -> Deferred:
        if self.deferred is None:
            until = self.now + timedelta(seconds=error.retry_after)
            message = f"{error.message}; next try at {until:%Y-%m-%d %H:%M:%S} UTC"
            self.deferred = Deferred(message, until)
            logger.warning(
                "Source %s is rate limited; deferred until %s",
                self.plan.source.name,
                until.isoformat(),
            )
        return self.deferred


def _count(stats: SourceStats, connector: Connector[Any]) -> None:
    stats.requests = connector.request_count
    stats.retries = connector.retry_count
    stats.not_modified = connector.not_modified_count
    stats.wait_seconds = connector.wait_seconds


def secret_values(config: SourceConfig) -> list[str]:
    """Every credential in a source block: secret fields and header values."""
    values: list[str] = []
    for name, value in config:
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif name == "headers" and isinstance(value, dict):
            values += [str(v) for v in value.values()]
    return [value for value in values if len(value) >= 4]


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
