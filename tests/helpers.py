"""Helpers shared by test modules (import as `tests.helpers`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from app.api import create_app
from app.service import Service
from app.store import tokens


async def new_token(service: Service, scope: str = "admin") -> str:
    """Create an API token with `scope` and return it."""
    async with service.database.session() as session:
        _, token = await tokens.create(session, f"test {scope}", scope, service.clock())
        await session.commit()
    return token


@asynccontextmanager
async def api_client(
    service: Service,
    scope: str | None = "admin",
    app: FastAPI | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API over `service`, in process, with a token of `scope` (None: no token)."""
    headers = {}
    if scope is not None:
        headers["Authorization"] = f"Bearer {await new_token(service, scope)}"
    transport = httpx.ASGITransport(app=app or create_app(service, manage=False))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://okrsync", headers=headers
    ) as client:
        yield client
