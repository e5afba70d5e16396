"""The http_json connector runs the shared connector contract suite."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.http_json import HttpJsonConnector
from connectors.testing import ConnectorContract, MetricCase

from .conftest import API_KEY, BASE_URL, TOKEN


def answer(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.get(f"{BASE_URL}/stats").mock(
            return_value=httpx.Response(status, json=body)
        )

    return routes


class TestHttpJsonContract(ConnectorContract):
    connector = HttpJsonConnector
    config = {
        "type": "http_json",
        "url": BASE_URL,
        "token": TOKEN,
        "headers": {"X-Api-Key": API_KEY},
    }
    secrets = [TOKEN, API_KEY]
    bad_configs = [
        ({"type": "http_json"}, "url"),
        ({"type": "http_json", "url": "ftp://x"}, "url"),
        ({"type": "http_json", "url": BASE_URL, "headers": {"X-K": "a\nb"}}, "X-K"),
        (
            {"type": "http_json", "url": BASE_URL, "token": TOKEN, "username": "a"},
            "token",
        ),
    ]
    cases = [
        MetricCase(
            "value",
            answer({"data": {"total": 12}}),
            params={"path": "/stats", "select": "data.total"},
            value=12,
        ),
    ]
    upstream_error = MetricCase(
        "value",
        answer({"message": "no such stat"}, 404),
        params={"path": "/stats", "select": "data.total"},
    )
    malformed = MetricCase(
        "value",
        lambda router: router.get(f"{BASE_URL}/stats").mock(
            return_value=httpx.Response(200, text="<html>maintenance</html>")
        ),
        params={"path": "/stats", "select": "data.total"},
    )
