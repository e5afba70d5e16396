"""The REST API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api import (
    key_results,
    mappings,
    objectives,
    problems,
    subscriptions,
    syncs,
    tokens,
    webhooks,
)
from app.api.auth import require
from app.api.limits import BodyLimit
from app.api.schemas import Health
from app.mapping import MappingError
from app.service import Service

logger = logging.getLogger(__name__)


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
            _reload_on_sighup(service)
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
    settings = service.settings
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Location"],
        )
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        exempt_prefix=webhooks.router.prefix,
    )

    # Each route's scope; the webhook receivers authenticate by signature.
    read = [Depends(require("read"))]
    admin = [Depends(require("admin"))]
    for router, needs in (
        (objectives.router, read),
        (key_results.router, read),
        (syncs.router, read),
        (subscriptions.router, admin),
        (tokens.router, admin),
        (mappings.router, admin),
        (webhooks.router, []),
    ):
        app.include_router(router, responses=problems.RESPONSES, dependencies=needs)

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """Answer 200 while the process serves requests."""
        return Health(status="ok")

    return app


def _reload_on_sighup(service: Service) -> None:
    """`kill -HUP` reloads the mapping files, as POST /api/v1/mappings/reload does."""
    loop = asyncio.get_running_loop()

    async def reload() -> None:
        try:
            await service.reload_mappings()
        except MappingError as exc:
            logger.error("Mappings not reloaded; the running ones stay:\n%s", exc)

    def on_signal() -> None:
        loop.create_task(reload())

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGHUP, on_signal)
