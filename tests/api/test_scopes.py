"""Every route declares a scope, and refuses callers without enough of it.

The test walks the app's routes, so a route added later without a scope
fails here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from app.api import create_app
from app.api.auth import SCOPES
from app.service import Service
from tests.helpers import api_client

OPEN_ROUTES = {"/healthz"}
"""Routes anyone may call: liveness."""

SIGNED_PREFIX = "/api/v1/webhooks/"
"""Webhook receivers authenticate every delivery by its signature instead."""


def api_routes(service: Service) -> list[tuple[str, str]]:
    """Every (method, path) of the API, from its OpenAPI description."""
    document = create_app(service, manage=False).openapi()
    found = []
    for path, operations in document["paths"].items():
        if path in OPEN_ROUTES or path.startswith(SIGNED_PREFIX):
            continue
        for method in operations:
            found.append((method.upper(), path))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


async def needed_scope(service: Service, method: str, path: str) -> str | None:
    """The smallest scope whose token is not refused (401/403), if any."""
    for scope in SCOPES:
        async with api_client(service, scope=scope) as client:
            response = await client.request(method, concrete(path), json={})
        if response.status_code not in (401, 403):
            return scope
    return None


@pytest.fixture
async def anonymous(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(service, scope=None) as client:
        yield client


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_route_refuses_a_request_without_a_token(
    service: Service, anonymous: httpx.AsyncClient
) -> None:
    routes = api_routes(service)

    assert len(routes) > 10
    for method, path in routes:
        response = await anonymous.request(method, concrete(path), json={})

        assert response.status_code == 401, f"{method} {path}"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_route_refuses_a_token_with_too_small_a_scope(
    service: Service,
) -> None:
    for method, path in api_routes(service):
        scope = await needed_scope(service, method, path)

        assert scope is not None, f"{method} {path} refuses even admin"
        if method != "GET":
            assert scope != "read", f"{method} {path} changes things with read"
        for weaker in SCOPES[: SCOPES.index(scope)]:
            async with api_client(service, scope=weaker) as client:
                response = await client.request(method, concrete(path), json={})
            assert response.status_code == 403, f"{method} {path} with {weaker}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_unknown_and_revoked_tokens_are_refused(service: Service) -> None:
    async with api_client(service, scope="admin") as admin:
        created = (
            await admin.post("/api/v1/tokens", json={"name": "old", "scope": "read"})
        ).json()
        await admin.delete(f"/api/v1/tokens/{created['id']}")
        listed = (await admin.get("/api/v1/tokens")).json()["items"]

    bad = {"Authorization": "Bearer okr_not-a-token"}
    revoked = {"Authorization": f"Bearer {created['token']}"}
    async with api_client(service, scope=None) as client:
        assert (await client.get("/api/v1/objectives", headers=bad)).status_code == 401
        response = await client.get("/api/v1/objectives", headers=revoked)
    assert response.status_code == 401
    assert all("token" not in item for item in listed)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_anonymous_reads_can_be_allowed_for_a_wall_dashboard(
    service: Service,
) -> None:
    service.settings = service.settings.model_copy(update={"anonymous_read": True})

    async with api_client(service, scope=None) as client:
        read = await client.get("/api/v1/objectives")
        write = await client.post("/api/v1/syncs")

    assert read.status_code == 200
    assert write.status_code == 401
