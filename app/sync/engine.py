"""Runs a sync: fetch every planned query, then store all results at once.

Sources run concurrently, each with its own concurrency limit. A failing
query or source never stops the others; its key results keep their last
good value and are marked stale with the error.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from app.clock import Clock, system_clock
from app.mapping.load import MappingSet
from app.store import repository
from app.store.db import Database
from app.store.tables import SyncRow
from app.sync.plan import Query, SourcePlan, plan
from connectors.base import (
    Connector,
    ConnectorError,
    Reading,
    Sleep,
)

logger = logging.getLogger(__name__)


@dataclass
class SourceStats:
    """What one source cost in one sync."""

    type: str
    key_results: int = 0
    queries: int = 0
    requests: int = 0
    retries: int = 0
    failed_queries: int = 0

    @property
    def saved_by_dedupe(self) -> int:
        """Queries not sent because another key result asked the same."""
        return self.key_results - self.queries


@dataclass
class Outcome:
    """One key result's result in a sync."""

    key_result_id: str
    objective_id: str
    outcome: str
    value: float | None = None
    error: str | None = None


@dataclass
class SyncReport:
    """The result of a sync run."""

    sync_id: str
    state: str
    outcomes: list[Outcome] = field(default_factory=list)
    stats: dict[str, SourceStats] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(stats.requests for stats in self.stats.values())

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in ("failed", "misconfigured")]


QueryResult = Reading | ConnectorError


class SyncEngine:
    """Syncs key results from their sources into the store."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock = system_clock,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.database = database
        self.clock = clock
        self.transport = transport
        self.sleep = sleep
        self._lock = asyncio.Lock()

    async def create_run(self, trigger: str) -> str:
        """Record a queued sync and return its id."""
        sync_id = uuid.uuid4().hex
        async with self.database.session() as session:
            await repository.create_sync(session, sync_id, trigger, self.clock())
            await session.commit()
        return sync_id

    async def run(
        self,
        mappings: MappingSet,
        *,
        sync_id: str | None = None,
        only: Collection[str] | None = None,
        trigger: str = "manual",
    ) -> SyncReport:
        """Sync every key result (or those in `only`) and store the outcome."""
        sync_id = sync_id or await self.create_run(trigger)
        async with self._lock:
            await self._set_state(sync_id, "running", started=True)
            try:
                return await self._run(mappings, sync_id, only)
            except Exception as exc:
                logger.exception("Sync %s failed", sync_id)
                await self._set_state(sync_id, "failed", error=str(exc))
                raise

    async def _run(
        self, mappings: MappingSet, sync_id: str, only: Collection[str] | None
    ) -> SyncReport:
        selected = [
            kr
            for kr_id, kr in mappings.key_results.items()
            if only is None or kr_id in only
        ]
        plans = plan(selected, self.clock())
        results = await asyncio.gather(*(self._fetch_source(p) for p in plans))

        updates: list[repository.KeyResultUpdate] = []
        stats: dict[str, SourceStats] = {}
        for source_plan, (source_stats, answers) in zip(plans, results, strict=True):
            stats[source_plan.source.name] = source_stats
            for query in source_plan.queries.values():
                updates += _updates_for(query, answers[query.key])

        now = self.clock()
        async with self.database.session() as session:
            outcomes = await repository.apply_updates(
                session, updates, sync_id=sync_id, now=now
            )
            await repository.refresh_scores(session, mappings, now)
            report = _report(sync_id, selected, updates, outcomes, stats)
            await _finish(session, report, now)
            await session.commit()
        logger.info(
            "Sync %s finished: %s, %d key results, %d requests",
            sync_id,
            report.state,
            len(report.outcomes),
            report.requests,
        )
        return report

    async def _fetch_source(
        self, source_plan: SourcePlan
    ) -> tuple[SourceStats, dict[Any, QueryResult]]:
        source = source_plan.source
        stats = SourceStats(
            type=source.config.type,
            key_results=source_plan.key_result_count,
            queries=len(source_plan.queries),
        )
        limit = asyncio.Semaphore(source.config.concurrency)
        connector = source.connector(
            source.name, source.config, transport=self.transport, sleep=self.sleep
        )
        async with connector:
            answers = await asyncio.gather(
                *(
                    self._fetch_query(connector, query, limit)
                    for query in source_plan.queries.values()
                )
            )
            stats.requests = connector.request_count
            stats.retries = connector.retry_count
        stats.failed_queries = sum(isinstance(a, ConnectorError) for a in answers)
        keys = list(source_plan.queries)
        return stats, dict(zip(keys, answers, strict=True))

    async def _fetch_query(
        self,
        connector: Connector[Any],
        query: Query,
        limit: asyncio.Semaphore,
    ) -> QueryResult:
        async with limit:
            try:
                return await connector.fetch(query.request)
            except ConnectorError as exc:
                logger.warning(
                    "Query to %s failed (%s): %s", connector.name, exc.kind, exc
                )
                return exc
            except Exception as exc:
                logger.exception("Connector %s raised unexpectedly", connector.name)
                return ConnectorError(f"internal error in the connector: {exc!r}")

    async def _set_state(
        self,
        sync_id: str,
        state: str,
        *,
        started: bool = False,
        error: str | None = None,
    ) -> None:
        async with self.database.session() as session:
            row = await session.get(SyncRow, sync_id)
            if row is None:
                return
            row.state = state
            if started:
                row.started_at = self.clock()
            else:
                row.finished_at = self.clock()
            row.error = error
            session.add(row)
            await session.commit()


def _updates_for(query: Query, answer: QueryResult) -> list[repository.KeyResultUpdate]:
    if isinstance(answer, ConnectorError):
        return [
            repository.KeyResultUpdate(
                key_result_id=kr.spec.id,
                ok=False,
                error=answer.message,
                error_kind=answer.kind,
            )
            for kr in query.key_results
        ]
    evidence = answer.evidence.model_dump(mode="json")
    if answer.notes:
        evidence["notes"] = answer.notes
    return [
        repository.KeyResultUpdate(
            key_result_id=kr.spec.id, ok=True, value=answer.value, evidence=evidence
        )
        for kr in query.key_results
    ]


def _report(
    sync_id: str,
    selected: list[Any],
    updates: list[repository.KeyResultUpdate],
    outcomes: dict[str, str],
    stats: dict[str, SourceStats],
) -> SyncReport:
    by_id = {update.key_result_id: update for update in updates}
    rows: list[Outcome] = []
    for kr in selected:
        update = by_id.get(kr.spec.id)
        rows.append(
            Outcome(
                key_result_id=kr.spec.id,
                objective_id=kr.objective.id,
                outcome=outcomes.get(kr.spec.id, "manual"),
                value=update.value if update else None,
                error=update.error if update else None,
            )
        )
    failed = sum(row.outcome in ("failed", "misconfigured") for row in rows)
    synced = sum(row.outcome != "manual" for row in rows)
    state = "succeeded" if not failed else "failed" if failed == synced else "partial"
    return SyncReport(sync_id=sync_id, state=state, outcomes=rows, stats=stats)


async def _finish(session: Any, report: SyncReport, now: Any) -> None:
    row = await session.get(SyncRow, report.sync_id)
    if row is None:
        return
    row.state = report.state
    row.finished_at = now
    row.requests = report.requests
    row.stats = {
        name: {**asdict(stats), "saved_by_dedupe": stats.saved_by_dedupe}
        for name, stats in report.stats.items()
    }
    row.outcomes = [asdict(outcome) for outcome in report.outcomes]
    session.add(row)
