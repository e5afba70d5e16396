"""How an API's failures reach the engine through the http_json connector."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from connectors.base import (
    ConfigurationError,
    ConnectorError,
    FetchRequest,
    RateLimitedError,
    TransientError,
)
from connectors.http_json import HttpJsonConnector, ValueParams

from .conftest import API_KEY, BASE_URL, PASSWORD, TOKEN, FakeSleep

MakeConnector = Callable[..., HttpJsonConnector]


def value(select: str = "n", **given: object) -> FetchRequest:
    return FetchRequest(
        metric="value",
        query=None,
        params=ValueParams.model_validate({"select": select, **given}),
    )


async def test_client_error_is_a_configuration_error_with_the_api_message(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(f"{BASE_URL}/stats").respond(
        400, json={"message": "unknown metric 'signupz'"}
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(value(path="/stats"))

    assert caught.value.message.startswith("http_json source 'stats' was refused")
    assert "unknown metric 'signupz'" in caught.value.message
    assert caught.value.status_code == 400
    assert route.call_count == 1


async def test_server_error_then_success_is_retried(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep: FakeSleep
) -> None:
    route = router.get(BASE_URL).mock(
        side_effect=[
            httpx.Response(502, text="<html>Bad Gateway</html>"),
            httpx.Response(200, json={"n": 3}),
        ]
    )

    reading = await make_connector().fetch(value())

    assert reading.value == 3
    assert route.call_count == 2
    assert len(fake_sleep.delays) == 1


async def test_answer_that_is_not_json_is_transient_and_retried(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep: FakeSleep
) -> None:
    route = router.get(BASE_URL).respond(200, text="<html>login</html>")

    with pytest.raises(TransientError, match="an HTML page"):
        await make_connector(max_attempts=2).fetch(value())

    assert route.call_count == 2
    assert len(fake_sleep.delays) == 1


async def test_too_many_requests_waits_as_asked(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep: FakeSleep
) -> None:
    router.get(BASE_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "4"}),
            httpx.Response(200, json={"n": 1}),
        ]
    )

    reading = await make_connector().fetch(value())

    assert reading.value == 1
    assert fake_sleep.delays[0] >= 4


async def test_rate_limit_beyond_attempts_is_rate_limited_error(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(BASE_URL).respond(429, headers={"retry-after": "2"})

    with pytest.raises(RateLimitedError):
        await make_connector(max_attempts=2).fetch(value())


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"message": "bad key"}),
        (400, {"error": "bad request"}),
        (503, {"message": "down"}),
    ],
)
@pytest.mark.parametrize(
    "auth",
    [
        {"token": TOKEN, "headers": {"X-Api-Key": API_KEY}},
        {"username": "ann", "password": PASSWORD},
    ],
)
async def test_secrets_never_appear_in_error_messages(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    status: int,
    body: dict[str, str],
    auth: dict[str, object],
) -> None:
    router.get(f"{BASE_URL}/x").respond(status, json=body)
    connector = make_connector(max_attempts=1, **auth)

    with pytest.raises(ConnectorError) as caught:
        await connector.fetch(value(path="x", query={"api_key": API_KEY}))

    text = str(caught.value)
    for secret in (TOKEN, API_KEY, PASSWORD):
        assert secret not in text


async def test_secrets_never_appear_in_evidence(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(f"{BASE_URL}/x").respond(200, json={"n": 2})
    connector = make_connector(token=TOKEN, headers={"X-Api-Key": API_KEY})

    reading = await connector.fetch(value(path="x", query={"token": TOKEN}))

    dumped = reading.evidence.model_dump_json()
    assert TOKEN not in dumped
    assert API_KEY not in dumped
    assert "token=%2A%2A%2A" in reading.evidence.request
