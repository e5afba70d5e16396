"""Shared fixtures for the http_json connector tests: fake network and clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from connectors.http_json import HttpJsonConfig, HttpJsonConnector

BASE_URL = "https://metrics.example.test/api/v2"

TOKEN = "tok_TestOnlyHttpJsonToken0123456789"
PASSWORD = "pw-TestOnly-S3cret!"
API_KEY = "key-TestOnly-HeaderValue-42"


class FakeSleep:
    """Records the pauses the retry policy asks for, without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


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
) -> AsyncIterator[Callable[..., HttpJsonConnector]]:
    """Build connectors on the fake network; they are closed after the test."""
    made: list[HttpJsonConnector] = []

    def build(**settings: Any) -> HttpJsonConnector:
        config = HttpJsonConfig.model_validate(
            {"type": "http_json", "url": BASE_URL, **settings}
        )
        connector = HttpJsonConnector(
            "stats",
            config,
            transport=httpx.MockTransport(router.async_handler),
            sleep=fake_sleep,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
