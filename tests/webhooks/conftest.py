"""Fixtures for incoming webhooks: a mapping naming the fixtures' repositories
and projects, a service whose re-syncs are recorded instead of run, signed
requests, and a subscriber server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.mapping import MappingSet, load_mapping_set
from app.service import Service
from app.store.webhook_tables import IncomingWebhookRow
from app.sync.engine import SyncReport
from app.webhooks.signatures import sign
from tests.helpers import api_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"

GITHUB_SECRET = "gh-test-secret"
JIRA_SECRET = "jira-test-secret"
SECRETS = {"GH_SECRET": GITHUB_SECRET, "JIRA_SECRET": JIRA_SECRET}

# Nothing listens on port 9 of loopback; re-syncs are faked, so no request is
# made, and one would fail at once rather than leave the machine.
NOWHERE = "http://127.0.0.1:9"

MAPPING = f"""\
version: 1
sources:
  gh:
    type: github
    url: {NOWHERE}/github
    webhook_secret: ${{GH_SECRET}}
  gh-twin:
    type: github
    url: {NOWHERE}/github-twin
    webhook_secret: ${{GH_SECRET}}
  gh-unsigned:
    type: github
    url: {NOWHERE}/github
  jira:
    type: jira
    url: {NOWHERE}/jira
    webhook_secret: ${{JIRA_SECRET}}
objectives:
  - id: eng
    title: Engineering
    period: 2026-Q4
    team: eng
    key_results:
      - id: gh-test-repo
        title: Open issues in test-repo down
        source: gh
        metric: issue_count
        query: repo:fixture-user-1/test-repo is:issue is:open
        start: 10
        target: 0
      - id: gh-anywhere
        title: Open bugs anywhere down
        source: gh
        metric: issue_count
        query: is:issue is:open label:bug
        start: 10
        target: 0
      - id: gh-codertocat
        title: Merged PRs of Codertocat
        source: gh
        metric: issue_count
        query: org:Codertocat is:pr is:merged
        target: 10
      - id: gh-acme-only
        title: Open issues in acme/app down
        source: gh
        metric: issue_count
        query: repo:acme/app is:open
        start: 10
        target: 0
      - id: gh-milestone-1
        title: Milestone 1 of Hello-World
        source: gh
        metric: milestone_percent
        params: {{repo: Codertocat/Hello-World, milestone: 1}}
        target: 100
      - id: gh-milestone-v1
        title: Milestone v1.0 of Hello-World, by title
        source: gh
        metric: milestone_percent
        params: {{repo: codertocat/hello-world, milestone: v1.0}}
        target: 100
      - id: gh-milestone-2
        title: Milestone 2 of Hello-World
        source: gh
        metric: milestone_percent
        params: {{repo: Codertocat/Hello-World, milestone: 2}}
        target: 100
      - id: gh-milestone-acme
        title: Milestone 1 of acme/app
        source: gh
        metric: milestone_percent
        params: {{repo: acme/app, milestone: 1}}
        target: 100
      - id: gh-board
        title: Octocoders board done
        source: gh
        metric: project_percent
        params: {{owner: Octocoders, project: 1}}
        target: 100
      - id: gh-acme-board
        title: Acme board done
        source: gh
        metric: project_percent
        params: {{owner: acme, project: 1}}
        target: 100
      - id: twin-test-repo
        title: Same repository, another source
        source: gh-twin
        metric: issue_count
        query: repo:fixture-user-1/test-repo is:issue is:open
        start: 10
        target: 0
      - id: unsigned-anywhere
        title: A source without a secret
        source: gh-unsigned
        metric: issue_count
        query: is:issue is:open
        start: 10
        target: 0
      - id: jira-tes
        title: TES issues done
        source: jira
        metric: done_percent
        query: project = TES AND fixVersion = "2.0"
        target: 100
      - id: jira-tes-by-name
        title: test1 issues done
        source: jira
        metric: done_percent
        query: project in ("test1", ABC)
        target: 100
      - id: jira-anywhere
        title: My open issues down
        source: jira
        metric: issue_count
        query: assignee = currentUser() AND statusCategory != Done
        start: 10
        target: 0
      - id: jira-mob-or-label
        title: MOB or labelled
        source: jira
        metric: issue_count
        query: project = MOB OR labels = urgent
        start: 10
        target: 0
      - id: jira-mob
        title: MOB issues done
        source: jira
        metric: done_percent
        query: project = MOB ORDER BY created
        target: 100
"""


@dataclass
class FakeEngine:
    """Stands in for `SyncEngine.run`: records what a re-sync would sync."""

    runs: list[set[str]] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    error: Exception | None = None

    async def run(
        self,
        mappings: MappingSet,
        *,
        sync_id: str | None = None,
        only: Any = None,
        trigger: str = "manual",
    ) -> SyncReport:
        self.runs.append(set(only or ()))
        self.triggers.append(trigger)
        if self.error is not None:
            raise self.error
        return SyncReport(sync_id=f"sync-{len(self.runs)}", state="succeeded")


class Hooks:
    """Sends signed recorded deliveries to the API and reads what was stored."""

    github_secret = GITHUB_SECRET
    jira_secret = JIRA_SECRET

    def __init__(
        self, service: Service, client: httpx.AsyncClient, engine: FakeEngine
    ) -> None:
        self.service = service
        self.client = client
        self.engine = engine

    @staticmethod
    def body(name: str) -> bytes:
        """A recorded delivery body, e.g. `github/issues.closed.json`."""
        return (FIXTURES / name).read_bytes()

    @staticmethod
    def github_headers(
        body: bytes,
        event: str,
        *,
        delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        secret: str = GITHUB_SECRET,
    ) -> dict[str, str]:
        """The headers GitHub sends with a delivery of `body`."""
        return {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/044aadd",
            "x-github-event": event,
            "x-github-delivery": delivery,
            "x-hub-signature-256": sign(secret, body),
        }

    @staticmethod
    def jira_headers(
        body: bytes, *, delivery: str | None = "1a2b3c", secret: str = JIRA_SECRET
    ) -> dict[str, str]:
        """The headers Jira Cloud sends with a delivery of `body`."""
        headers = {
            "content-type": "application/json",
            "x-hub-signature": sign(secret, body),
            "x-atlassian-webhook-flow": "Primary",
        }
        if delivery is not None:
            headers["x-atlassian-webhook-identifier"] = delivery
        return headers

    async def github(
        self, name: str, source: str = "gh", **header_options: Any
    ) -> httpx.Response:
        """POST the recorded GitHub delivery `name` (e.g. `issues.closed`)."""
        body = self.body(f"github/{name}.json")
        headers = self.github_headers(body, name.split(".")[0], **header_options)
        return await self.post(f"github/{source}", body, headers)

    async def jira(
        self, name: str, source: str = "jira", **header_options: Any
    ) -> httpx.Response:
        """POST the recorded Jira delivery `name`."""
        body = self.body(f"jira/{name}.json")
        return await self.post(
            f"jira/{source}", body, self.jira_headers(body, **header_options)
        )

    async def post(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST raw bytes to /api/v1/webhooks/<path>."""
        return await self.client.post(
            f"/api/v1/webhooks/{path}", content=body, headers=headers
        )

    async def incoming(self) -> list[IncomingWebhookRow]:
        """Every stored incoming delivery, in arrival order."""
        async with self.service.database.session() as session:
            query = select(IncomingWebhookRow).order_by(col(IncomingWebhookRow.id))
            return list(await session.exec(query))


def load_test_mapping(write_mapping: Callable[..., Path]) -> MappingSet:
    """The test mapping, its secrets taken from a fake environment."""
    return load_mapping_set([write_mapping(MAPPING)], env=SECRETS)


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the service, in process."""
    async with api_client(service) as c:
        yield c


@pytest.fixture
async def hooks(
    service: Service,
    client: httpx.AsyncClient,
    write_mapping: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Hooks:
    """The service with the test mapping, a 50 ms debounce and a fake engine."""
    service.resyncs.delay = 0.05
    await service.use_mappings(load_test_mapping(write_mapping))
    engine = FakeEngine()
    monkeypatch.setattr(service.engine, "run", engine.run)
    return Hooks(service, client, engine)


@dataclass
class Received:
    """One request a subscriber got."""

    request_line: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A subscriber on 127.0.0.1 that records each request and answers 204.

    `stop()` closes the listening socket (connections are refused) and
    `start()` listens again on the same port.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/okr-hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append(Received(request_line, headers, body))
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def documented() -> dict[str, Any]:
    """The Python receiver code from docs/webhooks.md, run as written."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
    text = docs.read_text(encoding="utf-8")
    blocks = text.split("```python\n")[1:]
    [code] = [
        block.split("```", 1)[0] for block in blocks if "def verify_webhook" in block
    ]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(docs), "exec"), namespace)  # noqa: S102
    return namespace
