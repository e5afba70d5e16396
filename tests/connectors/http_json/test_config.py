"""Validation of the http_json source block and of the value metric's params."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from app.mapping.yamltext import PlainScalar, parse
from connectors import registry
from connectors.http_json import HttpJsonConfig, HttpJsonConnector, ValueParams
from connectors.http_json.yamlcore import core_value, resolve_plain_scalars

from .conftest import API_KEY, PASSWORD, TOKEN


def config(**settings: Any) -> HttpJsonConfig:
    return HttpJsonConfig.model_validate(
        {"type": "http_json", "url": "https://api.example.test", **settings}
    )


def params(**given: Any) -> ValueParams:
    return ValueParams.model_validate({"select": "total", **given})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "api.example.test"}, "must start with http:// or https://"),
        ({"url": "ftp://api.example.test"}, "must start with http:// or https://"),
        ({"url": "https://u:p@api.example.test"}, "must not carry credentials"),
        ({"url": "https://api.example.test/?limit=5"}, "must not carry a query"),
        ({"token": "  "}, "token is empty"),
        ({"token": TOKEN, "username": "ann", "password": PASSWORD}, "keep one"),
        ({"username": "ann"}, "has a `username` but no `password`"),
        ({"password": PASSWORD}, "has a `password` but no `username`"),
        (
            {"token": TOKEN, "headers": {"authorization": "Bearer x"}},
            "sets an Authorization header and also",
        ),
        ({"headers": {"X Key": API_KEY}}, "is not a valid HTTP name"),
        ({"headers": {"X-Key": "a\nb"}}, "has a line break"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_source_blocks_are_refused_with_a_clear_message(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**settings)


def test_header_values_and_secrets_stay_out_of_validation_errors_and_repr() -> None:
    with pytest.raises(ValidationError) as caught:
        config(headers={"X-Key": f"{API_KEY}\nInjected: 1"}, token=TOKEN)

    assert API_KEY not in str(caught.value)
    made = config(headers={"X-Key": API_KEY}, token=TOKEN)
    assert API_KEY not in repr(made)
    assert TOKEN not in repr(made)


def test_url_keeps_its_path_without_trailing_slash_and_secrets_are_stripped() -> None:
    made = config(
        url=" https://api.example.test/v1/ ", headers={"X-Key": f" {API_KEY}\n"}
    )

    assert made.url == "https://api.example.test/v1"
    assert made.headers == {"X-Key": API_KEY}


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("data.[", "select 'data.[' is not a valid JMESPath expression (it ends"),
        ("a b", "(unexpected token: b at character 3)"),
        ("", "select must not be empty"),
        ("totl(items)", "calls the unknown function totl()"),
        ("length(a, b)", "calls length() with 2 arguments; it takes 1"),
        ("sum(not_a_function(x))", "unknown function not_a_function()"),
    ],
)
def test_select_that_does_not_compile_is_refused_at_load_time_naming_it(
    select: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        params(select=select)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"path": "https://evil.example.test/x"}, "must be relative"),
        ({"path": "//evil.example.test/x"}, "must be relative"),
        ({"path": "/stats?x=1"}, "must not carry a query"),
        ({"body": {"a": 1}}, "body is only sent with POST"),
        ({"method": "PUT"}, "Input should be 'GET' or 'POST'"),
        ({"headers": {"Bad Name": "x"}}, "is not a valid HTTP name"),
        ({"body": {"x": PlainScalar(".inf")}, "method": "POST"}, "not a number JSON"),
    ],
)
def test_bad_params_are_refused(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        params(**given)


def test_unquoted_yaml_body_values_become_numbers_and_booleans_quoted_stay_text() -> (
    None
):
    made = params(
        method="POST",
        body={
            "limit": PlainScalar("10"),
            "flag": PlainScalar("true"),
            "name": "10",
            "nested": [PlainScalar("1.5"), PlainScalar("hello"), None],
        },
    )

    assert made.body == {
        "limit": 10,
        "flag": True,
        "name": "10",
        "nested": [1.5, "hello", None],
    }
    assert type(made.body["limit"]) is int
    assert type(made.body["name"]) is str


def test_body_parsed_from_yaml_text_keeps_the_quoted_number_as_text() -> None:
    document = parse('body: {limit: 10, flag: true, name: "10", ratio: 0.5}\n')

    made = params(method="POST", body=document.data["body"])

    assert made.body == {"limit": 10, "flag": True, "name": "10", "ratio": 0.5}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("~", None),
        ("null", None),
        ("True", True),
        ("FALSE", False),
        ("-12", -12),
        ("0o17", 15),
        ("0x1F", 31),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("yes", "yes"),
        ("0755", 755),
        ("2026-01-01", "2026-01-01"),
    ],
)
def test_core_schema_values_follow_yaml_1_2(text: str, value: object) -> None:
    assert core_value(text) == value
    assert type(core_value(text)) is type(value)


def test_values_given_as_json_are_kept_as_they_are() -> None:
    given = {"a": 1, "b": "1", "c": [True, None]}

    assert resolve_plain_scalars(given) == given


def test_query_values_given_as_numbers_are_sent_as_text() -> None:
    made = params(query={"limit": 10, "open": True, "name": "x"})

    assert made.query == {"limit": "10", "open": "true", "name": "x"}


def test_connector_declares_one_unwindowed_metric_and_is_registered() -> None:
    metric = HttpJsonConnector.metrics["value"]

    assert set(HttpJsonConnector.metrics) == {"value"}
    assert metric.params is ValueParams
    assert not metric.needs_query
    assert not metric.windowed
    assert registry.get("http_json") is HttpJsonConnector
