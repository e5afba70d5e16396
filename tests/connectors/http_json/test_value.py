"""The value metric: what is sent, and which numbers are taken or refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from app.mapping.yamltext import PlainScalar
from connectors.base import ConfigurationError, FetchRequest
from connectors.http_json import HttpJsonConnector, ValueParams

from .conftest import API_KEY, BASE_URL, PASSWORD, TOKEN

MakeConnector = Callable[..., HttpJsonConnector]

STATS = {
    "data": {
        "signups": {"total": 1234, "ratio": "0.25", "series": [3, 5, 8]},
        "label": "weekly",
        "flag": True,
        "missing": None,
        "bad": "NaN",
        "huge": "1e999",
    },
    "items": [{"id": "a", "points": 2}, {"id": "b", "points": 3.5}],
}


def value(**given: Any) -> FetchRequest:
    return FetchRequest(
        metric="value", query=None, params=ValueParams.model_validate(given)
    )


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        ("data.signups.total", 1234.0),
        ("data.signups.ratio", 0.25),
        ("data.signups.series[-1]", 8.0),
        ("length(items)", 2.0),
        ("sum(items[].points)", 5.5),
        ("max(data.signups.series)", 8.0),
    ],
)
async def test_select_picks_nested_and_computed_numbers(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    select: str,
    expected: float,
) -> None:
    router.get(f"{BASE_URL}/stats").respond(200, json=STATS)

    reading = await make_connector().fetch(value(path="/stats", select=select))

    assert reading.value == expected
    assert reading.evidence.request == f"GET {BASE_URL}/stats"
    assert reading.evidence.summary["select"] == select


async def test_number_given_as_text_with_spaces_is_read(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(BASE_URL).respond(200, json={"count": " 42 "})

    reading = await make_connector().fetch(value(select="count"))

    assert reading.value == 42.0
    assert reading.evidence.summary["selected"] == '" 42 "'


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("data.label", 'returned a string ("weekly")'),
        ("data.flag", "returned a boolean (true)"),
        ("data.missing", "returned null"),
        ("data.nope", "the answer has no such field (top-level keys: data, items)"),
        ("data.signups.series", "returned a list of 3 ([3, 5, 8])"),
        ("data.signups", "returned an object"),
        ("data.bad", "not a finite number"),
        ("data.huge", "not a finite number"),
    ],
)
async def test_selection_that_is_not_a_finite_number_is_a_configuration_error(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    select: str,
    message: str,
) -> None:
    router.get(BASE_URL).respond(200, json=STATS)

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(value(select=select))

    assert message in caught.value.message
    assert repr(select) in caught.value.message


async def test_long_selected_values_are_cut_in_messages(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(BASE_URL).respond(200, json={"text": "x" * 500})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(value(select="text"))

    assert "x" * 100 not in caught.value.message
    assert "…" in caught.value.message


async def test_function_failing_on_the_answer_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(BASE_URL).respond(200, json={"items": "not a list"})

    with pytest.raises(ConfigurationError, match="sum\\(\\)") as caught:
        await make_connector().fetch(value(select="sum(items)"))

    assert "select 'sum(items)' failed" in caught.value.message


async def test_post_sends_the_yaml_body_as_typed_json_with_query_and_headers(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE_URL}/search").respond(200, json={"hits": 7})
    request = value(
        path="search",
        method="POST",
        query={"page": PlainScalar("1")},
        headers={"X-Request-Tag": "okr"},
        body={
            "limit": PlainScalar("10"),
            "flag": PlainScalar("true"),
            "name": "10",
        },
        select="hits",
    )

    reading = await make_connector().fetch(request)

    sent = route.calls.last.request
    assert json.loads(sent.content) == {"limit": 10, "flag": True, "name": "10"}
    assert sent.headers["content-type"] == "application/json"
    assert sent.url.params["page"] == "1"
    assert sent.headers["x-request-tag"] == "okr"
    assert reading.value == 7
    assert reading.evidence.request == f"POST {BASE_URL}/search?page=1"


async def test_empty_path_requests_the_base_url_exactly(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(BASE_URL).respond(200, json={"n": 1})

    await make_connector().fetch(value(select="n"))

    assert str(route.calls.last.request.url) == BASE_URL


async def test_bearer_token_and_source_headers_are_sent(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(BASE_URL).respond(200, json={"n": 1})
    connector = make_connector(token=TOKEN, headers={"X-Api-Key": API_KEY})

    await connector.fetch(value(select="n"))

    sent = route.calls.last.request.headers
    assert sent["authorization"] == f"Bearer {TOKEN}"
    assert sent["x-api-key"] == API_KEY
    assert sent["accept"] == "application/json"


async def test_basic_auth_is_sent(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(BASE_URL).respond(200, json={"n": 1})

    await make_connector(username="ann", password=PASSWORD).fetch(value(select="n"))

    expected = base64.b64encode(f"ann:{PASSWORD}".encode()).decode()
    assert route.calls.last.request.headers["authorization"] == f"Basic {expected}"


async def test_key_result_authorization_header_over_source_auth_is_refused(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(BASE_URL).respond(200, json={"n": 1})

    with pytest.raises(ConfigurationError, match="already authenticates"):
        await make_connector(token=TOKEN).fetch(
            value(select="n", headers={"Authorization": "Bearer other"})
        )

    assert route.call_count == 0


async def test_evidence_lists_header_names_but_never_their_values(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(BASE_URL).respond(200, json={"n": 1})
    connector = make_connector(headers={"X-Api-Key": API_KEY})

    reading = await connector.fetch(
        value(select="n", headers={"X-Tenant": "secret-tenant-77"})
    )

    assert reading.evidence.summary["headers"] == ["X-Api-Key", "X-Tenant"]
    dumped = reading.evidence.model_dump_json()
    assert API_KEY not in dumped
    assert "secret-tenant-77" not in dumped


async def test_other_metric_names_are_refused(make_connector: MakeConnector) -> None:
    request = FetchRequest(metric="count", query=None, params=ValueParams(select="n"))

    with pytest.raises(ConfigurationError, match="has no metric 'count'; use: value"):
        await make_connector().fetch(request)


async def test_request_count_is_reported(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(BASE_URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"n": 1})]
    )
    connector = make_connector()

    await connector.fetch(value(select="n"))

    assert connector.request_count == 2
    assert connector.retry_count == 1
