"""The hogql metric: the request sent, and how the first cell becomes a value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import respx

from connectors.base import (
    ConfigurationError,
    FetchRequest,
    NoParams,
    TransientError,
    Window,
)
from connectors.posthog import PostHogConnector

from .conftest import PROJECT_ID, Q4_2026, QUERY_URL, TOKEN, hogql_answer

MakeConnector = Callable[..., PostHogConnector]

SIGNUPS = (
    "SELECT count() FROM events WHERE event = 'signed_up' "
    "AND timestamp >= toDateTime({window_start}) "
    "AND timestamp < toDateTime({window_end})"
)


def hogql(query: str = SIGNUPS, window: Window | None = Q4_2026) -> FetchRequest:
    return FetchRequest(metric="hogql", query=query, params=NoParams(), window=window)


def sent_body(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)


async def test_query_is_posted_with_the_window_as_hogql_placeholder_values(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.post(QUERY_URL).respond(200, json=hogql_answer([[1234]]))

    reading = await make_connector().fetch(hogql())

    assert sent_body(route) == {
        "query": {
            "kind": "HogQLQuery",
            "query": SIGNUPS,
            "values": {
                "window_start": "2026-10-01T00:00:00+02:00",
                "window_end": "2027-01-01T00:00:00+01:00",
            },
        }
    }
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert reading.value == 1234.0
    assert reading.notes == []
    assert reading.evidence.request == f"POST {QUERY_URL}"
    assert reading.evidence.summary["values"]["window_start"].startswith("2026-10-01")
    assert reading.evidence.summary["first_cell"] == "1234"
    assert reading.evidence.summary["rows"] == 1


async def test_query_text_is_sent_unchanged_not_spliced(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.post(QUERY_URL).respond(200, json=hogql_answer([[1]]))
    query = "SELECT count() FROM events WHERE properties.x = '{window_start}'"

    await make_connector().fetch(hogql(query))

    assert sent_body(route)["query"]["query"] == query


async def test_without_a_window_no_values_are_sent(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.post(QUERY_URL).respond(200, json=hogql_answer([[7]]))

    reading = await make_connector().fetch(hogql("SELECT 7", window=None))

    assert sent_body(route) == {"query": {"kind": "HogQLQuery", "query": "SELECT 7"}}
    assert reading.value == 7


async def test_placeholder_without_a_window_is_refused_before_sending(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.post(QUERY_URL).respond(200, json=hogql_answer([[7]]))

    with pytest.raises(ConfigurationError, match="uses {window_start} but the key"):
        await make_connector().fetch(hogql(window=None))

    assert route.call_count == 0


@pytest.mark.parametrize(
    ("rows", "value"),
    [
        ([[42]], 42.0),
        ([[0.125]], 0.125),
        ([["18446744073709551615"]], 18446744073709551615.0),
        ([[" 3.5 "]], 3.5),
    ],
)
async def test_first_cell_numbers_are_read(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    rows: list[list[Any]],
    value: float,
) -> None:
    router.post(QUERY_URL).respond(200, json=hogql_answer(rows))

    reading = await make_connector().fetch(hogql())

    assert reading.value == value


async def test_no_rows_has_no_value_and_says_so(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.post(QUERY_URL).respond(200, json=hogql_answer([]))

    reading = await make_connector().fetch(hogql())

    assert reading.value is None
    assert reading.notes == ["the HogQL query returned no rows"]
    assert reading.evidence.summary["rows"] == 0


async def test_null_first_cell_has_no_value_and_names_the_column(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.post(QUERY_URL).respond(200, json=hogql_answer([[None]], ["avg_ms"]))

    reading = await make_connector().fetch(hogql())

    assert reading.value is None
    assert reading.notes == ["the HogQL query's first cell (avg_ms) is null"]


async def test_extra_rows_and_columns_are_noted(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    answer = hogql_answer([[5, "a"], [3, "b"]], ["count()", "event"])
    router.post(QUERY_URL).respond(200, json=answer)

    reading = await make_connector().fetch(hogql())

    assert reading.value == 5
    assert reading.notes == [
        "the HogQL query returned 2 rows; only the first is used",
        "the HogQL query returned 2 columns; only the first is used",
    ]
    assert reading.evidence.summary["columns"] == ["count()", "event"]


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("signed_up", "'signed_up'"),
        (True, "True"),
        ([1, 2], "[1, 2]"),
        ("nan", "'nan'"),
    ],
)
async def test_first_cell_that_is_not_a_number_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter, cell: Any, shown: str
) -> None:
    router.post(QUERY_URL).respond(200, json=hogql_answer([[cell]], ["event"]))

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(hogql())

    assert f"returned {shown} in event, not a finite number" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"columns": ["x"]},
        {"results": "x"},
        {"results": [{"count": 1}]},
        {"results": [[]]},
    ],
)
async def test_malformed_answers_are_transient(
    make_connector: MakeConnector, router: respx.MockRouter, body: Any
) -> None:
    router.post(QUERY_URL).respond(200, json=body)

    with pytest.raises(TransientError, match="malformed"):
        await make_connector(max_attempts=1).fetch(hogql())


async def test_a_still_running_query_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.post(QUERY_URL).respond(
        200, json={"query_status": {"id": "abc", "complete": False}}
    )

    with pytest.raises(TransientError, match="still computing"):
        await make_connector(max_attempts=1).fetch(hogql())


@pytest.mark.parametrize("query", ["", "  ", None])
async def test_missing_query_is_a_configuration_error(
    make_connector: MakeConnector, query: str | None
) -> None:
    request = FetchRequest(metric="hogql", query=query, params=NoParams())

    with pytest.raises(ConfigurationError, match="needs a `query:` in HogQL"):
        await make_connector().fetch(request)


async def test_self_hosted_url_with_a_path_prefix_is_used(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    url = f"https://tools.example.test/posthog/api/projects/{PROJECT_ID}/query/"
    route = router.post(url).respond(200, json=hogql_answer([[1]]))

    await make_connector(url="https://tools.example.test/posthog").fetch(hogql())

    assert route.call_count == 1
