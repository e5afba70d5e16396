"""`field_sum`: a numeric field found by name through the field list, summed."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import ConfigurationError

FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string"}},
    {
        "id": "customfield_10016",
        "name": "Story Points",
        "custom": True,
        "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system"},
    },
    {
        "id": "customfield_10020",
        "name": "Story point estimate",
        "custom": True,
        "schema": {"type": "number"},
    },
    {
        "id": "customfield_10030",
        "name": "Team",
        "custom": True,
        "schema": {"type": "string"},
    },
    {
        "id": "customfield_10041",
        "name": "Effort",
        "custom": True,
        "schema": {"type": "number"},
    },
    {
        "id": "customfield_10042",
        "name": "Effort",
        "custom": True,
        "schema": {"type": "number"},
    },
    {"id": "issuekey", "name": "Key", "custom": False},
]

POINTS = "customfield_10016"


def issue(number: int, points: float | None, category: str) -> dict[str, Any]:
    """An issue with story points (or none) in a status of the given category."""
    fields: dict[str, Any] = {
        "status": {"id": "1", "name": "Whatever", "statusCategory": {"key": category}}
    }
    if points is not None or number % 2:
        fields[POINTS] = points
    return {"id": str(number), "key": f"TES-{number}", "fields": fields}


ISSUES = [
    issue(1, 3, "done"),
    issue(2, 5, "indeterminate"),
    issue(3, None, "done"),
    issue(4, None, "new"),
    issue(5, 8, "done"),
    issue(6, 2.5, "new"),
]


@pytest.fixture
def site(kit, router):
    """A Cloud site with the field list above and the issues above."""
    field_route = router.get(f"{kit.CLOUD_URL}/rest/api/3/field").respond(json=FIELDS)
    search_route = router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(
        json={"issues": ISSUES, "isLast": True}
    )
    return field_route, search_route


def points(issues: list[dict[str, Any]]) -> float:
    return sum(i["fields"].get(POINTS) or 0 for i in issues)


async def test_the_field_is_found_by_name_case_blind_and_summed(
    kit, make_connector, site
):
    _, search_route = site

    reading = await make_connector().fetch(kit.ask("field_sum", field="story POINTS"))

    assert reading.value == pytest.approx(points(ISSUES))
    assert POINTS in kit.body_of(search_route.calls[0])["fields"]
    missing = sum(i["fields"].get(POINTS) is None for i in ISSUES)
    assert reading.evidence.summary["issues_without_value"] == missing
    assert reading.evidence.summary["field"] == "Story Points"
    assert reading.evidence.summary["field_id"] == POINTS
    assert reading.evidence.items_total == len(ISSUES)
    assert reading.evidence.requests == 2


async def test_the_field_can_be_named_by_its_id(kit, make_connector, site):
    reading = await make_connector().fetch(kit.ask("field_sum", field=POINTS))

    assert reading.value == pytest.approx(points(ISSUES))


async def test_done_only_sums_issues_in_the_done_category(kit, make_connector, site):
    _, search_route = site
    done = [
        i for i in ISSUES if i["fields"]["status"]["statusCategory"]["key"] == "done"
    ]

    reading = await make_connector().fetch(
        kit.ask("field_sum", field="Story Points", done_only=True)
    )

    assert reading.value == pytest.approx(points(done))
    assert reading.evidence.items == [i["key"] for i in done]
    assert "status" in kit.body_of(search_route.calls[0])["fields"]


async def test_a_name_shared_by_two_fields_asks_for_the_id(kit, make_connector, site):
    _, search_route = site

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask("field_sum", field="Effort"))

    assert "customfield_10041" in caught.value.message
    assert "customfield_10042" in caught.value.message
    assert "id" in caught.value.message
    assert not search_route.called


async def test_an_unknown_name_suggests_close_names(kit, make_connector, site):
    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask("field_sum", field="Story Pints"))

    assert "'Story Points'" in caught.value.message
    assert "no field named 'Story Pints'" in caught.value.message


async def test_a_non_numeric_field_is_a_configuration_error(kit, make_connector, site):
    _, search_route = site

    with pytest.raises(ConfigurationError, match="'Team'.*not numbers"):
        await make_connector().fetch(kit.ask("field_sum", field="Team"))

    assert not search_route.called


async def test_a_field_without_a_schema_is_not_numeric(kit, make_connector, site):
    with pytest.raises(ConfigurationError, match="not numbers"):
        await make_connector().fetch(kit.ask("field_sum", field="Key"))


async def test_the_field_list_is_fetched_once_per_connector(kit, make_connector, site):
    field_route, _ = site
    connector = make_connector()

    await connector.fetch(kit.ask("field_sum", field="Story Points"))
    await connector.fetch(kit.ask("field_sum", field="Story point estimate"))

    assert field_route.call_count == 1


async def test_data_center_reads_the_field_list_under_api_2(
    kit, router, make_connector
):
    field_route = router.get(f"{kit.DC_URL}/rest/api/2/field").respond(json=FIELDS)
    router.post(f"{kit.DC_URL}/rest/api/2/search").respond(
        json={"startAt": 0, "maxResults": 50, "total": len(ISSUES), "issues": ISSUES}
    )

    reading = await make_connector(deployment="datacenter").fetch(
        kit.ask("field_sum", field="Story Points")
    )

    assert field_route.called
    assert reading.value == pytest.approx(points(ISSUES))
