"""Fixtures for outgoing webhooks: a synced service with two teams, a fake
subscriber behind an httpx transport, and the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.clock import FrozenClock
from app.events.sender import Sender
from app.mapping import load_mapping_set
from app.service import Service
from app.store.webhook_tables import (
    SubscriptionRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEventRow,
)
from tests.helpers import api_client

MAPPING = """\
version: 1
sources:
  fake:
    type: fake
objectives:
  - id: web
    title: A faster web
    period: 2026-Q4
    team: web
    key_results:
      - id: web-bugs
        title: Open web bugs down to 0
        source: fake
        metric: count
        query: q-web
        start: 40
        target: 0
  - id: mobile
    title: Ship mobile
    period: 2026-Q4
    team: mobile
    key_results:
      - id: mobile-done
        title: Mobile issues done
        source: fake
        metric: count
        query: q-mobile
        target: 100
        unit: "%"
"""

PUBLIC_URL = "https://hooks.example.com/okrs"
PUBLIC_ADDRESS = "93.184.215.14"


class Subscriber:
    """A fake receiver: records requests, answers from a script (204 by default).

    A script item is a status code, a `(status, headers)` pair, or an
    exception to raise as the transport would.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: list[Any] = []
        self.transport = httpx.MockTransport(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.script.pop(0) if self.script else 204
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, tuple):
            return httpx.Response(answer[0], headers=answer[1])
        return httpx.Response(answer)


class Resolver:
    """A fake DNS: answers from `table`, counts look-ups, never leaves the test."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {"hooks.example.com": [PUBLIC_ADDRESS]}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(-2, "Name or service not known")
        return self.table[host]


class Outgoing:
    """The synced service, its API, the fake subscriber and the outbox rows."""

    def __init__(
        self,
        service: Service,
        client: httpx.AsyncClient,
        subscriber: Subscriber,
        resolver: Resolver,
        clock: FrozenClock,
        fake_connector: Any,
    ) -> None:
        self.service = service
        self.client = client
        self.subscriber = subscriber
        self.resolver = resolver
        self.clock = clock
        self.answers: dict[str, Any] = fake_connector.answers

    def configure(self, **settings: Any) -> Sender:
        """Give the service new settings and a sender that uses them."""
        updated = self.service.settings.model_copy(update=settings)
        self.service.settings = updated
        self.service.sender = self.sender(updated)
        return self.service.sender

    def sender(self, settings: Any = None) -> Sender:
        """Another sender on the same database, as another replica would run."""
        return Sender(
            self.service.database,
            settings or self.service.settings,
            clock=self.clock,
            transport=self.subscriber.transport,
            resolve=self.resolver,
        )

    async def subscribe(self, events: list[str], **body: Any) -> dict[str, Any]:
        """Create a subscription through the API; return its answer."""
        response = await self.client.post(
            "/api/v1/subscriptions", json={"url": PUBLIC_URL, "events": events, **body}
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def sync(self, **values: float) -> None:
        """Set fake upstream values (by query) and sync."""
        self.answers.update(values)
        await self.service.sync()

    def later(self, seconds: float) -> None:
        """Move the clock forward."""
        self.clock.now += timedelta(seconds=seconds)

    async def rows(self, table: type[Any]) -> list[Any]:
        """Every row of an outbox table."""
        async with self.service.database.session() as session:
            order = col(table.created_at if hasattr(table, "created_at") else table.id)
            return list(await session.exec(select(table).order_by(order)))

    async def events(self) -> list[WebhookEventRow]:
        return await self.rows(WebhookEventRow)

    async def deliveries(self) -> list[WebhookDeliveryRow]:
        return await self.rows(WebhookDeliveryRow)

    async def attempts(self) -> list[WebhookAttemptRow]:
        return await self.rows(WebhookAttemptRow)

    async def subscription(self, subscription_id: str) -> SubscriptionRow:
        async with self.service.database.session() as session:
            row = await session.get(SubscriptionRow, subscription_id)
            assert row is not None
            return row


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(service) as c:
        yield c


@pytest.fixture
async def outgoing(
    service: Service,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    fake_connector: Any,
    write_mapping: Callable[..., Path],
) -> AsyncIterator[Outgoing]:
    """A service synced once (web-bugs 30, mobile-done 50), short retry delays."""
    fake_connector.answers = {"q-web": 30.0, "q-mobile": 50.0}
    await service.use_mappings(load_mapping_set([write_mapping(MAPPING)], env={}))
    await service.sync()
    helper = Outgoing(service, client, Subscriber(), Resolver(), clock, fake_connector)
    helper.configure(webhook_retry_delays=[5.0, 30.0, 120.0], webhook_disable_after=20)
    yield helper
    await helper.service.sender.aclose()
