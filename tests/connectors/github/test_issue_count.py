"""issue_count: one search request, total_count as the value, keys as evidence."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from connectors.base import (
    ConfigurationError,
    FetchRequest,
    NoParams,
    TransientError,
)
from connectors.github import GitHubConnector

RECORDED_QUERY = "sesame repo:octokit-fixture-org/search-issues"
SEARCH_URL = "https://api.github.com/search/issues"

MakeConnector = Callable[..., GitHubConnector]


def search(query: str | None) -> FetchRequest:
    return FetchRequest(metric="issue_count", query=query, params=NoParams())


async def test_recorded_search_counts_total_count_and_lists_item_keys(
    make_connector: MakeConnector, nock, token: str
) -> None:
    [route] = nock.register("search-issues")
    recorded = nock.body("search-issues")
    connector = make_connector(token=token)

    reading = await connector.fetch(search(RECORDED_QUERY))

    assert reading.value == recorded["total_count"]
    assert reading.notes == []
    expected_keys = [
        f"octokit-fixture-org/search-issues#{item['number']}"
        for item in recorded["items"]
    ]
    assert reading.evidence.items == expected_keys
    assert reading.evidence.items_total == recorded["total_count"]
    assert reading.evidence.requests == 1
    assert reading.evidence.summary["incomplete_results"] is False
    assert route.call_count == 1
    assert connector.request_count == 1


async def test_search_sends_query_exactly_with_github_headers(
    make_connector: MakeConnector, nock, token: str
) -> None:
    [route] = nock.register("search-issues")
    connector = make_connector(token=token, per_page=50)

    await connector.fetch(search(RECORDED_QUERY))

    sent = route.calls.last.request
    assert sent.url.params["q"] == RECORDED_QUERY
    assert sent.url.params["per_page"] == "50"
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert sent.headers["accept"] == "application/vnd.github+json"
    assert sent.headers["x-github-api-version"] == "2022-11-28"
    assert sent.headers["user-agent"] == "okrsync"


async def test_query_with_quotes_and_colons_round_trips_through_encoding(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    query = 'repo:acme/app is:issue is:open label:"good first issue" -label:P3'
    route = router.get(SEARCH_URL).respond(
        json={"total_count": 0, "incomplete_results": False, "items": []}
    )

    reading = await make_connector().fetch(search(query))

    assert route.calls.last.request.url.params["q"] == query
    assert reading.value == 0
    assert reading.evidence.items == []


async def test_without_token_no_authorization_header_is_sent(
    make_connector: MakeConnector, nock
) -> None:
    [route] = nock.register("search-issues")

    await make_connector().fetch(search(RECORDED_QUERY))

    assert "authorization" not in route.calls.last.request.headers


async def test_pull_requests_among_items_are_marked_in_evidence(
    make_connector: MakeConnector, router: respx.MockRouter, nock
) -> None:
    # The recorded search holds issues only; mark its first item as a PR the
    # way GitHub does, with a `pull_request` object.
    body = nock.body("search-issues")
    first, second = body["items"]
    first["pull_request"] = {
        "url": "https://api.github.com/repos/octokit-fixture-org/search-issues/pulls/2"
    }
    router.get(SEARCH_URL).respond(json=body)

    reading = await make_connector().fetch(search(RECORDED_QUERY))

    assert reading.evidence.items == [
        f"octokit-fixture-org/search-issues#{first['number']} (PR)",
        f"octokit-fixture-org/search-issues#{second['number']}",
    ]


async def test_evidence_lists_at_most_one_page_but_counts_everything(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    items = [
        {"number": n, "repository_url": "https://api.github.com/repos/acme/app"}
        for n in range(1, 4)
    ]
    router.get(SEARCH_URL).respond(
        json={"total_count": 2345, "incomplete_results": False, "items": items}
    )

    reading = await make_connector(per_page=3).fetch(search("repo:acme/app"))

    assert reading.value == 2345
    assert reading.evidence.items == ["acme/app#1", "acme/app#2", "acme/app#3"]
    assert reading.evidence.items_total == 2345


async def test_incomplete_results_still_count_but_say_so(
    make_connector: MakeConnector, router: respx.MockRouter, nock
) -> None:
    body = nock.body("search-issues")
    body["incomplete_results"] = True
    router.get(SEARCH_URL).respond(json=body)

    reading = await make_connector().fetch(search(RECORDED_QUERY))

    assert reading.value == body["total_count"]
    assert len(reading.notes) == 1
    assert "incomplete" in reading.notes[0]
    assert reading.evidence.summary["incomplete_results"] is True
    assert reading.evidence.summary["note"] == reading.notes[0]


async def test_enterprise_server_base_sends_requests_under_api_v3(
    make_connector: MakeConnector, nock, token: str
) -> None:
    base = "https://ghe.example.test/api/v3"
    [route] = nock.register("search-issues", base_url=base)

    reading = await make_connector(url=base, token=token).fetch(search(RECORDED_QUERY))

    sent = route.calls.last.request
    assert sent.url.host == "ghe.example.test"
    assert sent.url.path == "/api/v3/search/issues"
    assert reading.evidence.request.startswith(
        "GET https://ghe.example.test/api/v3/search/issues?"
    )


async def test_enterprise_item_keys_come_from_repository_url_after_api_v3(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    base = "https://ghe.example.test/api/v3"
    item = {
        "number": 9,
        "repository_url": f"{base}/repos/platform/billing",
        "pull_request": {"url": f"{base}/repos/platform/billing/pulls/9"},
    }
    router.get(f"{base}/search/issues").respond(
        json={"total_count": 1, "incomplete_results": False, "items": [item]}
    )

    reading = await make_connector(url=base).fetch(search("org:platform"))

    assert reading.evidence.items == ["platform/billing#9 (PR)"]


async def test_sandbox_path_prefix_is_kept(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    base = "http://127.0.0.1:8930/github"
    route = router.get(f"{base}/search/issues").respond(
        json={"total_count": 4, "incomplete_results": False, "items": []}
    )

    reading = await make_connector(url=base).fetch(search("repo:acme/app"))

    assert reading.value == 4
    assert route.call_count == 1


@pytest.mark.parametrize("query", [None, "", "   "])
async def test_missing_query_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter, query: str | None
) -> None:
    route = router.get(SEARCH_URL)

    with pytest.raises(ConfigurationError, match="needs a `query:`"):
        await make_connector().fetch(search(query))

    assert route.call_count == 0


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"incomplete_results": False, "items": []}, "'total_count'"),
        ({"total_count": "12", "items": []}, "'total_count'"),
        ({"total_count": 3, "items": {"a": 1}}, "'items'"),
        ([1, 2, 3], "not a JSON object"),
    ],
)
async def test_search_answer_of_the_wrong_shape_is_transient(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    body: object,
    missing: str,
) -> None:
    router.get(SEARCH_URL).respond(json=body)

    with pytest.raises(TransientError, match=missing) as caught:
        await make_connector().fetch(search("repo:acme/app"))

    assert "GET https://api.github.com/search/issues" in caught.value.message


async def test_unknown_metric_is_a_configuration_error_naming_the_choices(
    make_connector: MakeConnector,
) -> None:
    request = FetchRequest(metric="stars", query=None, params=NoParams())

    with pytest.raises(ConfigurationError, match="issue_count, milestone_percent"):
        await make_connector().fetch(request)


async def test_html_body_on_success_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(SEARCH_URL).mock(
        return_value=httpx.Response(200, text="<html>maintenance</html>")
    )

    with pytest.raises(TransientError, match="HTML page"):
        await make_connector(max_attempts=1).fetch(search("repo:acme/app"))
