"""How PostHog's failures reach the engine: which errors, how often retried."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from connectors.base import (
    ConfigurationError,
    ConnectorError,
    FetchRequest,
    NoParams,
    RateLimitedError,
    TransientError,
)
from connectors.posthog import InsightParams, PostHogConnector

from .conftest import (
    PROJECT_URL,
    Q4_2026,
    QUERY_URL,
    TOKEN,
    FakeSleep,
    hogql_answer,
    insight_body,
)

MakeConnector = Callable[..., PostHogConnector]

# PostHog's error bodies (drf-exceptions-hog): type, code, detail, attr.
HOGQL_SYNTAX = {
    "type": "validation_error",
    "code": "invalid_input",
    "detail": "Syntax error at line 1, column 7: no viable alternative at input",
    "attr": None,
}
THROTTLED = {
    "type": "throttled_error",
    "code": "throttled",
    "detail": "Request was throttled. Expected available in 3 seconds.",
    "attr": None,
}


def hogql() -> FetchRequest:
    return FetchRequest(
        metric="hogql",
        query="SELECT count( FROM events",
        params=NoParams(),
        window=Q4_2026,
    )


def insight(insight_id: int = 14) -> FetchRequest:
    return FetchRequest(
        metric="insight", query=None, params=InsightParams(insight=insight_id)
    )


async def test_rejected_hogql_is_a_configuration_error_naming_the_source(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.post(QUERY_URL).respond(400, json=HOGQL_SYNTAX)

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(hogql())

    message = caught.value.message
    assert message.startswith("PostHog refused the HogQL query of PostHog source 'ph'")
    assert f"HTTP 400 on POST {QUERY_URL}" in message
    assert "check it in PostHog's SQL editor" in message
    assert caught.value.status_code == 400
    assert route.call_count == 1


async def test_missing_insight_is_a_configuration_error_with_a_hint(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(f"{PROJECT_URL}/insights/99/").respond(
        404,
        json={"type": "invalid_request", "code": "not_found", "detail": "Not found."},
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(insight(99))

    assert "insight 99 of PostHog source 'ph'" in caught.value.message
    assert "check project_id and the insight id" in caught.value.message
    assert caught.value.status_code == 404


async def test_key_without_the_scope_is_a_configuration_error_with_a_hint(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.post(QUERY_URL).respond(
        403,
        json={
            "type": "authentication_error",
            "code": "permission_denied",
            "detail": "API key missing required scope 'query:read'",
        },
    )

    with pytest.raises(
        ConfigurationError, match="needs the query:read and insight:read"
    ):
        await make_connector().fetch(hogql())


async def test_throttling_waits_as_asked_then_succeeds(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep: FakeSleep
) -> None:
    router.post(QUERY_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "3"}, json=THROTTLED),
            httpx.Response(200, json=hogql_answer([[9]])),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(hogql())

    assert reading.value == 9
    assert fake_sleep.delays[0] >= 3
    assert connector.retry_count == 1


async def test_throttling_beyond_attempts_is_rate_limited(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(f"{PROJECT_URL}/insights/14/").respond(
        429, headers={"retry-after": "3"}, json=THROTTLED
    )

    with pytest.raises(RateLimitedError) as caught:
        await make_connector(max_attempts=2).fetch(insight())

    assert caught.value.retry_after == 3
    assert route.call_count == 2


async def test_server_error_then_success_is_retried(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep: FakeSleep
) -> None:
    route = router.get(f"{PROJECT_URL}/insights/14/").mock(
        side_effect=[
            httpx.Response(
                500, json={"type": "server_error", "detail": "A server error occurred."}
            ),
            httpx.Response(200, json=insight_body("trends-number")),
        ]
    )

    reading = await make_connector().fetch(insight())

    assert reading.value == 3141592.0
    assert route.call_count == 2
    assert len(fake_sleep.delays) == 1


async def test_html_answer_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.post(QUERY_URL).respond(200, text="<!doctype html><html>login</html>")

    with pytest.raises(TransientError, match="HTML page"):
        await make_connector(max_attempts=2).fetch(hogql())


async def test_unknown_metric_is_refused(make_connector: MakeConnector) -> None:
    request = FetchRequest(metric="trends", query=None, params=NoParams())

    with pytest.raises(
        ConfigurationError, match="no metric 'trends'; use one of: hogql, insight"
    ):
        await make_connector().fetch(request)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"detail": "Invalid personal API key."}),
        (400, HOGQL_SYNTAX),
        (429, THROTTLED),
        (502, {}),
    ],
)
async def test_key_never_appears_in_error_messages(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    status: int,
    body: dict[str, object],
) -> None:
    router.post(QUERY_URL).respond(status, json=body)

    with pytest.raises(ConnectorError) as caught:
        await make_connector(max_attempts=1).fetch(hogql())

    assert TOKEN not in str(caught.value)


async def test_key_never_appears_in_evidence(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.post(QUERY_URL).respond(200, json=hogql_answer([[1]]))
    router.get(f"{PROJECT_URL}/insights/14/").respond(
        200, json=insight_body("trends-number")
    )
    connector = make_connector()

    readings = [await connector.fetch(hogql()), await connector.fetch(insight())]

    for reading in readings:
        assert TOKEN not in reading.evidence.model_dump_json()
        assert all(TOKEN not in note for note in reading.notes)
