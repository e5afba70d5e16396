"""Runs a sync: fetch every planned query, then store all results at once.

Sources run concurrently, each with its own concurrency limit. A failing
query or source never stops the others; its key results keep their last
good value and are marked stale with the error.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from app.clock import Clock, system_clock
from app.events import outbox
from app.mapping.load import MappingSet
from app.store import repository, upstream
from app.store.db import Database
from app.store.tables import SyncRow
from app.sync.plan import Query, SourcePlan, plan
from app.sync.source_run import (
    Deferred,
    QueryResult,
    SourceResult,
    SourceRun,
    SourceStats,
)
from connectors.base import ConnectorError, Sleep

logger = logging.getLogger(__name__)


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
        self.after_commit: list[Callable[[], None]] = []
        """Called after a sync's results are committed (e.g. to drop caches)."""

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
        now = self.clock()
        selected = [
            kr
            for kr_id, kr in mappings.key_results.items()
            if only is None or kr_id in only
        ]
        plans = plan(selected, now)
        runs = await self._prepare(plans, now)
        results = await asyncio.gather(*(run.fetch_all() for run in runs))

        updates: list[repository.KeyResultUpdate] = []
        stats: dict[str, SourceStats] = {}
        for result, run in zip(results, runs, strict=True):
            stats[run.plan.source.name] = result.stats
            for query in run.plan.queries.values():
                updates += _updates_for(query, result.answers[query.key])

        now = self.clock()
        async with self.database.session() as session:
            for result, run in zip(results, runs, strict=True):
                await _save_source(session, run, result, now)
            outcomes, previous = await repository.apply_updates(
                session, updates, sync_id=sync_id, now=now
            )
            changes = await repository.refresh_scores(session, mappings, now, previous)
            report = _report(sync_id, selected, updates, outcomes, stats)
            # Subscribers' events commit (or roll back) with the change itself.
            await outbox.record_sync(session, mappings, changes, report, now)
            await _finish(session, report, now)
            await session.commit()
        for callback in self.after_commit:
            callback()
        logger.info(
            "Sync %s finished: %s, %d key results, %d requests",
            sync_id,
            report.state,
            len(report.outcomes),
            report.requests,
        )
        return report

    async def _prepare(self, plans: list[SourcePlan], now: datetime) -> list[SourceRun]:
        """A run per source, with its kept readings and any deferral."""
        fingerprints = [p.source.fingerprint for p in plans]
        async with self.database.session() as session:
            deferred = await upstream.deferred_sources(session, fingerprints, now)
            caches = [
                await upstream.load_reading_cache(session, fingerprint)
                for fingerprint in fingerprints
            ]
        runs = []
        for source_plan, cache in zip(plans, caches, strict=True):
            state = deferred.get(source_plan.source.fingerprint)
            pause = None
            if state is not None and state.deferred_until is not None:
                pause = Deferred(state.reason or "rate limited", state.deferred_until)
            run = SourceRun(
                source_plan,
                now,
                cache,
                self.transport,
                self.sleep,
                pause,
                wall_clock=lambda: self.clock().timestamp(),
            )
            runs.append(run)
        return runs

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
        next_try = answer.until if isinstance(answer, Deferred) else None
        return [
            repository.KeyResultUpdate(
                key_result_id=kr.spec.id,
                ok=False,
                error=answer.message,
                error_kind=answer.kind,
                next_try_at=next_try,
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


async def _save_source(
    session: AsyncSession, run: SourceRun, result: SourceResult, now: datetime
) -> None:
    source = run.plan.source
    await upstream.save_reading_cache(session, source.fingerprint, result.cache, now)
    if result.cleared or result.deferred is not None:
        until = result.deferred.until if result.deferred else None
        reason = result.deferred.message if result.deferred else None
        await upstream.set_deferral(
            session, source.fingerprint, source.name, until, reason, now
        )


async def _finish(session: AsyncSession, report: SyncReport, now: datetime) -> None:
    row = await session.get(SyncRow, report.sync_id)
    if row is None:
        return
    row.state = report.state
    row.finished_at = now
    row.requests = report.requests
    row.stats = {
        name: {
            **asdict(stats),
            "deferred_until": _iso(stats.deferred_until),
            "saved_by_dedupe": stats.saved_by_dedupe,
            "counted_requests": stats.counted_requests,
        }
        for name, stats in report.stats.items()
    }
    row.outcomes = [asdict(outcome) for outcome in report.outcomes]
    session.add(row)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
