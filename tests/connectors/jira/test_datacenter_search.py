"""Jira Data Center / Server: `POST /rest/api/2/search`, paged by `startAt`."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from connectors.base import ConfigurationError, TransientError


def paged_answer(
    issues: list[dict[str, Any]], *, first: dict[str, Any], step: int
) -> Any:
    """A fake search that answers the recorded page at startAt=0, then
    at most `step` issues per page, as a real Jira capping pages would."""

    def answer(request: httpx.Request) -> httpx.Response:
        start = json.loads(request.content)["startAt"]
        if start == 0:
            return httpx.Response(200, json=first)
        page = {
            "startAt": start,
            "maxResults": step,
            "total": len(issues),
            "issues": issues[start : start + step],
        }
        return httpx.Response(200, json=page)

    return answer


def sprint_issues(kit: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The recorded partial page (1 of 10) and 10 issues that fill its total."""
    page = kit.load("agile.sprint-issues.partial-page.json")
    recorded = page["issues"][0]
    rest = kit.clone_issues(recorded, page["total"] - 1, first=2)
    return page, [recorded, *rest]


async def test_recorded_search_gives_the_issue_count_from_total_in_one_request(
    kit, router, make_connector
):
    recorded = kit.load("search.v2.total-18.json")
    answer = {**recorded, "maxResults": 0, "issues": []}
    route = router.post(f"{kit.DC_URL}/rest/api/2/search").respond(json=answer)

    reading = await make_connector(deployment="datacenter").fetch(
        kit.ask("issue_count", "project = KP")
    )

    assert reading.value == recorded["total"]
    assert route.call_count == 1
    body = kit.body_of(route.calls[0])
    assert body["maxResults"] == 0
    assert body["startAt"] == 0
    assert body["jql"] == "project = KP"
    assert reading.evidence.items == []
    assert reading.evidence.items_total == recorded["total"]
    assert reading.evidence.request == (
        f"POST {kit.DC_URL}/rest/api/2/search jql=project = KP"
    )


async def test_recorded_search_gives_done_percent_from_status_categories(
    kit, router, make_connector
):
    recorded = kit.load("search.v2.total-18.json")
    keys = [
        issue["fields"]["status"]["statusCategory"]["key"]
        for issue in recorded["issues"]
    ]
    expected = 100 * keys.count("done") / len(keys)
    router.post(f"{kit.DC_URL}/rest/api/2/search").respond(json=recorded)

    reading = await make_connector(deployment="datacenter").fetch(
        kit.ask("done_percent", "project = KP")
    )

    assert reading.value == pytest.approx(expected)
    assert reading.evidence.summary == {
        "matched": len(keys),
        "done": keys.count("done"),
    }
    assert reading.evidence.items == [issue["key"] for issue in recorded["issues"]]


async def test_partial_pages_advance_start_at_by_the_issues_returned(
    kit, router, make_connector
):
    page, issues = sprint_issues(kit)
    route = router.post(f"{kit.DC_URL}/rest/api/2/search").mock(
        side_effect=paged_answer(issues, first=page, step=3)
    )

    reading = await make_connector(deployment="datacenter", page_size=50).fetch(
        kit.ask("done_percent")
    )

    starts = [kit.body_of(call)["startAt"] for call in route.calls]
    assert starts == [0, 1, 4, 7]
    assert all(kit.body_of(call)["maxResults"] == 50 for call in route.calls)
    assert reading.evidence.summary["matched"] == page["total"]
    assert reading.evidence.items == [issue["key"] for issue in issues]


async def test_an_issue_resolved_done_in_a_to_do_category_is_not_done(
    kit, router, make_connector
):
    page, issues = sprint_issues(kit)
    recorded = issues[0]
    assert recorded["fields"]["resolution"]["name"] == "Done"
    router.post(f"{kit.DC_URL}/rest/api/2/search").respond(json={**page, "total": 1})

    reading = await make_connector(deployment="datacenter").fetch(
        kit.ask("done_percent")
    )

    assert reading.value == 0


async def test_an_empty_page_before_the_total_is_a_transient_error(
    kit, router, make_connector
):
    page, _ = sprint_issues(kit)
    empty = {**copy.deepcopy(page), "startAt": 1, "issues": []}
    router.post(f"{kit.DC_URL}/rest/api/2/search").mock(
        side_effect=[httpx.Response(200, json=page), httpx.Response(200, json=empty)]
    )

    with pytest.raises(TransientError, match="fewer issues than its total"):
        await make_connector(deployment="datacenter").fetch(kit.ask("done_percent"))


async def test_more_pages_than_max_pages_is_a_configuration_error_naming_the_cap(
    kit, router, make_connector
):
    page, issues = sprint_issues(kit)
    route = router.post(f"{kit.DC_URL}/rest/api/2/search").mock(
        side_effect=paged_answer(issues, first=page, step=1)
    )

    with pytest.raises(ConfigurationError, match="max_pages=4"):
        await make_connector(deployment="datacenter", max_pages=4).fetch(
            kit.ask("done_percent")
        )

    assert route.call_count == 4


async def test_an_answer_without_total_is_a_transient_error(
    kit, router, make_connector
):
    recorded = kit.load("search.v2.total-18.json")
    del recorded["total"]
    router.post(f"{kit.DC_URL}/rest/api/2/search").respond(json=recorded)

    with pytest.raises(TransientError, match="'total'"):
        await make_connector(deployment="datacenter", max_attempts=1).fetch(
            kit.ask("issue_count")
        )


async def test_zero_matching_issues_count_zero_and_leave_done_percent_unset(
    kit, router, make_connector
):
    router.post(f"{kit.DC_URL}/rest/api/2/search").respond(
        json={"startAt": 0, "maxResults": 50, "total": 0, "issues": []}
    )
    connector = make_connector(deployment="datacenter")

    count = await connector.fetch(kit.ask("issue_count"))
    percent = await connector.fetch(kit.ask("done_percent"))

    assert count.value == 0
    assert percent.value is None


async def test_data_center_never_calls_the_cloud_search(kit, router, make_connector):
    cloud = router.route(path__startswith="/jira/rest/api/3/").respond(404)
    recorded = kit.load("search.v2.total-18.json")
    router.post(f"{kit.DC_URL}/rest/api/2/search").respond(json=recorded)

    await make_connector(deployment="datacenter").fetch(kit.ask("done_percent"))

    assert not cloud.called
