"""Key results: latest state, history, evidence and check-ins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.api import caching, problems
from app.api.auth import require
from app.api.deps import ServiceDep, SessionDep
from app.api.problems import NotFound, Problem
from app.api.schemas import (
    CheckIn,
    EvidencePublic,
    HistoryPublic,
    IsoDateTime,
    KeyResultPublic,
    MeasurementPublic,
)
from app.service import CheckInRefusedError
from app.store import repository

router = APIRouter(prefix="/api/v1/key-results", tags=["key results"])


@router.get("/{key_result_id}", response_model=KeyResultPublic)
async def get_key_result(
    key_result_id: str,
    request: Request,
    service: ServiceDep,
) -> KeyResultPublic | Response:
    """Show a key result's value, progress, status and freshness."""

    async def build() -> KeyResultPublic:
        async with service.database.session() as session:
            row = await repository.get_key_result(session, key_result_id)
        if row is None:
            raise NotFound("key result", key_result_id)
        return KeyResultPublic.of(row)

    return await caching.cached_read(
        request, service.read_cache, service.settings.sync_interval, build
    )


@router.get("/{key_result_id}/history", response_model=HistoryPublic)
async def get_history(
    key_result_id: str,
    request: Request,
    service: ServiceDep,
    since: Annotated[IsoDateTime | None, Query(description="From this time.")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Up to this time.")] = None,
) -> HistoryPublic | Response:
    """List a key result's recorded values, oldest first."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Problem(
                422,
                "Invalid request",
                f"{name} needs a time zone, e.g. 2026-10-01T00:00Z.",
            )
    if since and until and since > until:
        raise Problem(422, "Invalid request", "since must not be after until.")

    async def build() -> HistoryPublic:
        async with service.database.session() as session:
            if await repository.get_key_result(session, key_result_id) is None:
                raise NotFound("key result", key_result_id)
            rows = await repository.history(
                session, key_result_id, since=since, until=until
            )
        return HistoryPublic(
            key_result_id=key_result_id,
            measurements=[MeasurementPublic.of(row) for row in rows],
        )

    return await caching.cached_read(
        request, service.read_cache, service.settings.sync_interval, build
    )


@router.post(
    "/{key_result_id}/check-ins",
    response_model=MeasurementPublic,
    status_code=201,
    dependencies=[Depends(require("write"))],
    responses={
        **problems.BODY_RESPONSES,
        409: problems.RESPONSES[404] | {"description": "Fed by a source"},
    },
)
async def check_in(
    key_result_id: str, body: CheckIn, service: ServiceDep
) -> MeasurementPublic:
    """Record a value by hand for a key result that has no source."""
    try:
        row = await service.check_in(
            key_result_id, body.value, note=body.note, confidence=body.confidence
        )
    except LookupError:
        raise NotFound("key result", key_result_id) from None
    except CheckInRefusedError as exc:
        raise Problem(409, "Conflict", str(exc)) from None
    return MeasurementPublic.of(row)


@router.get("/{key_result_id}/evidence", response_model=EvidencePublic)
async def get_evidence(key_result_id: str, session: SessionDep) -> EvidencePublic:
    """Explain the current value: the request, the answer, the items counted."""
    row = await repository.get_key_result(session, key_result_id)
    if row is None:
        raise NotFound("key result", key_result_id)
    latest = await repository.latest_measurements(session, key_result_id, 2)
    previous = latest[1] if len(latest) > 1 else None
    entered, left, compared = _item_changes(
        row.evidence, previous.evidence if previous else None
    )
    return EvidencePublic(
        key_result_id=row.id,
        value=row.value,
        synced_at=row.synced_at,
        evidence=row.evidence,
        previous=MeasurementPublic.of(previous) if previous else None,
        entered=entered,
        left=left,
        items_compared=compared,
    )


def _item_changes(
    now: dict[str, Any] | None, before: dict[str, Any] | None
) -> tuple[list[str], list[str], bool]:
    """Items that entered and left the counted set, and whether that is complete."""
    if now is None or before is None or not (_has_items(now) and _has_items(before)):
        return [], [], False
    current, earlier = _items(now), _items(before)
    entered = sorted(set(current) - set(earlier))
    left = sorted(set(earlier) - set(current))
    return entered, left, _complete(now) and _complete(before)


def _has_items(evidence: dict[str, Any]) -> bool:
    return bool(evidence.get("items")) or evidence.get("items_total") is not None


def _items(evidence: dict[str, Any]) -> list[str]:
    items = evidence.get("items") or []
    return [str(item) for item in items]


def _complete(evidence: dict[str, Any]) -> bool:
    total = evidence.get("items_total")
    return total is not None and total == len(evidence.get("items") or [])
