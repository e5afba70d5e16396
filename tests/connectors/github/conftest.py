"""Shared fixtures for the GitHub connector tests: fake network and clock.

Recorded exchanges live in tests/fixtures/github/ as nock definitions; `nock`
serves them through respx under whatever base URL a test uses.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from connectors.github import GitHubConfig, GitHubConnector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github"

RECORDED_ORIGIN = "https://api.github.com"
"""The origin octokit and PyGithub recorded against (nock scope without :443)."""

TOKEN = "ghp_TestOnlyTokenDoNotLeak0123456789abcd"

# The recorded body was gzip/chunked on the wire; respx re-encodes plain JSON,
# so these would describe bytes that are no longer there.
DROPPED_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "status"}
)


class FakeSleep:
    """Records the pauses the retry policy asks for, without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Nock:
    """Loads nock definitions and serves them as respx routes."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router

    def load(self, name: str) -> list[dict[str, Any]]:
        """The exchanges of `tests/fixtures/github/<name>.nock.json`."""
        text = (FIXTURES / f"{name}.nock.json").read_text(encoding="utf-8")
        exchanges: list[dict[str, Any]] = json.loads(text)
        return exchanges

    def body(self, name: str, index: int = 0) -> Any:
        """A deep copy of one recorded response body, safe to edit."""
        return copy.deepcopy(self.load(name)[index]["response"])

    def response(
        self,
        exchange: dict[str, Any],
        base_url: str = RECORDED_ORIGIN,
        *,
        json_body: Any = None,
    ) -> httpx.Response:
        """The recorded answer, with links moved under `base_url`."""
        headers = {
            name: str(value).replace(RECORDED_ORIGIN, base_url)
            for name, value in exchange["headers"].items()
            if name.lower() not in DROPPED_HEADERS
        }
        body = exchange["response"] if json_body is None else json_body
        return httpx.Response(exchange["status"], json=body, headers=headers)

    def register(self, name: str, base_url: str = RECORDED_ORIGIN) -> list[respx.Route]:
        """Serve every exchange of a file under `base_url`, in recorded order."""
        base = httpx.URL(base_url)
        exchanges = self.load(name)

        # Params match by "contains", so the route asking for more parameters
        # must be tried first or it would be shadowed by a shorter one.
        ordered = sorted(exchanges, key=lambda e: -len(_query(e["path"])))
        routes = []
        for exchange in ordered:
            path, _, _ = exchange["path"].partition("?")
            route = self.router.route(
                method=exchange["method"].upper(),
                scheme=base.scheme,
                host=base.host,
                port=base.port or (443 if base.scheme == "https" else 80),
                path=base.path.rstrip("/") + path,
                params=_query(exchange["path"]),
            ).mock(return_value=self.response(exchange, base_url))
            routes.append(route)
        return routes

    @staticmethod
    def link(**rels: str) -> dict[str, str]:
        """A GitHub-style `Link` header, e.g. `link(next=url, last=url)`."""
        value = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in rels.items())
        return {"link": value}


def _query(path: str) -> dict[str, str]:
    return dict(parse_qsl(path.partition("?")[2], keep_blank_values=True))


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    # The global mock too, so a request that slipped past the injected
    # transport still could not reach a real server.
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def nock(router: respx.MockRouter) -> Nock:
    return Nock(router)


@pytest.fixture
async def make_connector(
    router: respx.MockRouter, fake_sleep: FakeSleep
) -> AsyncIterator[Callable[..., GitHubConnector]]:
    """Build connectors on the fake network; they are closed after the test."""
    made: list[GitHubConnector] = []

    def build(**settings: Any) -> GitHubConnector:
        config = GitHubConfig.model_validate({"type": "github", **settings})
        connector = GitHubConnector(
            "gh",
            config,
            transport=httpx.MockTransport(router.async_handler),
            sleep=fake_sleep,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
