"""How Amplitude's failures reach the engine, and that the keys stay hidden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from connectors.amplitude import AmplitudeConnector
from connectors.base import (
    ConfigurationError,
    ConnectorError,
    RateLimitedError,
    TransientError,
)

MakeConnector = Callable[..., AmplitudeConnector]


async def test_a_rejected_query_is_a_configuration_error_in_amplitudes_words(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(
        400, text="Bad Request: invalid event definition in parameter e"
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    message = caught.value.message
    assert message.startswith("Amplitude source 'amp': the upstream rejected")
    assert "invalid event definition in parameter e" in message
    assert "Check the event type's name." in message
    assert caught.value.status_code == 400
    assert route.call_count == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_keys_are_a_configuration_error_not_retried(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any, status: int
) -> None:
    route = router.get(kit.URL).respond(status, text="Invalid API key")

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    message = caught.value.message
    assert "Check api_key and secret_key" in message
    assert "region 'us'" in message
    assert caught.value.status_code == status
    assert route.call_count == 1


async def test_an_exceeded_limit_is_rate_limited_then_retried(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    sleeps: list[float],
) -> None:
    route = router.get(kit.URL).mock(
        side_effect=[
            httpx.Response(
                429,
                text="Exceeded rate limit with query of cost 92 (concurrent limit).",
            ),
            httpx.Response(200, json=kit.load("segmentation.totals.json")),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(kit.ask())

    assert reading.value == 996
    assert route.call_count == 2
    assert sleeps[0] >= 60
    assert connector.retry_count == 1


async def test_a_limit_lasting_every_attempt_is_rate_limited_with_its_reason(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(429, text="Exceeded concurrent limit.")

    with pytest.raises(RateLimitedError) as caught:
        await make_connector(max_attempts=2).fetch(kit.ask())

    assert "Exceeded concurrent limit." in caught.value.message


async def test_a_server_error_is_retried_and_then_succeeds(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    sleeps: list[float],
) -> None:
    route = router.get(kit.URL).mock(
        side_effect=[
            httpx.Response(500, text="Internal Server Error"),
            httpx.Response(200, json=kit.load("segmentation.totals.json")),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(kit.ask())

    assert reading.value == 996
    assert route.call_count == 2
    assert len(sleeps) == 1
    assert connector.request_count == 2


async def test_a_non_json_answer_is_transient_after_the_retries(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(200, text="<!DOCTYPE html><html></html>")

    with pytest.raises(TransientError, match="an HTML page"):
        await make_connector(max_attempts=3).fetch(kit.ask())

    assert route.call_count == 3


@pytest.mark.parametrize("status", [200, 400, 401, 429, 503])
async def test_the_keys_never_reach_messages_or_evidence(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any, status: int
) -> None:
    body = kit.load("segmentation.totals.json") if status == 200 else {"error": "x"}
    router.get(kit.URL).respond(status, json=body)
    connector = make_connector(max_attempts=1)

    try:
        reading = await connector.fetch(kit.ask())
        shown = reading.evidence.model_dump_json() + " ".join(reading.notes)
    except ConnectorError as exc:
        shown = f"{exc} {exc.message}"

    shown += repr(connector.config) + repr(connector)
    for secret in kit.secrets():
        assert secret not in shown
