"""The Jira Cloud and Data Center upstreams, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxServer
from app.sandbox.data import Company
from app.sandbox.jql import search

Recorded = Callable[[str], Any]

CLOUD_SEARCH = "/jira-cloud/rest/api/3/search/jql"
DC_SEARCH = "/jira-dc/rest/api/2/search"
MOB_2_0 = 'project = MOB AND fixVersion = "2.0"'


def walk_cloud(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a Cloud search, following nextPageToken."""
    pages = []
    token = None
    for _ in range(100):
        request = {**body, **({"nextPageToken": token} if token else {})}
        response = client.post(CLOUD_SEARCH, json=request)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["isLast"]:
            return pages
        token = page["nextPageToken"]
    raise AssertionError("paging did not end")


def test_cloud_token_paging_reaches_every_issue_once(
    client: httpx.Client, company: Company
) -> None:
    expected = {issue.key for issue in search(company, "project = MOB")}

    pages = walk_cloud(
        client, {"jql": "project = MOB", "maxResults": 25, "fields": ["key"]}
    )
    keys = [issue["key"] for page in pages for issue in page["issues"]]

    assert len(pages) == 5
    assert len(keys) == len(set(keys))
    assert set(keys) == expected
    assert [page["isLast"] for page in pages] == [False] * 4 + [True]
    assert "nextPageToken" not in pages[-1]
    assert not any("total" in page for page in pages)


def test_cloud_pages_have_the_recorded_top_level_shape(
    client: httpx.Client, recorded: Recorded
) -> None:
    first_recorded = recorded("jira/search-jql.page1.handmade.json")
    last_recorded = recorded("jira/search-jql.last.handmade.json")

    pages = walk_cloud(
        client, {"jql": MOB_2_0, "maxResults": 30, "fields": ["summary", "status"]}
    )

    assert set(pages[0]) == set(first_recorded)
    assert set(pages[-1]) == set(last_recorded)
    issue = pages[0]["issues"][0]
    assert set(issue) >= set(first_recorded["issues"][0])
    recorded_status = first_recorded["issues"][0]["fields"]["status"]
    assert set(issue["fields"]["status"]) >= set(recorded_status)


def test_cloud_returns_only_ids_by_default(client: httpx.Client) -> None:
    response = client.post(CLOUD_SEARCH, json={"jql": "project = WEB"})
    issues = response.json()["issues"]

    assert len(issues) == 50
    assert all(set(issue) == {"id"} for issue in issues)


def test_cloud_returns_only_the_requested_fields(
    client: httpx.Client, company: Company
) -> None:
    response = client.post(
        CLOUD_SEARCH,
        json={"jql": "key = MOB-1", "fields": ["status", "customfield_10016", "nope"]},
    )
    issue = response.json()["issues"][0]
    mob_1 = company.jira_issue("MOB-1")

    assert mob_1 is not None
    assert issue["key"] == "MOB-1"
    assert set(issue["fields"]) == {"status", "customfield_10016"}
    assert issue["fields"]["customfield_10016"] == mob_1.story_points
    category = issue["fields"]["status"]["statusCategory"]
    assert category["key"] == mob_1.status.category_key


def test_cloud_all_fields_carry_jira_shapes(client: httpx.Client) -> None:
    response = client.post(CLOUD_SEARCH, json={"jql": MOB_2_0, "fields": ["*all"]})
    fields = response.json()["issues"][0]["fields"]

    assert {"summary", "issuetype", "project", "priority", "labels"} <= set(fields)
    assert set(fields["issuetype"]) >= {"id", "name", "subtask"}
    assert set(fields["project"]) >= {"id", "key", "name"}
    assert set(fields["priority"]) >= {"id", "name"}
    assert fields["fixVersions"][0]["name"] == "2.0"
    assert set(fields["fixVersions"][0]) >= {"id", "name", "released"}
    assert fields["created"].endswith(".000+0000")
    assert {"customfield_10016", "customfield_10026"} <= set(fields)
    assert "customfield_10002" not in fields


def test_cloud_get_takes_comma_separated_fields(client: httpx.Client) -> None:
    response = client.get(
        CLOUD_SEARCH,
        params={"jql": MOB_2_0, "fields": "summary,labels", "maxResults": "3"},
    )
    issues = response.json()["issues"]

    assert len(issues) == 3
    assert all(set(issue["fields"]) == {"summary", "labels"} for issue in issues)


def test_dc_field_exclusions_keep_every_other_field(client: httpx.Client) -> None:
    params = {"jql": MOB_2_0, "maxResults": 1, "fields": "-summary,-labels"}

    fields = client.get(DC_SEARCH, params=params).json()["issues"][0]["fields"]

    assert {"status", "project", "customfield_10002"} <= set(fields)
    assert not {"summary", "labels"} & set(fields)


def test_cloud_caps_pages_at_100_unless_only_ids_are_asked(
    client: httpx.Client,
) -> None:
    jql = "project in (MOB, WEB, PLAT)"
    with_fields = client.post(
        CLOUD_SEARCH, json={"jql": jql, "maxResults": 500, "fields": ["summary"]}
    )
    ids_only = client.post(CLOUD_SEARCH, json={"jql": jql, "maxResults": 500})

    assert len(with_fields.json()["issues"]) == 100
    assert len(ids_only.json()["issues"]) == 300
    assert ids_only.json()["isLast"] is True


def test_cloud_refuses_a_token_from_another_query(client: httpx.Client) -> None:
    first = client.post(CLOUD_SEARCH, json={"jql": MOB_2_0, "maxResults": 5})
    token = first.json()["nextPageToken"]

    other = client.post(
        CLOUD_SEARCH, json={"jql": "project = WEB", "nextPageToken": token}
    )
    garbage = client.post(
        CLOUD_SEARCH, json={"jql": MOB_2_0, "nextPageToken": "not-a-token"}
    )

    assert other.status_code == 400
    assert "nextPageToken" in other.json()["errorMessages"][0]
    assert garbage.status_code == 400


@pytest.mark.parametrize("jql", ["", "ORDER BY created DESC"])
def test_cloud_refuses_unbounded_queries(client: httpx.Client, jql: str) -> None:
    response = client.post(CLOUD_SEARCH, json={"jql": jql})

    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        "Unbounded JQL queries are not allowed here. Please add a search "
        "restriction to your query."
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/jira-cloud/rest/api/2/search"),
        ("POST", "/jira-cloud/rest/api/2/search"),
        ("GET", "/jira-cloud/rest/api/3/search"),
        ("POST", "/jira-cloud/rest/api/3/search"),
    ],
)
def test_cloud_removed_search_endpoints_answer_410(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path, params={"jql": "project = MOB"})

    assert response.status_code == 410
    message = response.json()["errorMessages"][0]
    assert "has been removed" in message
    assert "/rest/api/3/search/jql" in message


def test_cloud_approximate_count_counts_matches(
    client: httpx.Client, company: Company
) -> None:
    response = client.post(
        "/jira-cloud/rest/api/3/search/approximate-count", json={"jql": MOB_2_0}
    )

    assert response.json() == {"count": len(search(company, MOB_2_0))}


def test_jql_errors_come_back_as_jira_400_bodies(client: httpx.Client) -> None:
    cloud = client.post(CLOUD_SEARCH, json={"jql": "teem = Blue"})
    dc = client.get(DC_SEARCH, params={"jql": "project = NOPE"})

    assert cloud.status_code == 400
    assert cloud.json() == {
        "errorMessages": [
            "Field 'teem' does not exist or you do not have permission to view it."
        ],
        "errors": {},
    }
    assert dc.status_code == 400
    assert dc.json()["errorMessages"] == [
        "The value 'NOPE' does not exist for the field 'project'."
    ]


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"jql": "project = MOB", "maxResults": "x"}']
)
def test_malformed_search_payload_is_a_400(client: httpx.Client, body: bytes) -> None:
    response = client.post(
        CLOUD_SEARCH, content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert "Invalid request payload" in response.json()["errorMessages"][0]


def test_dc_start_at_paging_reports_the_total(
    client: httpx.Client, company: Company
) -> None:
    expected = [issue.key for issue in search(company, "project = PLAT")]
    keys: list[str] = []
    totals = set()

    for start in range(0, 200, 40):
        params = {"jql": "project = PLAT", "startAt": start, "maxResults": 40}
        page = client.get(DC_SEARCH, params=params).json()
        assert page["startAt"] == start
        totals.add(page["total"])
        keys += [issue["key"] for issue in page["issues"]]

    assert totals == {90}
    assert keys == expected


def test_dc_max_results_zero_gives_the_total_only(client: httpx.Client) -> None:
    response = client.post(DC_SEARCH, json={"jql": MOB_2_0, "maxResults": 0})
    body = response.json()

    assert body["issues"] == []
    assert body["maxResults"] == 0
    assert body["total"] == 48


def test_dc_caps_pages_at_1000_and_allows_unbounded_queries(
    client: httpx.Client,
) -> None:
    response = client.post(DC_SEARCH, json={"jql": "", "maxResults": 5000})
    body = response.json()

    assert body["maxResults"] == 1000
    assert body["total"] == 300
    assert len(body["issues"]) == 300


def test_dc_answers_have_the_recorded_shape(
    client: httpx.Client, recorded: Recorded
) -> None:
    classic = recorded("jira/search.v2.total-18.json")
    recorded_issue = classic["issues"][0]

    body = client.get(DC_SEARCH, params={"jql": MOB_2_0, "maxResults": 1}).json()
    issue = body["issues"][0]

    assert set(body) == set(classic)
    assert set(issue) == set(recorded_issue)
    assert set(issue["fields"]["status"]) == set(recorded_issue["fields"]["status"])
    recorded_category = recorded_issue["fields"]["status"]["statusCategory"]
    assert set(issue["fields"]["status"]["statusCategory"]) == set(recorded_category)
    assert "customfield_10002" in issue["fields"]
    assert "customfield_10016" not in issue["fields"]


def test_dc_post_takes_a_list_of_fields(client: httpx.Client) -> None:
    body = {"jql": MOB_2_0, "maxResults": 2, "fields": ["summary", "customfield_10002"]}

    issues = client.post(DC_SEARCH, json=body).json()["issues"]

    assert all(set(i["fields"]) == {"summary", "customfield_10002"} for i in issues)


def test_dc_has_no_enhanced_search(client: httpx.Client) -> None:
    response = client.post("/jira-dc/rest/api/3/search/jql", json={"jql": MOB_2_0})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("site", "points_id"),
    [
        ("/jira-cloud/rest/api/3", "customfield_10016"),
        ("/jira-dc/rest/api/2", "customfield_10002"),
    ],
)
def test_field_list_has_story_points_and_decoys(
    client: httpx.Client, site: str, points_id: str
) -> None:
    fields = client.get(f"{site}/field").json()
    by_name = {field["name"]: field for field in fields}

    assert by_name["Story Points"]["id"] == points_id
    assert by_name["Story Points"]["schema"]["type"] == "number"
    assert by_name["Story point estimate"]["schema"]["type"] == "number"
    assert by_name["Story point estimate"]["id"] != points_id
    assert by_name["Team"]["schema"]["type"] == "string"
    assert by_name["Status"]["custom"] is False
    assert all({"id", "name", "custom", "clauseNames"} <= set(f) for f in fields)


def test_status_list_maps_every_status_to_its_category(
    client: httpx.Client, company: Company
) -> None:
    statuses = client.get("/jira-cloud/rest/api/3/status").json()
    categories = {s["name"]: s["statusCategory"]["key"] for s in statuses}

    assert categories == {s.name: s.category_key for s in company.jira_statuses}
    assert categories["Готово"] == "done"


def test_status_categories_match_the_recorded_ones(
    client: httpx.Client, recorded: Recorded
) -> None:
    categories = recorded("jira/statuscategory.list.json")
    served = client.get("/jira-dc/rest/api/2/statuscategory").json()

    def without_self(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            ({k: v for k, v in item.items() if k != "self"} for item in items),
            key=lambda item: item["id"],
        )

    assert without_self(served) == without_self(categories)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/jira-cloud/rest/api/3/myself", "accountId"),
        ("/jira-dc/rest/api/2/myself", "name"),
    ],
)
def test_myself_answers_without_credentials(
    client: httpx.Client, path: str, key: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert key in response.json()


def test_issue_links_point_back_at_the_sandbox(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    body = {"jql": "key = WEB-1", "fields": ["status"]}

    issue = client.post(CLOUD_SEARCH, json=body).json()["issues"][0]

    assert issue["self"] == f"{sandbox.jira_cloud_url}/rest/api/3/issue/{issue['id']}"
    assert issue["fields"]["status"]["self"].startswith(sandbox.jira_cloud_url)
