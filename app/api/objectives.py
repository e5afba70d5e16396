"""Objectives and their rolled-up progress."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api import caching
from app.api.deps import ServiceDep
from app.api.problems import NotFound, Problem
from app.api.schemas import IsoDateTime, ObjectiveList, ObjectivePublic
from app.progress import Status
from app.store import repository

router = APIRouter(prefix="/api/v1/objectives", tags=["objectives"])

DEFAULT_PAGE = 100
MAX_PAGE = 500


@router.get("", response_model=ObjectiveList)
async def list_objectives(
    request: Request,
    service: ServiceDep,
    team: Annotated[str | None, Query(description="Only this team's.")] = None,
    period: Annotated[str | None, Query(description="A period label: 2026-Q4.")] = None,
    status: Annotated[Status | None, Query(description="Only this status.")] = None,
    updated_since: Annotated[
        IsoDateTime | None,
        Query(description="Only objectives that changed (or whose key results did)."),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="Objectives per page.")
    ] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> ObjectiveList | Response:
    """List active objectives with their key results, in mapping order."""
    _require_zone("updated_since", updated_since)
    where = repository.ObjectiveFilter(
        team=team,
        period=period,
        status=status.value if status else None,
        updated_since=updated_since,
        after=_decode_cursor(cursor),
        limit=limit + 1,
    )

    async def build() -> ObjectiveList:
        async with service.database.session() as session:
            objectives, key_results = await repository.list_objectives(session, where)
        page, more = objectives[:limit], len(objectives) > limit
        items = [ObjectivePublic.of(row, key_results.get(row.id, [])) for row in page]
        next_cursor = _encode_cursor(page[-1].position, page[-1].id) if more else None
        return ObjectiveList(items=items, next_cursor=next_cursor)

    return await caching.cached_read(
        request, service.read_cache, service.settings.sync_interval, build
    )


@router.get("/{objective_id}", response_model=ObjectivePublic)
async def get_objective(
    objective_id: str,
    request: Request,
    service: ServiceDep,
) -> ObjectivePublic | Response:
    """Show one objective with its key results."""

    async def build() -> ObjectivePublic:
        async with service.database.session() as session:
            found = await repository.get_objective(session, objective_id)
        if found is None:
            raise NotFound("objective", objective_id)
        return ObjectivePublic.of(*found)

    return await caching.cached_read(
        request, service.read_cache, service.settings.sync_interval, build
    )


def _encode_cursor(position: int, objective_id: str) -> str:
    raw = json.dumps([position, objective_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position, objective_id = json.loads(base64.urlsafe_b64decode(padded))
        if isinstance(position, int) and isinstance(objective_id, str):
            return position, objective_id
    except (ValueError, TypeError, binascii.Error):
        pass
    raise Problem(422, "Invalid request", "cursor is not one this API gave out.")


def _require_zone(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise Problem(
            422, "Invalid request", f"{name} needs a time zone, e.g. 2026-10-01T00:00Z."
        )
