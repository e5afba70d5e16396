"""Validation of the Prometheus source block."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors import registry
from connectors.base import NoParams
from connectors.prometheus import PrometheusConfig, PrometheusConnector

from .conftest import PASSWORD, TOKEN


def config(**settings: Any) -> PrometheusConfig:
    return PrometheusConfig.model_validate(
        {"type": "prometheus", "url": "http://prometheus:9090", **settings}
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "prometheus:9090"}, "must start with http:// or https://"),
        ({"url": "https://"}, "must start with http:// or https://"),
        ({"url": "https://u:p@prom.example.test"}, "must not carry credentials"),
        ({"url": "https://prom.example.test/?x=1"}, "must not carry a query"),
        ({"url": "https://prom.example.test/api/v1/"}, "must not end in /api/v1"),
        (
            {"token": TOKEN, "username": "ann", "password": PASSWORD},
            "sets both `token` (bearer) and basic auth",
        ),
        ({"username": "ann"}, "has a `username` but no `password`"),
        ({"password": PASSWORD}, "has a `password` but no `username`"),
        ({"token": "\n"}, "token is empty"),
        ({"password": " ", "username": "ann"}, "password is empty"),
        ({"step": "1m"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_source_blocks_are_refused_with_a_clear_message(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        config(**settings)

    assert message in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_url_keeps_its_path_prefix_and_secrets_are_stripped_and_hidden() -> None:
    made = config(url="https://host.example.test/prometheus/", token=f" {TOKEN}\n")

    assert made.url == "https://host.example.test/prometheus"
    assert made.token is not None
    assert made.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(made)


def test_connector_declares_its_query_metric_and_is_registered() -> None:
    metric = PrometheusConnector.metrics["query"]

    assert set(PrometheusConnector.metrics) == {"query"}
    assert metric.needs_query
    assert metric.params is NoParams
    assert not metric.windowed
    assert registry.get("prometheus") is PrometheusConnector
