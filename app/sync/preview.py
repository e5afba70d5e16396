"""Fetch one key result now and score it, storing nothing.

Lets an admin try a query from a mapping that is not loaded anywhere yet.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import httpx

from app import progress
from app.mapping.load import LoadedKeyResult
from app.progress import Status
from app.store.repository import start_and_target
from app.sync.plan import plan
from connectors.base import ConnectorError, Reading, Sleep


@dataclass
class Preview:
    """What a sync would record for one key result right now."""

    reading: Reading | None
    error: ConnectorError | None
    progress: float | None
    status: Status
    expected: float
    requests: int


async def preview(
    kr: LoadedKeyResult,
    now: datetime,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Preview:
    """Ask the key result's source once and compute progress and status."""
    if kr.source is None:
        raise ValueError(f"key result {kr.spec.id!r} has no source to ask")
    [source_plan] = plan([kr], now)
    [query] = source_plan.queries.values()
    source = source_plan.source
    connector = source.connector(
        source.name, source.config, transport=transport, sleep=sleep
    )
    reading: Reading | None = None
    error: ConnectorError | None = None
    async with connector:
        try:
            reading = await connector.fetch(query.request)
        except ConnectorError as exc:
            error = exc
        requests = connector.request_count
    return _score(kr, reading, error, now, requests)


def _score(
    kr: LoadedKeyResult,
    reading: Reading | None,
    error: ConnectorError | None,
    now: datetime,
    requests: int,
) -> Preview:
    spec, objective, mapping = kr.spec, kr.objective, kr.mapping
    start, target = start_and_target(spec)
    value = reading.value if reading else None
    kr_progress = progress.progress_of(
        spec.kind, value, start=start, target=target, threshold=spec.threshold
    )
    expected = progress.elapsed_share(
        objective.period.start, objective.period.end, now, mapping.timezone
    )
    status = progress.status_for(
        spec.kind,
        kr_progress,
        expected,
        on_track=mapping.status.on_track,
        at_risk=mapping.status.at_risk,
    )
    return Preview(reading, error, kr_progress, status, expected, requests)
