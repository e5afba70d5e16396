"""Shared fixtures for the PostHog connector tests: fake network, clock, answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from connectors.base import Window
from connectors.posthog import PostHogConfig, PostHogConnector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "posthog"

BASE_URL = "https://us.posthog.com"
PROJECT_ID = "4242"
PROJECT_URL = f"{BASE_URL}/api/projects/{PROJECT_ID}"
QUERY_URL = f"{PROJECT_URL}/query/"

TOKEN = "phx_TestOnlyPersonalApiKey0123456789abcdef"

BERLIN = ZoneInfo("Europe/Berlin")
Q4_2026 = Window(
    start=datetime(2026, 10, 1, tzinfo=BERLIN),
    end=datetime(2027, 1, 1, tzinfo=BERLIN),
)


class FakeSleep:
    """Records the pauses the retry policy asks for, without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def insight_body(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded insight answer, safe to edit."""
    body = json.loads((FIXTURES / f"insight.{name}.json").read_text(encoding="utf-8"))
    assert isinstance(body, dict)
    return body


def hogql_answer(
    rows: list[list[Any]], columns: list[str] | None = None
) -> dict[str, Any]:
    """A query API answer to a HogQLQuery, in its documented shape."""
    columns = columns if columns is not None else ["count()"]
    return {
        "results": rows,
        "columns": columns,
        "types": [[name, "UInt64"] for name in columns],
        "hasMore": False,
        "limit": 100,
        "offset": 0,
        "hogql": "SELECT count() FROM events LIMIT 100",
    }


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
async def make_connector(
    router: respx.MockRouter, fake_sleep: FakeSleep
) -> AsyncIterator[Callable[..., PostHogConnector]]:
    """Build connectors on the fake network; they are closed after the test."""
    made: list[PostHogConnector] = []

    def build(**settings: Any) -> PostHogConnector:
        config = PostHogConfig.model_validate(
            {"type": "posthog", "project_id": PROJECT_ID, "token": TOKEN, **settings}
        )
        connector = PostHogConnector(
            "ph",
            config,
            transport=httpx.MockTransport(router.async_handler),
            sleep=fake_sleep,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
