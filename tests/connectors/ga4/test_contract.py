"""The GA4 connector runs the shared connector contract suite."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.base import Window
from connectors.ga4 import GA4Connector
from connectors.testing import ConnectorContract, MetricCase

API = "https://analyticsdata.googleapis.test"
TOKEN_URI = "https://oauth2.googleapis.test/token"
REPORT = f"{API}/v1beta/properties/42:runReport"
ACCESS_TOKEN = "ya29.contract-access-token"
ZONE = ZoneInfo("UTC")
WINDOW = Window(datetime(2026, 10, 1, tzinfo=ZONE), datetime(2026, 11, 1, tzinfo=ZONE))

PEM = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)
KEY_FILE = json.dumps(
    {
        "type": "service_account",
        "private_key": PEM,
        "client_email": "contract@okr.iam.gserviceaccount.com",
        "token_uri": TOKEN_URI,
    }
)
PEM_LINE = PEM.splitlines()[1]


def report(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.post(TOKEN_URI).mock(
            return_value=httpx.Response(
                200, json={"access_token": ACCESS_TOKEN, "expires_in": 3599}
            )
        )
        router.post(REPORT).mock(return_value=httpx.Response(status, json=body))

    return routes


def one_row(value: str) -> dict[str, Any]:
    return {
        "metricHeaders": [{"name": "sessions", "type": "TYPE_INTEGER"}],
        "rows": [{"metricValues": [{"value": value}]}],
        "rowCount": 1,
    }


class TestGA4Contract(ConnectorContract):
    connector = GA4Connector
    config = {"type": "ga4", "property_id": "42", "credentials": KEY_FILE, "url": API}
    secrets = [PEM_LINE, ACCESS_TOKEN]
    bad_configs = [
        ({"type": "ga4", "credentials": KEY_FILE}, "property_id"),
        ({"type": "ga4", "property_id": "G-1", "credentials": KEY_FILE}, "property_id"),
        ({"type": "ga4", "property_id": "42"}, "credentials"),
        (
            {"type": "ga4", "property_id": "42", "credentials": KEY_FILE[:-1]},
            "credentials",
        ),
    ]
    cases = [
        MetricCase(
            "metric",
            report(one_row("5120")),
            params={"metric": "sessions"},
            window=WINDOW,
            value=5120,
        ),
        MetricCase(
            "metric",
            report({"metricHeaders": [{"name": "sessions"}]}),
            params={"metric": "sessions"},
            window=WINDOW,
            value=0,
            id="no rows",
        ),
    ]
    upstream_error = MetricCase(
        "metric",
        report(
            {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}},
            status=400,
        ),
        params={"metric": "sesions"},
        window=WINDOW,
    )
    malformed = MetricCase(
        "metric",
        report(one_row("many")),
        params={"metric": "sessions"},
        window=WINDOW,
    )
