"""The GitHub upstream, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxServer
from app.sandbox.data import Company
from app.sandbox.github_search import search

Recorded = Callable[[str], Any]
LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')
P1_OPEN = "repo:acme/app is:issue is:open label:P1"
ALL_ACME = "org:acme"


def links(response: httpx.Response) -> dict[str, str]:
    """The Link header as {rel: url}."""
    return {rel: url for url, rel in LINK.findall(response.headers.get("link", ""))}


def test_search_counts_the_matching_items(
    client: httpx.Client, company: Company
) -> None:
    response = client.get("/github/search/issues", params={"q": P1_OPEN})
    body = response.json()

    expected = search(company, P1_OPEN)
    assert body["total_count"] == len(expected)
    assert body["incomplete_results"] is False
    assert [item["number"] for item in body["items"]] == [i.number for i in expected]
    assert all(item["state"] == "open" for item in body["items"])
    assert all("pull_request" not in item for item in body["items"])


def test_link_walk_visits_every_item_once(
    client: httpx.Client, company: Company
) -> None:
    url = "/github/search/issues"
    params: dict[str, Any] | None = {"q": ALL_ACME, "per_page": 40}
    seen: list[str] = []
    pages = 0

    while url:
        response = client.get(url, params=params)
        assert response.status_code == 200
        seen += [item["url"] for item in response.json()["items"]]
        pages += 1
        url, params = links(response).get("next", ""), None

    assert pages == 7
    assert len(seen) == len(set(seen)) == len(company.github_issues)


def test_link_header_lists_prev_next_last_first_like_github(
    client: httpx.Client, recorded: Recorded, sandbox: SandboxServer
) -> None:
    recorded_page_2 = recorded("github/issues.list.paginated.nock.json")[1]
    recorded_rels = [rel for _, rel in LINK.findall(recorded_page_2["headers"]["link"])]

    response = client.get(
        "/github/search/issues", params={"q": ALL_ACME, "per_page": 30, "page": 2}
    )
    rels = [rel for _, rel in LINK.findall(response.headers["link"])]

    assert rels == recorded_rels == ["prev", "next", "last", "first"]
    assert links(response)["last"].startswith(f"{sandbox.github_url}/search/issues?")
    assert "page=9" in links(response)["last"]


def test_pull_requests_carry_pull_request_and_merge_time(client: httpx.Client) -> None:
    merged = client.get(
        "/github/search/issues",
        params={"q": "repo:acme/api is:pr is:merged label:perf"},
    ).json()
    unmerged = client.get(
        "/github/search/issues", params={"q": "repo:acme/api is:pr is:unmerged"}
    ).json()

    assert merged["total_count"] >= 3
    assert all(item["pull_request"]["merged_at"] for item in merged["items"])
    assert unmerged["total_count"] > 0
    assert all(item["pull_request"]["merged_at"] is None for item in unmerged["items"])


def test_search_items_have_every_key_of_the_recorded_ones(
    client: httpx.Client, recorded: Recorded
) -> None:
    exchange = recorded("github/search-issues.nock.json")[0]
    recorded_item = exchange["response"]["items"][0]

    response = client.get("/github/search/issues", params={"q": P1_OPEN})
    item = response.json()["items"][0]

    assert set(item) >= set(recorded_item)
    assert set(response.json()) == set(exchange["response"])
    assert response.headers["x-ratelimit-resource"] == "search"
    assert (
        response.headers["x-ratelimit-limit"]
        == exchange["headers"]["x-ratelimit-limit"]
    )


def test_search_refuses_unknown_repositories_with_githubs_422(
    client: httpx.Client,
) -> None:
    response = client.get(
        "/github/search/issues", params={"q": "repo:acme/nope is:issue"}
    )

    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"][0]["code"] == "invalid"
    assert body["errors"][0]["field"] == "q"
    assert "cannot be searched" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("q", "fragment"),
    [
        ("repo:acme/app colour:red", "qualifier 'colour'"),
        ("repo:acme/app is:banana", "'banana' is not a valid value"),
        ("repo:acme/app created:>soon", "not a valid date"),
        ("x" * 257, "longer than 256 characters"),
    ],
)
def test_search_refuses_invalid_queries(
    client: httpx.Client, q: str, fragment: str
) -> None:
    response = client.get("/github/search/issues", params={"q": q})

    assert response.status_code == 422
    assert fragment in response.json()["errors"][0]["message"]


def test_search_without_q_is_a_missing_field(client: httpx.Client) -> None:
    response = client.get("/github/search/issues")

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "missing"


def test_search_serves_only_the_first_1000_results(client: httpx.Client) -> None:
    page_34 = client.get(
        "/github/search/issues", params={"q": ALL_ACME, "per_page": 30, "page": 34}
    )
    page_35 = client.get(
        "/github/search/issues", params={"q": ALL_ACME, "per_page": 30, "page": 35}
    )

    assert page_34.status_code == 200
    assert page_35.status_code == 422
    assert "first 1000" in page_35.json()["message"]


def test_github_app_user_tokens_must_name_issues_or_pulls(
    client: httpx.Client,
) -> None:
    headers = {"Authorization": "Bearer ghu_sandboxexample"}

    mixed = client.get(
        "/github/search/issues", params={"q": "repo:acme/app"}, headers=headers
    )
    issues = client.get(
        "/github/search/issues", params={"q": "repo:acme/app is:issue"}, headers=headers
    )

    assert mixed.status_code == 422
    assert issues.status_code == 200


def test_milestone_counts_come_from_its_issues(
    client: httpx.Client, company: Company
) -> None:
    milestone = client.get("/github/repos/acme/app/milestones/1").json()
    items = client.get(
        "/github/search/issues",
        params={"q": 'repo:acme/app milestone:"v2.0"', "per_page": 100},
    ).json()["items"]
    closed = sum(item["state"] == "closed" for item in items)

    assert milestone["title"] == "v2.0"
    assert milestone["closed_issues"] == closed
    assert milestone["open_issues"] == len(items) - closed
    assert any("pull_request" in item for item in items)


def test_the_empty_milestone_has_no_open_or_closed_items(client: httpx.Client) -> None:
    milestone = client.get("/github/repos/acme/app/milestones/3").json()

    assert milestone["title"] == "v3.0 planning"
    assert (milestone["open_issues"], milestone["closed_issues"]) == (0, 0)


def test_milestone_has_every_key_of_the_recorded_one(
    client: httpx.Client, recorded: Recorded
) -> None:
    recorded_milestone = recorded("github/milestone.get.nock.json")[-1]["response"]

    milestone = client.get("/github/repos/acme/api/milestones/1").json()

    assert set(milestone) >= set(recorded_milestone)
    assert milestone["title"] == "2026-Q4 hardening"


def test_milestone_list_filters_by_state_and_pages(client: httpx.Client) -> None:
    open_only = client.get("/github/repos/acme/app/milestones").json()
    every = client.get(
        "/github/repos/acme/app/milestones", params={"state": "all", "per_page": 2}
    )
    closed = client.get(
        "/github/repos/acme/web/milestones", params={"state": "closed"}
    ).json()

    assert [m["title"] for m in open_only] == ["v2.0", "v2.1", "v3.0 planning"]
    assert len(every.json()) == 2
    assert "next" in links(every)
    assert [m["title"] for m in closed] == ["v1.0 launch"]


@pytest.mark.parametrize(
    "path",
    [
        "/github/repos/acme/app/milestones/99",
        "/github/repos/acme/nope/milestones/1",
        "/github/repos/acme/nope/milestones",
        "/github/repos/acme/nope/issues",
        "/github/repos/acme/app/issues/9999",
        "/github/no/such/route",
    ],
)
def test_unknown_things_are_githubs_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert "documentation_url" in response.json()


def test_repository_issues_include_pull_requests(
    client: httpx.Client, company: Company
) -> None:
    response = client.get(
        "/github/repos/acme/web/issues", params={"state": "all", "per_page": 100}
    )
    items = response.json()
    expected = [item for item in company.github_issues if item.repo == "acme/web"]

    assert len(items) == len(expected)
    assert any("pull_request" in item for item in items)
    assert any("pull_request" not in item for item in items)


def test_repository_issues_filter_by_state_labels_and_milestone(
    client: httpx.Client, company: Company
) -> None:
    params = {"labels": "P1", "milestone": "2", "per_page": 100}
    items = client.get("/github/repos/acme/app/issues", params=params).json()
    expected = {
        item.number
        for item in company.github_issues
        if item.repo == "acme/app"
        and item.state == "open"
        and "P1" in item.labels
        and item.milestone_number == 2
    }

    assert expected
    assert {item["number"] for item in items} == expected


def test_etag_and_if_none_match_give_a_free_304(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    first = client.get("/github/repos/acme/app/milestones/1")
    etag = first.headers["etag"]

    again = client.get(
        "/github/repos/acme/app/milestones/1", headers={"If-None-Match": etag}
    )
    third = client.get("/github/repos/acme/app/milestones/1")

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["x-ratelimit-used"] == "1"
    assert third.headers["etag"] == etag
    assert third.headers["x-ratelimit-used"] == "2"
    assert sandbox.rate_limits.not_modified == 1


def test_a_changed_body_gets_another_etag(client: httpx.Client) -> None:
    first = client.get("/github/repos/acme/app/milestones/1")
    other = client.get("/github/repos/acme/app/milestones/2")
    stale = client.get(
        "/github/repos/acme/app/milestones/2",
        headers={"If-None-Match": first.headers["etag"]},
    )

    assert first.headers["etag"] != other.headers["etag"]
    assert stale.status_code == 200


def test_every_answer_carries_rate_limit_headers(client: httpx.Client) -> None:
    found = client.get("/github/repos/acme/app/issues")
    missing = client.get("/github/repos/acme/app/milestones/99")
    refused = client.get("/github/search/issues", params={"q": "repo:acme/x"})

    for response in (found, missing, refused):
        assert {
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        } <= set(response.headers)
    assert found.headers["x-ratelimit-resource"] == "core"
    assert missing.headers["x-ratelimit-used"] == "2"
    assert refused.headers["x-ratelimit-resource"] == "search"


def test_rate_limit_endpoint_reports_use_without_counting_itself(
    client: httpx.Client,
) -> None:
    client.get("/github/search/issues", params={"q": P1_OPEN})
    client.get("/github/repos/acme/app/issues")

    first = client.get("/github/rate_limit").json()
    second = client.get("/github/rate_limit").json()

    assert first == second
    assert first["resources"]["search"]["used"] == 1
    assert first["resources"]["core"]["used"] == 1
    assert first["resources"]["search"]["limit"] == 30
    assert first["rate"] == first["resources"]["core"]


def test_enforced_rate_limit_refuses_with_403_once_used_up(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.rate_limits.enforce = True
    for _ in range(30):
        assert client.get("/github/search/issues", params={"q": P1_OPEN}).is_success

    refused = client.get("/github/search/issues", params={"q": P1_OPEN})
    core = client.get("/github/repos/acme/app/milestones/1")

    assert refused.status_code == 403
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert "rate limit" in refused.json()["message"].lower()
    assert core.status_code == 200
