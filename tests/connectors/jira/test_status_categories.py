"""Done-ness comes from the status category key, looked up when issues omit it."""

from __future__ import annotations

from typing import Any

import pytest

LOCALIZED_DONE = {
    "id": "20001",
    "name": "Готово",
    "statusCategory": {"id": 3, "key": "done", "name": "Done"},
}
DONE_IN_NAME_ONLY = {
    "id": "20002",
    "name": "Done",
    "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"},
}


def statuses(kit: Any) -> list[dict[str, Any]]:
    """The recorded status list plus a localized done and a misleading "Done"."""
    return [*kit.load("status.list.json"), LOCALIZED_DONE, DONE_IN_NAME_ONLY]


def bare_issues(status_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One issue per status, carrying only the status id and name."""
    return [
        {
            "id": str(30_000 + number),
            "key": f"TES-{number}",
            "fields": {"status": {"id": status["id"], "name": status["name"]}},
        }
        for number, status in enumerate(status_list, start=1)
    ]


@pytest.fixture
def cloud_site(kit, router):
    """A Cloud site whose search answers issues without status categories."""
    status_list = statuses(kit)
    issues = bare_issues(status_list)
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(
        json={"issues": issues, "isLast": True}
    )
    status_route = router.get(f"{kit.CLOUD_URL}/rest/api/3/status").respond(
        json=status_list
    )
    return status_list, issues, status_route


async def test_done_comes_from_the_status_list_categories_not_names(
    kit, make_connector, cloud_site
):
    status_list, issues, _ = cloud_site
    done_ids = {s["id"] for s in status_list if s["statusCategory"]["key"] == "done"}
    expected_done = [
        i["key"] for i in issues if i["fields"]["status"]["id"] in done_ids
    ]

    reading = await make_connector().fetch(kit.ask("done_percent"))

    assert reading.evidence.summary["done"] == len(expected_done)
    assert reading.value == pytest.approx(100 * len(expected_done) / len(issues))


async def test_a_localized_done_status_counts_and_a_status_named_done_does_not(
    kit, router, make_connector
):
    router.get(f"{kit.CLOUD_URL}/rest/api/3/status").respond(json=statuses(kit))
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(
        json={
            "issues": bare_issues([LOCALIZED_DONE, DONE_IN_NAME_ONLY]),
            "isLast": True,
        }
    )

    reading = await make_connector().fetch(kit.ask("done_percent"))

    assert reading.evidence.summary == {"matched": 2, "done": 1}
    assert reading.value == 50


async def test_the_status_list_is_fetched_once_per_connector(
    kit, make_connector, cloud_site
):
    _, _, status_route = cloud_site
    connector = make_connector()

    first = await connector.fetch(kit.ask("done_percent"))
    second = await connector.fetch(kit.ask("done_percent", "project = OTHER"))

    assert status_route.call_count == 1
    assert first.evidence.requests == 2
    assert second.evidence.requests == 1


async def test_the_status_list_is_not_fetched_when_issues_carry_categories(
    kit, router, make_connector
):
    status_route = router.get(f"{kit.CLOUD_URL}/rest/api/3/status").respond(json=[])
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(
        json=kit.load("search-jql.last.handmade.json")
    )

    await make_connector().fetch(kit.ask("done_percent"))

    assert not status_route.called


async def test_an_issue_whose_status_the_list_lacks_counts_as_not_done_with_a_note(
    kit, router, make_connector
):
    router.get(f"{kit.CLOUD_URL}/rest/api/3/status").respond(json=[LOCALIZED_DONE])
    issues = bare_issues([LOCALIZED_DONE, {"id": "99999", "name": "Mystery"}])
    router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(
        json={"issues": issues, "isLast": True}
    )

    reading = await make_connector().fetch(kit.ask("done_percent"))

    assert reading.value == 50
    assert any("TES-2" in note for note in reading.notes)


async def test_data_center_looks_statuses_up_under_api_2(kit, router, make_connector):
    status_route = router.get(f"{kit.DC_URL}/rest/api/2/status").respond(
        json=statuses(kit)
    )
    issues = bare_issues([LOCALIZED_DONE, DONE_IN_NAME_ONLY, LOCALIZED_DONE])
    router.post(f"{kit.DC_URL}/rest/api/2/search").respond(
        json={"startAt": 0, "maxResults": 50, "total": 3, "issues": issues}
    )

    reading = await make_connector(deployment="datacenter").fetch(
        kit.ask("done_percent")
    )

    assert status_route.call_count == 1
    assert reading.value == pytest.approx(100 * 2 / 3)
