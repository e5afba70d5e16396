"""Shared fixtures for the Prometheus connector tests: fake network, clock, answers.

The recorded fixtures are range-query answers (matrices). `instant_answer`
turns them into the instant-query answers the connector reads: each series
keeps its labels, and its last sample becomes the vector element's value.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.prometheus import PrometheusConfig, PrometheusConnector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prometheus"

BASE_URL = "http://prometheus.example.test:9090"
QUERY_URL = f"{BASE_URL}/api/v1/query"

TOKEN = "prom_TestOnlyBearerToken0123456789"
PASSWORD = "prom-TestOnly-Pa55word"


class FakeSleep:
    """Records the pauses the retry policy asks for, without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def matrix(name: str) -> list[dict[str, Any]]:
    """The `data.result` matrix of a recorded range answer."""
    loaded = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    result = loaded["data"]["result"] if isinstance(loaded, dict) else loaded
    assert isinstance(result, list)
    return result


def instant_answer(series: list[dict[str, Any]]) -> dict[str, Any]:
    """An instant-query vector answer with each series' last recorded sample."""
    vector = [{"metric": s["metric"], "value": list(s["values"][-1])} for s in series]
    return {"status": "success", "data": {"resultType": "vector", "result": vector}}


def docs_series() -> list[dict[str, Any]]:
    """The two `up` series of the documented range-query example."""
    return matrix("query_range.docs-example.json")


def recorded_up_series() -> list[dict[str, Any]]:
    """The nine `up` series recorded from a real Prometheus (2019)."""
    return matrix("query_range.up.result.json")


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
) -> AsyncIterator[Callable[..., PrometheusConnector]]:
    """Build connectors on the fake network; they are closed after the test."""
    made: list[PrometheusConnector] = []

    def build(**settings: Any) -> PrometheusConnector:
        config = PrometheusConfig.model_validate(
            {"type": "prometheus", "url": BASE_URL, **settings}
        )
        connector = PrometheusConnector(
            "prom",
            config,
            transport=httpx.MockTransport(router.async_handler),
            sleep=fake_sleep,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
