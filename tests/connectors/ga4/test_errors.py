"""How GA4's failures reach the engine, and that no secret goes with them."""

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
from connectors.ga4 import GA4Connector

MakeConnector = Callable[..., GA4Connector]
ReportBody = Callable[..., dict[str, Any]]


async def test_an_unknown_metric_is_a_configuration_error_in_googles_words(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    report = google.post(kit.REPORT_URL).respond(
        400, json=kit.load("error.invalid-argument.json")
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask("activeUser"))

    message = caught.value.message
    assert message.startswith(
        f"GA4 property {kit.PROPERTY} of source 'web' refused the report "
        "(HTTP 400 INVALID_ARGUMENT): Field activeUser is not a valid metric."
    )
    assert "Check that 'activeUser' is a GA4 metric API name" in message
    assert caught.value.status_code == 400
    assert report.call_count == 1


async def test_missing_access_to_the_property_says_whom_to_add(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    report = google.post(kit.REPORT_URL).respond(
        403, json=kit.load("error.permission-denied.json")
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    message = caught.value.message
    assert "(HTTP 403 PERMISSION_DENIED)" in message
    assert "User does not have sufficient permissions" in message
    assert f"Add the service account {kit.EMAIL} as a Viewer" in message
    assert caught.value.status_code == 403
    assert report.call_count == 1


async def test_an_unknown_property_is_a_configuration_error(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    google.post(kit.REPORT_URL).respond(
        404,
        json={
            "error": {
                "code": 404,
                "message": "Requested entity was not found.",
                "status": "NOT_FOUND",
            }
        },
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    assert "(HTTP 404 NOT_FOUND): Requested entity was not found." in (
        caught.value.message
    )
    assert "Check property_id" in caught.value.message


async def test_an_exhausted_quota_is_rate_limited_and_retried_then_given_up(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    sleeps: list[float],
) -> None:
    report = google.post(kit.REPORT_URL).respond(
        429, json=kit.load("error.resource-exhausted.json")
    )
    connector = make_connector(max_attempts=2)

    with pytest.raises(RateLimitedError) as caught:
        await connector.fetch(kit.ask())

    assert "Exhausted property tokens per hour" in caught.value.message
    assert caught.value.status_code == 429
    assert report.call_count == 2
    assert len(sleeps) == 1
    assert sleeps[0] >= caught.value.retry_after
    assert connector.retry_count == 1


async def test_a_server_error_is_retried_and_then_succeeds(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    sleeps: list[float],
    report_body: ReportBody,
) -> None:
    report = google.post(kit.REPORT_URL).mock(
        side_effect=[
            httpx.Response(
                503,
                json={
                    "error": {
                        "code": 503,
                        "message": "The service is currently unavailable.",
                        "status": "UNAVAILABLE",
                    }
                },
            ),
            httpx.Response(200, json=report_body()),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(kit.ask())

    assert reading.value == 1234
    assert report.call_count == 2
    assert len(sleeps) == 1
    assert connector.retry_count == 1
    assert connector.request_count == 3


async def test_a_non_json_answer_is_transient_after_the_retries(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    report = google.post(kit.REPORT_URL).respond(
        200, text="<html><body>Sign in</body></html>"
    )

    with pytest.raises(TransientError, match="an HTML page"):
        await make_connector(max_attempts=3).fetch(kit.ask())

    assert report.call_count == 3


async def test_a_failing_token_endpoint_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    token = router.post(kit.TOKEN_URI).respond(500, text="backend error")

    with pytest.raises(TransientError) as caught:
        await make_connector(max_attempts=2).fetch(kit.ask())

    assert caught.value.status_code == 500
    assert token.call_count == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400, json={"error": "invalid_grant"}),
        httpx.Response(500, text="oops"),
    ],
)
async def test_no_secret_reaches_messages_when_the_token_step_fails(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    answer: httpx.Response,
) -> None:
    token = router.post(kit.TOKEN_URI).mock(return_value=answer)

    with pytest.raises(ConnectorError) as caught:
        await make_connector(max_attempts=1).fetch(kit.ask())

    shown = f"{caught.value} {caught.value.message!r}"
    assert kit.form_of(token.calls.last)["assertion"] not in shown
    for fragment in kit.secret_fragments():
        assert fragment not in shown


@pytest.mark.parametrize("status", [400, 403, 429, 503])
async def test_no_secret_reaches_messages_or_evidence_when_the_report_fails(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
    status: int,
) -> None:
    google.post(kit.REPORT_URL).mock(
        side_effect=[
            httpx.Response(status, json={"error": {"code": status, "message": "no"}}),
            httpx.Response(200, json=report_body()),
        ]
    )
    connector = make_connector(max_attempts=2)

    try:
        reading = await connector.fetch(kit.ask())
        shown = reading.evidence.model_dump_json() + " ".join(reading.notes)
    except ConnectorError as exc:
        shown = f"{exc} {exc.message}"

    shown += repr(connector.config) + repr(connector)
    for fragment in kit.secret_fragments():
        assert fragment not in shown
