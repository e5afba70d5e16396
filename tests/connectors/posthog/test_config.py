"""Validation of the PostHog source block and the insight metric's params."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors import registry
from connectors.base import NoParams
from connectors.posthog import InsightParams, PostHogConfig, PostHogConnector

from .conftest import TOKEN


def config(**settings: Any) -> PostHogConfig:
    return PostHogConfig.model_validate(
        {"type": "posthog", "project_id": "12345", "token": TOKEN, **settings}
    )


def test_defaults_to_us_cloud_and_strips_the_key() -> None:
    made = config(token=f"  {TOKEN}\n", project_id=12345)

    assert made.url == "https://us.posthog.com"
    assert made.project_id == "12345"
    assert made.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(made)


@pytest.mark.parametrize(
    "url",
    [
        "https://eu.posthog.com",
        "https://posthog.internal.example.test/",
        "http://127.0.0.1:8000",
    ],
)
def test_eu_cloud_and_self_hosted_urls_are_accepted(url: str) -> None:
    assert config(url=url).url == url.rstrip("/")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "us.posthog.com"}, "must start with http:// or https://"),
        ({"url": "https://us.i.posthog.com"}, "the API is at https://us.posthog.com"),
        ({"url": "https://eu.i.posthog.com"}, "the API is at https://eu.posthog.com"),
        ({"url": "https://u:p@us.posthog.com"}, "without credentials"),
        ({"project_id": "my-project"}, "must be the numeric project id"),
        ({"project_id": "１２"}, "must be the numeric project id"),
        ({"project_id": True}, "must be a number, not true/false"),
        ({"token": " "}, "PostHog token is empty"),
        ({"token": "phc_PublicProjectKey123"}, "is a project API key (phc_...)"),
        ({"api_key": TOKEN}, "Extra inputs are not permitted"),
    ],
)
def test_bad_source_blocks_are_refused_with_a_clear_message(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        config(**settings)

    assert message in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert "phc_PublicProjectKey123" not in str(caught.value)


def test_token_is_required() -> None:
    with pytest.raises(ValidationError, match="token"):
        PostHogConfig.model_validate({"type": "posthog", "project_id": "1"})


@pytest.mark.parametrize(
    ("given", "insight"),
    [(14, 14), ("14", 14), (" 51 ", 51), ("sJslPafh", "sJslPafh")],
)
def test_insight_is_a_numeric_id_or_a_short_id(given: object, insight: object) -> None:
    assert InsightParams.model_validate({"insight": given}).insight == insight


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"insight": 0}, "must be 1 or more"),
        ({"insight": True}, "not true/false"),
        ({"insight": "a/b"}, "neither a numeric id nor a short id"),
        ({"insight": ""}, "neither a numeric id nor a short id"),
        ({"insight": 1, "series": -1}, "greater than or equal to 0"),
        ({"insight": 1, "series": True}, "not true/false"),
        ({"insight": 1, "display": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_insight_params_are_refused(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        InsightParams.model_validate(given)


def test_series_given_as_digits_is_an_index() -> None:
    assert InsightParams.model_validate({"insight": 1, "series": "2"}).series == 2


def test_connector_declares_its_metrics_and_is_registered() -> None:
    metrics = PostHogConnector.metrics

    assert set(metrics) == {"hogql", "insight"}
    assert metrics["hogql"].needs_query
    assert metrics["hogql"].windowed
    assert metrics["hogql"].params is NoParams
    assert not metrics["insight"].needs_query
    assert not metrics["insight"].windowed
    assert metrics["insight"].params is InsightParams
    assert registry.get("posthog") is PostHogConnector
