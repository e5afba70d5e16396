"""The Prometheus connector runs the shared connector contract suite."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.prometheus import PrometheusConnector
from connectors.testing import ConnectorContract, MetricCase

from .conftest import BASE_URL, QUERY_URL, TOKEN, docs_series, instant_answer


def answer(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.get(QUERY_URL).mock(return_value=httpx.Response(status, json=body))

    return routes


class TestPrometheusContract(ConnectorContract):
    connector = PrometheusConnector
    config = {"type": "prometheus", "url": BASE_URL, "token": TOKEN}
    secrets = [TOKEN]
    bad_configs = [
        ({"type": "prometheus"}, "url"),
        ({"type": "prometheus", "url": "prometheus:9090"}, "url"),
        (
            {
                "type": "prometheus",
                "url": BASE_URL,
                "token": TOKEN,
                "username": "a",
                "password": "b",
            },
            "token",
        ),
    ]
    cases = [
        MetricCase(
            "query",
            answer(instant_answer(docs_series()[:1])),
            query='up{job="prometheus"}',
            value=1,
        ),
        MetricCase(
            "query",
            answer(instant_answer([])),
            query='up{job="none"}',
            value=None,
            id="no series",
        ),
    ]
    upstream_error = MetricCase(
        "query",
        answer(
            {"status": "error", "errorType": "bad_data", "error": "parse error"}, 400
        ),
        query="up{",
    )
    malformed = MetricCase(
        "query", answer({"status": "success", "data": {}}), query="up"
    )
