"""Starting syncs and reading their results."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.auth import require
from app.api.deps import ServiceDep, SessionDep
from app.api.problems import NotFound
from app.api.schemas import SyncAccepted, SyncPublic
from app.store import repository

router = APIRouter(prefix="/api/v1/syncs", tags=["syncs"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SyncAccepted,
    dependencies=[Depends(require("admin"))],
)
async def start_sync(
    request: Request, response: Response, service: ServiceDep
) -> SyncAccepted:
    """Start a sync of every key result; poll its URL for the outcome."""
    sync_id = await service.start_sync(trigger="api")
    url = str(request.url_for("get_sync", sync_id=sync_id))
    response.headers["Location"] = url
    return SyncAccepted(id=sync_id, state="queued", url=url)


@router.get("/{sync_id}", response_model=SyncPublic)
async def get_sync(sync_id: str, session: SessionDep) -> SyncPublic:
    """Show a sync's state, request counts and per key result outcome."""
    row = await repository.get_sync(session, sync_id)
    if row is None:
        raise NotFound("sync", sync_id)
    return SyncPublic.of(row)
