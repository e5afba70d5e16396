"""Shared helpers for the Jira connector tests: fixtures, fake clock, fake Jira."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.base import FetchRequest, NoParams
from connectors.jira import FieldSumParams, JiraConfig, JiraConnector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "jira"


class Kit:
    """Helpers the tests share; reached through the `kit` fixture.

    With `--import-mode=importlib` a test module cannot import from conftest, so
    the helpers travel as a fixture.
    """

    CLOUD_URL = "https://acme.atlassian.test/jira-cloud"
    DC_URL = "https://jira.acme.test/jira"
    SECRET = "tok-SECRET-5f3a9c"
    """A token value that must never show up in messages or evidence."""

    @staticmethod
    def load(name: str) -> Any:
        """A fresh copy of a recorded fixture from tests/fixtures/jira."""
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    @staticmethod
    def clone_issues(
        template: dict[str, Any], count: int, *, first: int = 1
    ) -> list[dict[str, Any]]:
        """`count` copies of an issue with distinct ids and keys TES-first..."""
        issues = []
        for number in range(first, first + count):
            issue = copy.deepcopy(template)
            issue["id"] = str(10_000 + number)
            issue["key"] = f"TES-{number}"
            issues.append(issue)
        return issues

    @staticmethod
    def body_of(call: Any) -> dict[str, Any]:
        """The JSON body of a recorded respx call."""
        body: dict[str, Any] = json.loads(call.request.content)
        return body

    @staticmethod
    def ask(
        metric: str, query: str | None = "project = TES", **params: Any
    ) -> FetchRequest:
        """A fetch request as the engine would build it."""
        model = FieldSumParams(**params) if metric == "field_sum" else NoParams()
        return FetchRequest(metric=metric, query=query, params=model)


@pytest.fixture
def kit() -> type[Kit]:
    """The shared test helpers."""
    return Kit


@pytest.fixture
def sleeps() -> list[float]:
    """Seconds the connector asked to sleep (nothing really sleeps)."""
    return []


@pytest.fixture
def router() -> respx.MockRouter:
    """A fake Jira: every request must match a route, none reaches a network."""
    return respx.MockRouter(assert_all_called=False, assert_all_mocked=True)


Factory = Callable[..., JiraConnector]


@pytest.fixture
async def make_connector(
    router: respx.MockRouter, sleeps: list[float]
) -> AsyncIterator[Factory]:
    """Build connectors served by `router` and a fake clock; closed afterwards."""
    made: list[JiraConnector] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def build(**settings: Any) -> JiraConnector:
        settings.setdefault("type", "jira")
        settings.setdefault(
            "url",
            Kit.DC_URL if settings.get("deployment") == "datacenter" else Kit.CLOUD_URL,
        )
        connector = JiraConnector(
            "jira-test",
            JiraConfig(**settings),
            transport=httpx.MockTransport(router.async_handler),
            sleep=fake_sleep,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
