"""The PostHog connector runs the shared connector contract suite."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.posthog import PostHogConnector
from connectors.testing import ConnectorContract, MetricCase

from .conftest import (
    PROJECT_ID,
    PROJECT_URL,
    Q4_2026,
    QUERY_URL,
    TOKEN,
    hogql_answer,
    insight_body,
)

SIGNUPS = (
    "SELECT count() FROM events WHERE event = 'signed_up' "
    "AND timestamp >= toDateTime({window_start}) "
    "AND timestamp < toDateTime({window_end})"
)


def query_answer(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.post(QUERY_URL).mock(return_value=httpx.Response(status, json=body))

    return routes


def insight_answer(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.get(f"{PROJECT_URL}/insights/14/").mock(
            return_value=httpx.Response(status, json=body)
        )

    return routes


class TestPostHogContract(ConnectorContract):
    connector = PostHogConnector
    config = {"type": "posthog", "project_id": PROJECT_ID, "token": TOKEN}
    secrets = [TOKEN]
    bad_configs = [
        ({"type": "posthog", "token": TOKEN}, "project_id"),
        ({"type": "posthog", "project_id": "x1", "token": TOKEN}, "project_id"),
        ({"type": "posthog", "project_id": "1"}, "token"),
        (
            {"type": "posthog", "project_id": "1", "token": TOKEN, "url": "x"},
            "url",
        ),
    ]
    cases = [
        MetricCase(
            "hogql",
            query_answer(hogql_answer([[321]])),
            query=SIGNUPS,
            window=Q4_2026,
            value=321,
        ),
        MetricCase(
            "insight",
            insight_answer(insight_body("trends-number")),
            params={"insight": 14},
            value=3141592,
        ),
    ]
    upstream_error = MetricCase(
        "insight",
        insight_answer({"type": "invalid_request", "detail": "Not found."}, 404),
        params={"insight": 14},
    )
    malformed = MetricCase(
        "hogql", query_answer({"columns": ["x"]}), query="SELECT 1", window=Q4_2026
    )
