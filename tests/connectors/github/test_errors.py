"""How GitHub's failures reach the engine: which errors, how often retried."""

from __future__ import annotations

import time
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
from connectors.github import GitHubConnector, MilestoneParams
from connectors.http import MAX_INLINE_WAIT

SEARCH_URL = "https://api.github.com/search/issues"
QUERY = "repo:acme/app is:issue is:open label:P1"

MakeConnector = Callable[..., GitHubConnector]

VALIDATION_FAILED = {
    "message": "Validation Failed",
    "errors": [
        {
            "message": "The listed users and repositories cannot be searched "
            "either because the resources do not exist or you do not have "
            "permission to view them.",
            "resource": "Search",
            "field": "q",
            "code": "invalid",
        }
    ],
    "documentation_url": "https://docs.github.com/v3/search/",
    "status": "422",
}


def search() -> FetchRequest:
    return FetchRequest(metric="issue_count", query=QUERY, params=NoParams())


async def test_validation_failure_is_configuration_error_with_githubs_words(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(SEARCH_URL).respond(422, json=VALIDATION_FAILED)

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(search())

    assert "Validation Failed" in caught.value.message
    assert "cannot be searched" in caught.value.message
    assert caught.value.status_code == 422
    assert route.call_count == 1


async def test_bad_credentials_are_a_configuration_error_not_retried(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = router.get(SEARCH_URL).respond(
        401,
        json={
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
        },
    )

    with pytest.raises(ConfigurationError, match="Bad credentials") as caught:
        await make_connector(token=token).fetch(search())

    assert caught.value.status_code == 401
    assert route.call_count == 1


async def test_missing_milestone_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get("https://api.github.com/repos/acme/app/milestones/99").respond(
        404, json={"message": "Not Found"}
    )
    request = FetchRequest(
        metric="milestone_percent",
        query=None,
        params=MilestoneParams(repo="acme/app", milestone=99),
    )

    with pytest.raises(ConfigurationError, match="not found"):
        await make_connector().fetch(request)


async def test_recorded_rate_limit_403_is_rate_limited_and_retried_up_to_max(
    make_connector: MakeConnector, router: respx.MockRouter, nock, fake_sleep
) -> None:
    # The recording has x-ratelimit-remaining: 0 but no reset time.
    exchange = nock.load("rate-limit.exceeded-403")[0]
    route = router.get(SEARCH_URL).mock(return_value=nock.response(exchange))
    connector = make_connector(max_attempts=3)

    with pytest.raises(RateLimitedError) as caught:
        await connector.fetch(search())

    error = caught.value
    assert error.status_code == 403
    assert error.retry_after >= 0
    assert "API Rate Limit Exceeded" in error.message
    assert route.call_count == 3
    assert len(fake_sleep.delays) == 2
    assert all(delay >= error.retry_after for delay in fake_sleep.delays)
    assert connector.retry_count == 2
    assert connector.request_count == 3


async def test_rate_limit_resetting_far_ahead_is_not_waited_for_inline(
    make_connector: MakeConnector, router: respx.MockRouter, nock, fake_sleep
) -> None:
    exchange = nock.load("rate-limit.exceeded-403")[0]
    reset = int(time.time()) + 3600
    exchange["headers"]["x-ratelimit-reset"] = str(reset)
    route = router.get(SEARCH_URL).mock(return_value=nock.response(exchange))

    with pytest.raises(RateLimitedError) as caught:
        await make_connector(max_attempts=3).fetch(search())

    assert MAX_INLINE_WAIT < caught.value.retry_after <= 3600
    assert route.call_count == 1
    assert fake_sleep.delays == []


async def test_secondary_rate_limit_429_waits_retry_after_then_succeeds(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep
) -> None:
    router.get(SEARCH_URL).mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"retry-after": "7"},
                json={"message": "You have exceeded a secondary rate limit."},
            ),
            httpx.Response(
                200, json={"total_count": 5, "incomplete_results": False, "items": []}
            ),
        ]
    )

    reading = await make_connector().fetch(search())

    assert reading.value == 5
    assert len(fake_sleep.delays) == 1
    assert fake_sleep.delays[0] >= 7


async def test_permission_403_without_rate_limit_markers_is_not_retried(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep
) -> None:
    route = router.get(SEARCH_URL).respond(
        403,
        headers={"x-ratelimit-remaining": "4999"},
        json={"message": "Resource not accessible by personal access token"},
    )

    with pytest.raises(ConfigurationError, match="permission denied") as caught:
        await make_connector().fetch(search())

    assert not isinstance(caught.value, TransientError)
    assert route.call_count == 1
    assert fake_sleep.delays == []


async def test_bad_gateway_then_success_is_retried_once(
    make_connector: MakeConnector, router: respx.MockRouter, fake_sleep
) -> None:
    route = router.get(SEARCH_URL).mock(
        side_effect=[
            httpx.Response(502, text="<html>Bad Gateway</html>"),
            httpx.Response(
                200, json={"total_count": 3, "incomplete_results": False, "items": []}
            ),
        ]
    )
    connector = make_connector()

    reading = await connector.fetch(search())

    assert reading.value == 3
    assert route.call_count == 2
    assert len(fake_sleep.delays) == 1
    assert connector.retry_count == 1
    assert connector.request_count == 2


async def test_timeouts_are_transient_after_every_attempt(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(SEARCH_URL).mock(side_effect=httpx.ConnectTimeout("slow"))

    with pytest.raises(TransientError, match="timed out"):
        await make_connector(max_attempts=2).fetch(search())

    assert route.call_count == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"message": "Bad credentials"}),
        (422, VALIDATION_FAILED),
        (403, {"message": "API rate limit exceeded"}),
        (503, {"message": "Service unavailable"}),
    ],
)
async def test_token_never_appears_in_error_messages(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    token: str,
    status: int,
    body: dict[str, object],
) -> None:
    router.get(SEARCH_URL).respond(status, json=body)

    with pytest.raises(ConnectorError) as caught:
        await make_connector(token=token, max_attempts=1).fetch(search())

    assert token not in str(caught.value)
    assert token not in caught.value.message


async def test_token_never_appears_in_evidence(
    make_connector: MakeConnector, nock, token: str
) -> None:
    nock.register("search-issues")

    reading = await make_connector(token=token).fetch(
        FetchRequest(
            metric="issue_count",
            query="sesame repo:octokit-fixture-org/search-issues",
            params=NoParams(),
        )
    )

    assert token not in reading.evidence.model_dump_json()
    assert all(token not in note for note in reading.notes)
