"""Shared fixtures for the Amplitude connector tests: a fake Dashboard REST API."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from connectors.amplitude import AmplitudeConfig, AmplitudeConnector, EventCountParams
from connectors.base import FetchRequest, Window

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "amplitude"


class Kit:
    """Helpers the tests share; reached through the `kit` fixture.

    With `--import-mode=importlib` a test module cannot import from conftest, so
    the helpers travel as a fixture.
    """

    API_KEY = "amp-APIKEY-never-shown-41c2"
    SECRET_KEY = "amp-SECRETKEY-never-shown-9e07"
    """Keys that must never show up in messages, evidence or reprs."""
    URL = "https://amplitude.com/api/2/events/segmentation"
    ZONE = ZoneInfo("Europe/Berlin")

    @staticmethod
    def load(name: str) -> Any:
        """A fresh copy of a body from tests/fixtures/amplitude."""
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    @classmethod
    def block(cls, **changes: Any) -> dict[str, Any]:
        """A valid source block with `changes` applied."""
        return {
            "type": "amplitude",
            "api_key": cls.API_KEY,
            "secret_key": cls.SECRET_KEY,
            **changes,
        }

    @classmethod
    def window(cls, first: str = "2026-10-01", end: str = "2027-01-01") -> Window:
        """Local days `first` up to the day before `end`, in Europe/Berlin."""
        return Window(
            datetime.fromisoformat(first).replace(tzinfo=cls.ZONE),
            datetime.fromisoformat(end).replace(tzinfo=cls.ZONE),
        )

    @classmethod
    def ask(
        cls, event: str = "Play Song", window: Window | None = None, **params: Any
    ) -> FetchRequest:
        """A fetch request as the engine would build it."""
        return FetchRequest(
            metric="event_count",
            query=None,
            params=EventCountParams(event=event, **params),
            window=window or cls.window(),
        )

    @classmethod
    def basic_auth(cls) -> str:
        """The Authorization header the keys should produce."""
        pair = f"{cls.API_KEY}:{cls.SECRET_KEY}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    @classmethod
    def secrets(cls) -> list[str]:
        """Strings that must never show in messages, evidence or reprs."""
        return [cls.API_KEY, cls.SECRET_KEY, cls.basic_auth().split()[1]]


@pytest.fixture
def kit() -> type[Kit]:
    """The shared test helpers."""
    return Kit


@pytest.fixture
def sleeps() -> list[float]:
    """Seconds the connector asked to sleep (nothing really sleeps)."""
    return []


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    # The global mock too, so a request that slipped past the injected
    # transport still could not reach a real server.
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def make_connector(
    router: respx.MockRouter, sleeps: list[float]
) -> AsyncIterator[Callable[..., AmplitudeConnector]]:
    """Build connectors on the fake network; they are closed after the test."""
    made: list[AmplitudeConnector] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def build(**changes: Any) -> AmplitudeConnector:
        connector = AmplitudeConnector(
            "amp",
            AmplitudeConfig.model_validate(Kit.block(**changes)),
            transport=httpx.MockTransport(router.async_handler),
            sleep=sleep,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
