"""Dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.service import Service


def get_service(request: Request) -> Service:
    """The service this app was created with."""
    service: Service = request.app.state.service
    return service


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A database session for one request, closed when it ends."""
    async with get_service(request).database.session() as session:
        yield session


ServiceDep = Annotated[Service, Depends(get_service)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
