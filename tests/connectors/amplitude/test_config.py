"""Amplitude source blocks and params: what is accepted, the messages otherwise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.mapping import load_mapping_set
from connectors.amplitude import AmplitudeConfig, EventCountParams


def messages(error: ValidationError) -> str:
    return " | ".join(item["msg"] for item in error.errors())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"api_key": ""}, "the Amplitude key is empty"),
        ({"secret_key": " \n"}, "the Amplitude key is empty"),
        ({"secret_key": None}, "Input should be a valid string"),
        ({"region": "in"}, "Input should be 'us' or 'eu'"),
        ({"url": "analytics.eu.amplitude.com"}, "must start with http:// or https://"),
        ({"url": "https://k:s@amplitude.test"}, "must not carry credentials"),
        ({"project_id": "1"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_source_settings_are_refused_with_a_clear_message(
    kit: Any, changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        AmplitudeConfig.model_validate(kit.block(**changes))

    assert expected in messages(caught.value)
    for secret in kit.secrets():
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("region", "url", "expected"),
    [
        ("us", None, "https://amplitude.com"),
        ("eu", None, "https://analytics.eu.amplitude.com"),
        ("us", "http://127.0.0.1:8932/", "http://127.0.0.1:8932"),
    ],
)
def test_the_region_picks_the_dashboard_api_host_unless_url_overrides_it(
    kit: Any, region: str, url: str | None, expected: str
) -> None:
    config = AmplitudeConfig.model_validate(kit.block(region=region, url=url))

    assert config.base_url == expected


def test_keys_are_trimmed_and_never_shown(kit: Any) -> None:
    config = AmplitudeConfig.model_validate(
        kit.block(api_key=kit.API_KEY + "\n", secret_key=" " + kit.SECRET_KEY)
    )

    assert config.api_key.get_secret_value() == kit.API_KEY
    assert config.secret_key.get_secret_value() == kit.SECRET_KEY
    shown = repr(config) + str(config) + config.model_dump_json()
    for secret in kit.secrets():
        assert secret not in shown


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "Field required"),
        ({"event": ""}, "event must name an Amplitude event type"),
        ({"event": "Play Song", "measure": "pct_dau"}, "'totals' or 'uniques'"),
        ({"event": "Play Song", "group_by": "country"}, "Extra inputs"),
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
  amp:
    type: amplitude
    api_key: ${AMPLITUDE_API_KEY}
    secret_key: ${AMPLITUDE_SECRET_KEY}
    region: eu
objectives:
  - id: engagement
    title: Listeners keep coming back
    period: 2026-Q4
    key_results:
      - id: plays
        title: Songs played this quarter
        source: amp
        metric: event_count
        params: {event: Play Song}
        target: 1000000
      - id: listeners
        title: People who played a song in the last 30 days
        source: amp
        metric: event_count
        window: 30d
        params: {event: Play Song, measure: uniques}
        target: 25000
"""
    env = {"AMPLITUDE_API_KEY": kit.API_KEY, "AMPLITUDE_SECRET_KEY": kit.SECRET_KEY}
    loaded = load_mapping_set([write_mapping(text)], env=env)

    source = loaded.key_results["plays"].source
    assert source is not None
    assert isinstance(source.config, AmplitudeConfig)
    assert source.config.base_url == "https://analytics.eu.amplitude.com"
    assert loaded.key_results["listeners"].params == EventCountParams(
        event="Play Song", measure="uniques"
    )
