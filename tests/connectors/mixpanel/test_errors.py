"""How Mixpanel's failures reach the engine, and that the secret stays hidden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from connectors.base import (
    ConfigurationError,
    ConnectorError,
    RateLimitedError,
    TransientError,
)
from connectors.mixpanel import MixpanelConnector

MakeConnector = Callable[..., MixpanelConnector]


async def test_a_rejected_query_is_a_configuration_error_in_mixpanels_words(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(400, json=kit.load("error.bad-request.json"))

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    message = caught.value.message
    assert message.startswith("Mixpanel source 'product': the upstream rejected")
    assert "Invalid value for parameter 'from_date'" in message
    assert caught.value.status_code == 400
    assert route.call_count == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_a_configuration_error_not_retried(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any, status: int
) -> None:
    route = router.get(kit.URL).respond(
        status, json=kit.load("error.unauthorized.json")
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    message = caught.value.message
    assert "Invalid username or secret" in message
    assert "Check the service account's username and secret" in message
    assert f"project {kit.PROJECT}" in message
    assert kit.SECRET not in message
    assert caught.value.status_code == status
    assert route.call_count == 1


async def test_too_many_queries_is_rate_limited_and_waits_as_asked(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    sleeps: list[float],
) -> None:
    route = router.get(kit.URL).mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"retry-after": "12"},
                json={"request": "/api/query/segmentation", "error": "Rate limited"},
            ),
            httpx.Response(200, json=kit.load("segmentation.docs-example.json")),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(kit.ask())

    assert reading.value == 2445
    assert route.call_count == 2
    assert sleeps[0] >= 12
    assert connector.retry_count == 1


async def test_a_rate_limit_lasting_every_attempt_is_rate_limited(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(429, json={"error": "Rate limited"})

    with pytest.raises(RateLimitedError) as caught:
        await make_connector(max_attempts=2).fetch(kit.ask())

    assert caught.value.status_code == 429


async def test_a_server_error_is_retried_and_then_succeeds(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    sleeps: list[float],
) -> None:
    route = router.get(kit.URL).mock(
        side_effect=[
            httpx.Response(502, text="Bad Gateway"),
            httpx.Response(200, json=kit.load("segmentation.docs-example.json")),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(kit.ask())

    assert reading.value == 2445
    assert route.call_count == 2
    assert len(sleeps) == 1
    assert connector.request_count == 2


async def test_a_non_json_answer_is_transient_after_the_retries(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(200, text="<html>maintenance</html>")

    with pytest.raises(TransientError, match="an HTML page"):
        await make_connector(max_attempts=2).fetch(kit.ask())

    assert route.call_count == 2


@pytest.mark.parametrize("status", [200, 400, 401, 429, 500])
async def test_the_secret_never_reaches_messages_or_evidence(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any, status: int
) -> None:
    body = kit.load("segmentation.docs-example.json")
    router.get(kit.URL).respond(status, json=body if status == 200 else {"error": "x"})
    connector = make_connector(max_attempts=1)

    try:
        reading = await connector.fetch(kit.ask())
        shown = reading.evidence.model_dump_json() + " ".join(reading.notes)
    except ConnectorError as exc:
        shown = f"{exc} {exc.message}"

    shown += repr(connector.config) + repr(connector)
    assert kit.SECRET not in shown
    assert kit.basic_auth().split()[1] not in shown
