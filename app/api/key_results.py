"""Key results: latest state and history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import SessionDep
from app.api.problems import NotFound, Problem
from app.api.schemas import HistoryPublic, KeyResultPublic, MeasurementPublic
from app.store import repository

router = APIRouter(prefix="/api/v1/key-results", tags=["key results"])


@router.get("/{key_result_id}", response_model=KeyResultPublic)
async def get_key_result(key_result_id: str, session: SessionDep) -> KeyResultPublic:
    """Show a key result's value, progress, status and freshness."""
    row = await repository.get_key_result(session, key_result_id)
    if row is None:
        raise NotFound("key result", key_result_id)
    return KeyResultPublic.of(row)


@router.get("/{key_result_id}/history", response_model=HistoryPublic)
async def get_history(
    key_result_id: str,
    session: SessionDep,
    since: Annotated[datetime | None, Query(description="From this time.")] = None,
    until: Annotated[datetime | None, Query(description="Up to this time.")] = None,
) -> HistoryPublic:
    """List a key result's recorded values, oldest first."""
    if await repository.get_key_result(session, key_result_id) is None:
        raise NotFound("key result", key_result_id)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Problem(
                422,
                "Invalid request",
                f"{name} needs a time zone, e.g. 2026-10-01T00:00Z.",
            )
    if since and until and since > until:
        raise Problem(422, "Invalid request", "since must not be after until.")
    rows = await repository.history(session, key_result_id, since=since, until=until)
    return HistoryPublic(
        key_result_id=key_result_id,
        measurements=[MeasurementPublic.of(row) for row in rows],
    )
