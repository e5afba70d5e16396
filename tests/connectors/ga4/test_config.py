"""GA4 source blocks and params: what is accepted, and the messages otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.mapping import MappingError, load_mapping_set
from app.mapping.yamltext import PlainScalar
from connectors.ga4 import GA4Config, MetricParams

BROKEN_PEM = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"


def block(kit: Any, **changes: Any) -> dict[str, Any]:
    return {
        "type": "ga4",
        "property_id": kit.PROPERTY,
        "credentials": kit.credentials(),
        **changes,
    }


def messages(error: ValidationError) -> str:
    return " | ".join(item["msg"] for item in error.errors())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"property_id": "G-2XYZ34ABCD"}, "is a measurement id"),
        ({"property_id": "web-shop"}, "must be the property's numeric id"),
        ({"property_id": ""}, "must be the property's numeric id"),
        ({"url": "ftp://analyticsdata.googleapis.com"}, "must start with http"),
        ({"url": "https://user:pw@analyticsdata.test"}, "must not carry credentials"),
        ({"token_url": "not a url"}, "must start with http"),
        ({"sampling": True}, "Extra inputs are not permitted"),
    ],
)
def test_bad_source_settings_are_refused_with_a_clear_message(
    kit: Any, changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        GA4Config.model_validate(block(kit, **changes))

    assert expected in messages(caught.value)


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ("/run/secrets/ga4.json", "do not start with '{'"),
        ('{"type": "service_account",', "not valid JSON (line 1, column"),
        ("[1, 2]", "do not start with '{'"),
        ('{"type": "authorized_user"}', "have 'authorized_user' type"),
        ('{"client_email": "a@b.c"}', "have no type"),
    ],
)
def test_credentials_that_are_not_a_key_file_are_refused(
    kit: Any, credentials: str, expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        GA4Config.model_validate(block(kit, credentials=credentials))

    assert expected in messages(caught.value)
    assert "credentials" in caught.value.errors()[0]["loc"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"client_email": None}, "has no 'client_email'"),
        ({"private_key": None}, "has no 'private_key'"),
        ({"token_uri": None}, "has no 'token_uri'"),
        ({"client_email": "  "}, "has no 'client_email'"),
        ({"private_key": BROKEN_PEM}, "'private_key' is not a PEM RSA private key"),
        ({"token_uri": "oauth2.googleapis.com/token"}, "'token_uri' is not an http"),
    ],
)
def test_key_files_missing_a_needed_field_name_it_without_echoing_the_key(
    kit: Any, changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        GA4Config.model_validate(block(kit, credentials=kit.credentials(**changes)))

    shown = f"{caught.value} {messages(caught.value)}"
    assert expected in shown
    for fragment in [*kit.secret_fragments(), "bm90IGEga2V5"]:
        assert fragment not in shown


def test_property_id_accepts_a_number_or_the_resource_name(kit: Any) -> None:
    as_number = GA4Config.model_validate(block(kit, property_id=123456789))
    as_name = GA4Config.model_validate(block(kit, property_id="properties/123456789"))

    assert as_number.property_id == "123456789"
    assert as_name.property_id == "123456789"


def test_the_token_url_defaults_to_the_key_files_token_uri(kit: Any) -> None:
    config = GA4Config.model_validate(block(kit))
    override = GA4Config.model_validate(block(kit, token_url="http://127.0.0.1:9/t/"))

    assert config.token_endpoint(config.service_account()) == kit.TOKEN_URI
    assert override.token_endpoint(override.service_account()) == (
        "http://127.0.0.1:9/t"
    )


def test_the_private_key_never_shows_in_reprs_or_dumps(kit: Any) -> None:
    config = GA4Config.model_validate(block(kit))
    account = config.service_account()

    shown = " ".join(
        [repr(config), str(config), config.model_dump_json(), repr(account)]
    )
    for fragment in kit.secret_fragments():
        assert fragment not in shown
    assert kit.EMAIL in repr(account)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "Field required"),
        ({"metric": "  "}, "must be a metric API name"),
        ({"metric": "active users"}, "must be a metric API name"),
        ({"metric": "sessions", "dimension_filter": "country==FR"}, "FilterExpression"),
        (
            {"metric": "sessions", "dimension_filter": {"fieldName": "country"}},
            "exactly one of andGroup, orGroup, notExpression or filter",
        ),
        (
            {
                "metric": "sessions",
                "dimension_filter": {"filter": {}, "orGroup": {}},
            },
            "exactly one of",
        ),
        ({"metric": "sessions", "dimensions": ["country"]}, "Extra inputs"),
    ],
)
def test_bad_params_are_refused_with_a_clear_message(
    params: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        MetricParams.model_validate(params)

    assert expected in messages(caught.value)


def test_unquoted_yaml_booleans_in_a_filter_become_booleans_and_text_stays_text() -> (
    None
):
    params = MetricParams.model_validate(
        {
            "metric": PlainScalar("sessions"),
            "dimension_filter": {
                "filter": {
                    "fieldName": PlainScalar("country"),
                    "stringFilter": {
                        "value": "true",
                        "caseSensitive": PlainScalar("false"),
                    },
                    "inListFilter": {"values": [PlainScalar("TRUE"), PlainScalar("7")]},
                }
            },
        }
    )

    assert params.dimension_filter == {
        "filter": {
            "fieldName": "country",
            "stringFilter": {"value": "true", "caseSensitive": False},
            "inListFilter": {"values": [True, "7"]},
        }
    }


def test_the_documented_yaml_block_loads_through_the_mapping_loader(
    kit: Any, tmp_path: Path, write_mapping: Callable[..., Path]
) -> None:
    key_file = tmp_path / "ga4.json"
    key_file.write_text(kit.credentials() + "\n", encoding="utf-8")
    text = f"""
version: 1
timezone: Europe/Berlin
sources:
  web:
    type: ga4
    property_id: "{kit.PROPERTY}"
    credentials: ${{file:{key_file}}}
objectives:
  - id: growth
    title: Grow the audience
    period: 2026-Q4
    key_results:
      - id: active-users
        title: Active users in the quarter
        source: web
        metric: metric
        window: period
        params:
          metric: activeUsers
          dimension_filter:
            filter:
              fieldName: country
              stringFilter: {{value: France, caseSensitive: false}}
        target: 50000
"""
    loaded = load_mapping_set([write_mapping(text)], env={})

    source = loaded.key_results["active-users"].source
    params = loaded.key_results["active-users"].params
    assert source is not None
    assert isinstance(source.config, GA4Config)
    assert source.config.service_account().client_email == kit.EMAIL
    assert isinstance(params, MetricParams)
    assert params.dimension_filter == {
        "filter": {
            "fieldName": "country",
            "stringFilter": {"value": "France", "caseSensitive": False},
        }
    }


def test_a_key_file_written_inline_in_the_mapping_is_refused_without_echo(
    kit: Any, write_mapping: Callable[..., Path]
) -> None:
    inline = json.dumps(kit.key_file())
    text = (
        "version: 1\nsources:\n  web:\n    type: ga4\n"
        f"    property_id: '{kit.PROPERTY}'\n"
        f"    credentials: '{inline}'\n"
        "objectives: []\n"
    )

    with pytest.raises(MappingError) as caught:
        load_mapping_set([write_mapping(text)], env={})

    assert "secrets must not be written in the mapping" in str(caught.value)
    for fragment in kit.secret_fragments():
        assert fragment not in str(caught.value)
