"""The service account flow: the JWT sent, token reuse and refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.base import ConfigurationError, TransientError
from connectors.ga4 import GA4Connector

MakeConnector = Callable[..., GA4Connector]


async def test_the_token_request_carries_a_jwt_signed_by_the_service_account(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    clock: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    google.post(kit.REPORT_URL).respond(200, json=report_body())

    await make_connector().fetch(kit.ask())

    call = google.routes["token"].calls.last
    assert call.request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = kit.form_of(call)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"],
        kit.public_key,
        algorithms=["RS256"],
        audience=kit.TOKEN_URI,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": kit.EMAIL,
        "scope": "https://www.googleapis.com/auth/analytics.readonly",
        "aud": kit.TOKEN_URI,
        "iat": int(clock.now),
        "exp": int(clock.now) + 3600,
    }
    header = jwt.get_unverified_header(form["assertion"])
    assert header["alg"] == "RS256"
    assert header["kid"] == kit.KEY_ID


async def test_the_jwt_is_refused_by_any_other_key(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    google.post(kit.REPORT_URL).respond(200, json=report_body())
    await make_connector().fetch(kit.ask())
    assertion = kit.form_of(google.routes["token"].calls.last)["assertion"]
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            assertion,
            stranger.public_key(),
            algorithms=["RS256"],
            audience=kit.TOKEN_URI,
            options={"verify_exp": False, "verify_iat": False},
        )


async def test_the_report_is_sent_with_the_granted_token_as_bearer(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    report = google.post(kit.REPORT_URL).respond(200, json=report_body())

    await make_connector().fetch(kit.ask())

    assert report.calls.last.request.headers["authorization"] == (
        f"Bearer {kit.ACCESS_TOKEN}"
    )


async def test_two_readings_share_one_token_request(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    report = google.post(kit.REPORT_URL).respond(200, json=report_body())
    connector = make_connector()

    first = await connector.fetch(kit.ask())
    second = await connector.fetch(kit.ask(window=kit.window("2026-11-01")))

    assert google.routes["token"].call_count == 1
    assert report.call_count == 2
    assert first.evidence.requests == 2
    assert second.evidence.requests == 1
    assert connector.request_count == 3


async def test_concurrent_readings_wait_for_the_same_token(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    google.post(kit.REPORT_URL).respond(200, json=report_body())
    connector = make_connector()

    await asyncio.gather(*(connector.fetch(kit.ask()) for _ in range(4)))

    assert google.routes["token"].call_count == 1


async def test_a_token_near_its_expiry_is_replaced(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    clock: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    google.post(kit.REPORT_URL).respond(200, json=report_body())
    connector = make_connector()

    await connector.fetch(kit.ask())
    clock.now += 3599 - 300
    await connector.fetch(kit.ask())
    assert google.routes["token"].call_count == 1

    clock.now += 250
    await connector.fetch(kit.ask())
    assert google.routes["token"].call_count == 2


@pytest.mark.parametrize("status", [400, 401])
async def test_a_refused_key_is_a_configuration_error_naming_the_account(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    status: int,
) -> None:
    token = router.post(kit.TOKEN_URI).respond(
        status, json=kit.load("token.invalid-grant.json")
    )
    report = router.post(kit.REPORT_URL).respond(200, json={})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    message = caught.value.message
    assert message.startswith("Google refused the service account key")
    assert "'web'" in message
    assert "invalid_grant" in message
    assert kit.EMAIL in message
    assert caught.value.status_code == status
    assert token.call_count == 1
    assert report.call_count == 0
    assert kit.form_of(token.calls.last)["assertion"] not in message


async def test_a_token_answer_without_an_access_token_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.post(kit.TOKEN_URI).respond(200, json={"token_type": "Bearer"})

    with pytest.raises(TransientError, match="answered without an access_token"):
        await make_connector().fetch(kit.ask())


async def test_token_url_moves_the_token_request_but_not_the_jwt_audience(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    sandbox = "http://127.0.0.1:8931/oauth2/token"
    token = router.post(sandbox).respond(200, json=kit.load("token.granted.json"))
    router.post(kit.REPORT_URL).respond(200, json=report_body())

    await make_connector(token_url=sandbox).fetch(kit.ask())

    assert token.call_count == 1
    claims = jwt.decode(
        kit.form_of(token.calls.last)["assertion"],
        kit.public_key,
        algorithms=["RS256"],
        audience=kit.TOKEN_URI,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["aud"] == kit.TOKEN_URI


async def test_a_token_the_api_no_longer_accepts_is_replaced_once(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: Callable[..., dict[str, Any]],
) -> None:
    unauthenticated = {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED",
        }
    }
    report = google.post(kit.REPORT_URL).mock(
        side_effect=[
            httpx.Response(401, json=unauthenticated),
            httpx.Response(200, json=report_body()),
        ]
    )

    reading = await make_connector().fetch(kit.ask())

    assert reading.value == 1234
    assert google.routes["token"].call_count == 2
    assert report.call_count == 2
    assert reading.evidence.requests == 4


async def test_a_token_refused_twice_is_a_configuration_error(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    unauthenticated = {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED",
        }
    }
    report = google.post(kit.REPORT_URL).respond(401, json=unauthenticated)

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask())

    assert "(HTTP 401 UNAUTHENTICATED)" in caught.value.message
    assert "invalid authentication credentials" in caught.value.message
    assert report.call_count == 2
    assert kit.ACCESS_TOKEN not in caught.value.message
