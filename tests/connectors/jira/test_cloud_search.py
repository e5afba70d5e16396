"""Jira Cloud: the enhanced search `POST /rest/api/3/search/jql`, paged by token."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from connectors.base import ConfigurationError, TransientError

SEARCH = "/jira-cloud/rest/api/3/search/jql"


def two_pages(kit: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first page of 100 issues with a token and a last page of 37."""
    first = kit.load("search-jql.page1.handmade.json")
    last = kit.load("search-jql.last.handmade.json")
    first["issues"] = kit.clone_issues(first["issues"][0], 100)
    last["issues"] = kit.clone_issues(last["issues"][0], 37, first=101)
    return first, last


def done_issue(issue: dict[str, Any]) -> dict[str, Any]:
    """The issue moved to a done status (named oddly, as real sites do)."""
    issue = copy.deepcopy(issue)
    issue["fields"]["status"] = {
        "id": "10300",
        "name": "Live",
        "statusCategory": {"id": 3, "key": "done", "name": "Done"},
    }
    return issue


async def test_issue_count_follows_next_page_token_across_two_pages(
    kit, router, make_connector
):
    first, last = two_pages(kit)
    route = router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=last)]
    )

    reading = await make_connector().fetch(kit.ask("issue_count", "project = TES"))

    assert reading.value == 137
    assert route.call_count == 2
    first_body, second_body = (kit.body_of(call) for call in route.calls)
    assert "nextPageToken" not in first_body
    assert second_body["nextPageToken"] == first["nextPageToken"]
    assert "startAt" not in first_body
    assert "startAt" not in second_body
    assert second_body["jql"] == "project = TES"
    assert reading.evidence.items_total == 137
    assert reading.evidence.items[:2] == ["TES-1", "TES-2"]
    assert reading.evidence.requests == 2


async def test_issue_count_asks_only_for_keys_with_the_large_id_only_page(
    kit, router, make_connector
):
    _, last = two_pages(kit)
    route = router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=last)

    await make_connector(page_size=50).fetch(kit.ask("issue_count"))

    body = kit.body_of(route.calls[0])
    assert body["fields"] == ["key"]
    assert body["maxResults"] == 5000


async def test_done_percent_counts_done_categories_over_token_pages(
    kit, router, make_connector
):
    first, last = two_pages(kit)
    first["issues"][:30] = [done_issue(issue) for issue in first["issues"][:30]]
    last["issues"][:7] = [done_issue(issue) for issue in last["issues"][:7]]
    all_issues = first["issues"] + last["issues"]
    expected_done = sum(
        issue["fields"]["status"]["statusCategory"]["key"] == "done"
        for issue in all_issues
    )
    route = router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=last)]
    )

    reading = await make_connector(page_size=100).fetch(kit.ask("done_percent"))

    assert reading.value == pytest.approx(100 * expected_done / len(all_issues))
    assert reading.evidence.summary == {"matched": 137, "done": expected_done}
    body = kit.body_of(route.calls[0])
    assert set(body["fields"]) == {"key", "status"}
    assert body["maxResults"] == 100


async def test_documented_example_answer_counts_its_one_issue_by_key(
    kit, router, make_connector
):
    example = kit.load("search-jql.openapi-example.json")
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=example)

    reading = await make_connector().fetch(kit.ask("issue_count"))

    assert reading.value == len(example["issues"])
    assert reading.evidence.items == [issue["key"] for issue in example["issues"]]


async def test_cloud_never_calls_the_removed_search_endpoints(
    kit, router, make_connector
):
    gone = {"errorMessages": ["The requested API has been removed."]}
    removed_v2 = router.route(path="/jira-cloud/rest/api/2/search").respond(
        410, json=gone
    )
    removed_v3 = router.route(path="/jira-cloud/rest/api/3/search").respond(
        410, json=gone
    )
    _, last = two_pages(kit)
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=last)
    router.get(f"{kit.CLOUD_URL}/rest/api/3/field").respond(
        json=[
            {
                "id": "customfield_10016",
                "name": "Story Points",
                "schema": {"type": "number"},
            }
        ]
    )
    connector = make_connector()

    for request in (
        kit.ask("issue_count"),
        kit.ask("done_percent"),
        kit.ask("field_sum", field="Story Points"),
    ):
        await connector.fetch(request)

    assert not removed_v2.called
    assert not removed_v3.called


async def test_evidence_names_the_first_search_request_and_the_jql(
    kit, router, make_connector
):
    _, last = two_pages(kit)
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=last)

    reading = await make_connector().fetch(kit.ask("issue_count", "project = MOB"))

    assert reading.evidence.request == (
        f"POST {kit.CLOUD_URL}/rest/api/3/search/jql jql=project = MOB"
    )


async def test_a_page_repeating_an_earlier_token_is_a_transient_error(
    kit, router, make_connector
):
    first, _ = two_pages(kit)
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=first)

    with pytest.raises(TransientError, match="looped"):
        await make_connector().fetch(kit.ask("issue_count"))


async def test_a_page_not_last_without_a_token_is_a_transient_error(
    kit, router, make_connector
):
    first, _ = two_pages(kit)
    del first["nextPageToken"]
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=first)

    with pytest.raises(TransientError, match="without an end marker"):
        await make_connector().fetch(kit.ask("issue_count"))


async def test_a_last_page_without_is_last_ends_on_the_missing_token(
    kit, router, make_connector
):
    _, last = two_pages(kit)
    del last["isLast"]
    route = router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=last)

    reading = await make_connector().fetch(kit.ask("issue_count"))

    assert reading.value == 37
    assert route.call_count == 1


async def test_more_pages_than_max_pages_is_a_configuration_error_naming_the_cap(
    kit, router, make_connector
):
    def endless(request: httpx.Request) -> httpx.Response:
        page = kit.load("search-jql.page1.handmade.json")
        page["nextPageToken"] = f"token-{len(route.calls)}"
        return httpx.Response(200, json=page)

    route = router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").mock(
        side_effect=endless
    )

    with pytest.raises(ConfigurationError, match="too many issues") as caught:
        await make_connector(max_pages=3).fetch(kit.ask("issue_count"))

    assert "max_pages=3" in caught.value.message
    assert route.call_count == 3


@pytest.mark.parametrize(
    "answer",
    [{"isLast": True}, {"issues": "none", "isLast": True}, ["not", "an", "object"]],
)
async def test_an_answer_without_an_issues_list_is_a_transient_error_naming_it(
    kit, router, make_connector, answer
):
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(json=answer)

    with pytest.raises(TransientError) as caught:
        await make_connector(max_attempts=1).fetch(kit.ask("issue_count"))

    assert "POST /rest/api/3/search/jql had no 'issues' list" in caught.value.message


async def test_zero_matching_issues_count_zero_and_leave_done_percent_unset(
    kit, router, make_connector
):
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(
        json={"issues": [], "isLast": True}
    )
    connector = make_connector()

    count = await connector.fetch(kit.ask("issue_count"))
    percent = await connector.fetch(kit.ask("done_percent"))

    assert count.value == 0
    assert percent.value is None
    assert percent.evidence.summary == {"matched": 0, "done": 0}
    assert percent.notes
