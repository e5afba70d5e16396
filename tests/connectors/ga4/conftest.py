"""Shared fixtures for the GA4 connector tests: a fresh RSA key, fake Google.

No private key is committed: each test session makes its own and builds a
service account key file around it. Google's token endpoint and the Data API
are served by respx; nothing reaches a network.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.base import FetchRequest, Window
from connectors.ga4 import GA4Config, GA4Connector, MetricParams

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ga4"


class Kit:
    """Helpers the tests share; reached through the `kit` fixture.

    With `--import-mode=importlib` a test module cannot import from conftest, so
    the helpers travel as a fixture.
    """

    PROPERTY = "123456789"
    API = "https://analyticsdata.googleapis.com"
    REPORT_URL = f"{API}/v1beta/properties/{PROPERTY}:runReport"
    TOKEN_URI = "https://oauth2.googleapis.com/token"
    EMAIL = "okrsync@okr-project.iam.gserviceaccount.com"
    KEY_ID = "0123456789abcdef0123456789abcdef01234567"
    ACCESS_TOKEN = "ya29.test-only-access-token"
    ZONE = ZoneInfo("Europe/Berlin")

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key
        self.public_key = key.public_key()
        self.pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def key_file(self, **changes: Any) -> dict[str, Any]:
        """A service account key file's fields; `None` values are dropped."""
        fields: dict[str, Any] = {
            "type": "service_account",
            "project_id": "okr-project",
            "private_key_id": self.KEY_ID,
            "private_key": self.pem,
            "client_email": self.EMAIL,
            "client_id": "104620089236455470001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.TOKEN_URI,
            "universe_domain": "googleapis.com",
            **changes,
        }
        return {name: value for name, value in fields.items() if value is not None}

    def credentials(self, **changes: Any) -> str:
        """The key file's text, as `${file:...}` would deliver it."""
        return json.dumps(self.key_file(**changes), indent=2)

    def secret_fragments(self) -> list[str]:
        """Strings that must never show in messages, evidence or reprs."""
        body_lines = [line for line in self.pem.splitlines() if "-----" not in line]
        return [body_lines[0], body_lines[-1], self.ACCESS_TOKEN]

    @staticmethod
    def load(name: str) -> Any:
        """A fresh copy of a body from tests/fixtures/ga4."""
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    @classmethod
    def window(cls, first: str = "2026-10-01", end: str = "2027-01-01") -> Window:
        """Local days `first` up to the day before `end`, in Europe/Berlin."""
        return Window(
            datetime.fromisoformat(first).replace(tzinfo=cls.ZONE),
            datetime.fromisoformat(end).replace(tzinfo=cls.ZONE),
        )

    @classmethod
    def ask(
        cls, metric: str = "activeUsers", window: Window | None = None, **params: Any
    ) -> FetchRequest:
        """A fetch request as the engine would build it."""
        return FetchRequest(
            metric="metric",
            query=None,
            params=MetricParams(metric=metric, **params),
            window=window or cls.window(),
        )

    @staticmethod
    def form_of(call: Any) -> dict[str, str]:
        """The form fields of a recorded token request."""
        fields = parse_qs(call.request.content.decode())
        return {name: values[0] for name, values in fields.items()}

    @staticmethod
    def json_of(call: Any) -> Any:
        """The JSON body of a recorded request."""
        return json.loads(call.request.content)


class FakeClock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def kit(rsa_key: rsa.RSAPrivateKey) -> Kit:
    """The shared test helpers, around this session's RSA key."""
    return Kit(rsa_key)


@pytest.fixture
def sleeps() -> list[float]:
    """Seconds the connector asked to sleep (nothing really sleeps)."""
    return []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    # The global mock too, so a request that slipped past the injected
    # transport still could not reach a real server.
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def google(router: respx.MockRouter, kit: Kit) -> respx.MockRouter:
    """Google's token endpoint granting tokens; add report routes per test."""
    router.post(kit.TOKEN_URI, name="token").respond(
        200, json=kit.load("token.granted.json")
    )
    return router


@pytest.fixture
async def make_connector(
    router: respx.MockRouter, kit: Kit, sleeps: list[float], clock: FakeClock
) -> AsyncIterator[Callable[..., GA4Connector]]:
    """Build connectors on the fake network; they are closed after the test."""
    made: list[GA4Connector] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def build(**settings: Any) -> GA4Connector:
        block = {
            "type": "ga4",
            "property_id": kit.PROPERTY,
            "credentials": kit.credentials(),
            **settings,
        }
        connector = GA4Connector(
            "web",
            GA4Config.model_validate(block),
            transport=httpx.MockTransport(router.async_handler),
            sleep=sleep,
            clock=clock,
        )
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()


@pytest.fixture
def report_body(kit: Kit) -> Callable[..., dict[str, Any]]:
    """The documented one-row answer, with another value or metric if asked."""

    def build(value: str = "1234", metric: str = "activeUsers") -> dict[str, Any]:
        body: dict[str, Any] = kit.load("runReport.active-users.json")
        body["metricHeaders"][0]["name"] = metric
        body["rows"][0]["metricValues"][0]["value"] = value
        return body

    return build
