"""How Prometheus's failures reach the engine: which errors, how often retried."""

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
    TransientError,
)
from connectors.prometheus import PrometheusConnector

from .conftest import PASSWORD, QUERY_URL, TOKEN, FakeSleep, docs_series, instant_answer

MakeConnector = Callable[..., PrometheusConnector]

BAD_DATA = {
    "status": "error",
    "errorType": "bad_data",
    "error": 'invalid parameter "query": 1:9: parse error: unexpected <op:=>',
}
EXECUTION = {
    "status": "error",
    "errorType": "execution",
    "error": "found duplicate series for the match group on the right hand-side",
}


def promql(query: str = "sum(up) = 1") -> FetchRequest:
    return FetchRequest(metric="query", query=query, params=NoParams())


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (400, BAD_DATA, "parse error: unexpected <op:=>"),
        (422, EXECUTION, "found duplicate series"),
    ],
)
async def test_rejected_query_is_a_configuration_error_with_prometheus_words(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    status: int,
    body: dict[str, str],
    words: str,
) -> None:
    route = router.get(QUERY_URL).respond(status, json=body)

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(promql())

    assert caught.value.message.startswith("Prometheus source 'prom' refused")
    assert words in caught.value.message
    assert caught.value.message.endswith("; fix the PromQL")
    assert caught.value.status_code == status
    assert route.call_count == 1


async def test_refused_credentials_are_a_configuration_error_with_a_hint(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(QUERY_URL).respond(401, text="Unauthorized")

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(token=TOKEN).fetch(promql())

    assert "the credentials were refused (HTTP 401" in caught.value.message
    assert "check the source's token or username and password" in caught.value.message
    assert route.call_count == 1


async def test_error_status_in_a_successful_answer_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).respond(200, json=BAD_DATA)

    with pytest.raises(ConfigurationError, match="bad_data: invalid parameter"):
        await make_connector().fetch(promql())


async def test_unavailable_then_success_is_retried(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep: FakeSleep
) -> None:
    route = router.get(QUERY_URL).mock(
        side_effect=[
            httpx.Response(
                503,
                json={
                    "status": "error",
                    "errorType": "timeout",
                    "error": "query timed out",
                },
            ),
            httpx.Response(200, json=instant_answer(docs_series()[:1])),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(promql("up"))

    assert reading.value == 1.0
    assert route.call_count == 2
    assert len(fake_sleep.delays) == 1
    assert connector.request_count == 2
    assert connector.retry_count == 1


async def test_non_json_answer_is_transient_after_every_attempt(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(QUERY_URL).respond(200, text="<html>proxy login</html>")

    with pytest.raises(TransientError, match="HTML page"):
        await make_connector(max_attempts=3).fetch(promql("up"))

    assert route.call_count == 3


async def test_connection_failure_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransientError, match="ConnectError"):
        await make_connector(max_attempts=2).fetch(promql("up"))


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "unauthorized"}), (400, BAD_DATA), (503, {"error": "down"})],
)
@pytest.mark.parametrize(
    "auth", [{"token": TOKEN}, {"username": "ann", "password": PASSWORD}]
)
async def test_secrets_never_appear_in_error_messages(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    status: int,
    body: dict[str, str],
    auth: dict[str, str],
) -> None:
    router.get(QUERY_URL).respond(status, json=body)

    with pytest.raises(ConnectorError) as caught:
        await make_connector(max_attempts=1, **auth).fetch(promql())

    assert TOKEN not in str(caught.value)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "auth", [{"token": TOKEN}, {"username": "ann", "password": PASSWORD}]
)
async def test_secrets_never_appear_in_evidence(
    make_connector: MakeConnector, router: respx.MockRouter, auth: dict[str, str]
) -> None:
    router.get(QUERY_URL).respond(200, json=instant_answer(docs_series()[:1]))

    reading = await make_connector(**auth).fetch(promql("up"))

    dumped = reading.evidence.model_dump_json()
    assert TOKEN not in dumped
    assert PASSWORD not in dumped
    assert "ann" not in reading.evidence.request
