"""The REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import key_results, objectives, problems, syncs
from app.api.schemas import Health
from app.service import Service


def create_app(service: Service, *, manage: bool = True) -> FastAPI:
    """The FastAPI app over `service`.

    With `manage`, the app starts the service (schema, mappings, schedule) on
    startup and closes it on shutdown; tests that drive the service pass False.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage:
            await service.start()
            service.start_schedule()
        try:
            yield
        finally:
            if manage:
                await service.close()

    app = FastAPI(
        title="okrsync",
        version="0.1.0",
        summary="OKR progress synced from Jira, GitHub and analytics tools.",
        lifespan=lifespan,
    )
    app.state.service = service
    problems.install(app)
    for router in (objectives.router, key_results.router, syncs.router):
        app.include_router(router, responses=problems.RESPONSES)

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """Answer 200 while the process serves requests."""
        return Health(status="ok")

    return app
