"""Mixpanel source blocks and params: what is accepted, the messages otherwise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.mapping import load_mapping_set
from connectors.mixpanel import EventCountParams, MixpanelConfig


def messages(error: ValidationError) -> str:
    return " | ".join(item["msg"] for item in error.errors())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"project_id": "acme-web"}, "project_id 'acme-web' must be a number"),
        ({"project_id": None}, "Input should be a valid string"),
        ({"workspace_id": "main"}, "workspace_id 'main' must be a number"),
        ({"username": "  "}, "the Mixpanel username is empty"),
        ({"secret": "\n"}, "the Mixpanel secret is empty"),
        ({"region": "apac"}, "Input should be 'us', 'eu' or 'in'"),
        ({"url": "mixpanel.com"}, "must start with http:// or https://"),
        ({"url": "https://u:p@mixpanel.test"}, "must not carry credentials"),
        ({"url": "https://mixpanel.test/?project_id=1"}, "must not carry"),
        ({"api_secret": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_source_settings_are_refused_with_a_clear_message(
    kit: Any, changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        MixpanelConfig.model_validate(kit.block(**changes))

    assert expected in messages(caught.value)
    assert kit.SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("region", "url", "expected"),
    [
        ("us", None, "https://mixpanel.com"),
        ("eu", None, "https://eu.mixpanel.com"),
        ("in", None, "https://in.mixpanel.com"),
        ("eu", "http://127.0.0.1:8930/", "http://127.0.0.1:8930"),
    ],
)
def test_the_region_picks_the_query_api_host_unless_url_overrides_it(
    kit: Any, region: str, url: str | None, expected: str
) -> None:
    config = MixpanelConfig.model_validate(kit.block(region=region, url=url))

    assert config.base_url == expected


def test_ids_given_as_numbers_are_kept_as_text_and_the_secret_is_trimmed(
    kit: Any,
) -> None:
    config = MixpanelConfig.model_validate(
        kit.block(project_id=2195193, workspace_id=3301, secret=kit.SECRET + "\n")
    )

    assert config.project_id == "2195193"
    assert config.workspace_id == "3301"
    assert config.secret.get_secret_value() == kit.SECRET
    assert kit.SECRET not in repr(config) + config.model_dump_json()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "Field required"),
        ({"event": " "}, "event must name a Mixpanel event"),
        ({"event": "Signed up", "type": "average"}, "'general' or 'unique'"),
        ({"event": "Signed up", "unit": "week"}, "Extra inputs"),
    ],
)
def test_bad_params_are_refused_with_a_clear_message(
    params: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        EventCountParams.model_validate(params)

    assert expected in messages(caught.value)


def test_the_documented_yaml_block_loads_through_the_mapping_loader(
    kit: Any, write_mapping: Callable[..., Path]
) -> None:
    text = """
version: 1
timezone: Europe/Berlin
sources:
  product:
    type: mixpanel
    project_id: 2195193
    username: okrsync.5f3a9c.mp-service-account
    secret: ${MIXPANEL_SECRET}
    region: eu
objectives:
  - id: activation
    title: Activate more sign-ups
    period: 2026-Q4
    key_results:
      - id: signups
        title: Sign-ups this quarter
        source: product
        metric: event_count
        params: {event: Signed up}
        target: 12000
      - id: weekly-buyers
        title: People who bought in the last 7 days
        source: product
        metric: event_count
        window: 7d
        params: {event: Purchase, type: unique}
        target: 800
"""
    loaded = load_mapping_set(
        [write_mapping(text)], env={"MIXPANEL_SECRET": kit.SECRET}
    )

    source = loaded.key_results["signups"].source
    assert source is not None
    assert isinstance(source.config, MixpanelConfig)
    assert source.config.base_url == "https://eu.mixpanel.com"
    assert source.config.secret.get_secret_value() == kit.SECRET
    assert loaded.key_results["weekly-buyers"].params == EventCountParams(
        event="Purchase", type="unique"
    )
