"""Objectives and their rolled-up progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import SessionDep
from app.api.problems import NotFound
from app.api.schemas import ObjectiveList, ObjectivePublic
from app.progress import Status
from app.store import repository

router = APIRouter(prefix="/api/v1/objectives", tags=["objectives"])


@router.get("", response_model=ObjectiveList)
async def list_objectives(
    session: SessionDep,
    team: Annotated[str | None, Query(description="Only this team's.")] = None,
    period: Annotated[str | None, Query(description="A period label: 2026-Q4.")] = None,
    status: Annotated[Status | None, Query(description="Only this status.")] = None,
) -> ObjectiveList:
    """List active objectives with their key results."""
    objectives, key_results = await repository.list_objectives(
        session, team=team, period=period, status=status.value if status else None
    )
    items = [ObjectivePublic.of(row, key_results.get(row.id, [])) for row in objectives]
    return ObjectiveList(items=items)


@router.get("/{objective_id}", response_model=ObjectivePublic)
async def get_objective(objective_id: str, session: SessionDep) -> ObjectivePublic:
    """Show one objective with its key results."""
    found = await repository.get_objective(session, objective_id)
    if found is None:
        raise NotFound("objective", objective_id)
    return ObjectivePublic.of(*found)
