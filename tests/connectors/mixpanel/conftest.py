"""Shared fixtures for the Mixpanel connector tests: a fake Query API, fake clock."""

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

from connectors.base import FetchRequest, Window
from connectors.mixpanel import EventCountParams, MixpanelConfig, MixpanelConnector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mixpanel"


class Kit:
    """Helpers the tests share; reached through the `kit` fixture.

    With `--import-mode=importlib` a test module cannot import from conftest, so
    the helpers travel as a fixture.
    """

    PROJECT = "2195193"
    USERNAME = "okrsync.5f3a9c.mp-service-account"
    SECRET = "mp-SECRET-never-shown-7d41"
    """A secret that must never show up in messages, evidence or reprs."""
    URL = "https://mixpanel.com/api/query/segmentation"
    ZONE = ZoneInfo("Europe/Berlin")

    @staticmethod
    def load(name: str) -> Any:
        """A fresh copy of a body from tests/fixtures/mixpanel."""
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    @classmethod
    def block(cls, **changes: Any) -> dict[str, Any]:
        """A valid source block with `changes` applied."""
        return {
            "type": "mixpanel",
            "project_id": cls.PROJECT,
            "username": cls.USERNAME,
            "secret": cls.SECRET,
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
        cls, event: str = "Signed up", window: Window | None = None, **params: Any
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
        """The Authorization header the service account should produce."""
        pair = f"{cls.USERNAME}:{cls.SECRET}".encode()
        return "Basic " + base64.b64encode(pair).decode()


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
) -> AsyncIterator[Callable[..., MixpanelConnector]]:
    """Build connectors on the fake network; they are closed after the test."""
    made: list[MixpanelConnector] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def build(**changes: Any) -> MixpanelConnector:
        connector = MixpanelConnector(
            "product",
            MixpanelConfig.model_validate(Kit.block(**changes)),
            transport=httpx.MockTransport(router.async_handler),
            sleep=sleep,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
