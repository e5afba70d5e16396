"""The built-in connectors run the same contract suite as a third-party one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from connectors.github import GitHubConnector
from connectors.jira import JiraConnector
from connectors.testing import ConnectorContract, MetricCase

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
JIRA = "https://jira.example.test"
GITHUB = "https://api.github.test"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


SEARCH_18 = recorded("jira/search.v2.total-18.json")
DONE_18 = sum(
    issue["fields"]["status"]["statusCategory"]["key"] == "done"
    for issue in SEARCH_18["issues"]
)
FIELDS = [
    {
        "id": "customfield_10002",
        "name": "Story Points",
        "custom": True,
        "schema": {"type": "number"},
    },
]


def dc_search(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.post(f"{JIRA}/rest/api/2/search").mock(
            return_value=httpx.Response(status, json=body)
        )

    return routes


def dc_search_with_fields(router: Any) -> None:
    issues = [
        {
            "key": f"P-{n}",
            "fields": {
                "status": {"statusCategory": {"key": "done"}},
                "customfield_10002": points,
            },
        }
        for n, points in enumerate([3, 5, None], start=1)
    ]
    body = {"startAt": 0, "maxResults": 100, "total": 3, "issues": issues}
    router.get(f"{JIRA}/rest/api/2/field").mock(
        return_value=httpx.Response(200, json=FIELDS)
    )
    router.post(f"{JIRA}/rest/api/2/search").mock(
        return_value=httpx.Response(200, json=body)
    )


class TestJiraContract(ConnectorContract):
    connector = JiraConnector
    config = {
        "type": "jira",
        "url": JIRA,
        "deployment": "datacenter",
        "token": "pat-secret-123",
    }
    secrets = ["pat-secret-123"]
    bad_configs = [
        ({"type": "jira"}, "url"),
        ({"type": "jira", "url": "ftp://x"}, "url"),
        ({"type": "jira", "url": JIRA, "deployment": "moon"}, "deployment"),
        ({"type": "jira", "url": JIRA, "colour": "red"}, "colour"),
    ]
    cases = [
        MetricCase(
            "issue_count",
            dc_search({**SEARCH_18, "issues": []}),
            query="project = KP",
            value=SEARCH_18["total"],
        ),
        MetricCase(
            "done_percent",
            dc_search(SEARCH_18),
            query="project = KP",
            value=100 * DONE_18 / len(SEARCH_18["issues"]),
        ),
        MetricCase(
            "field_sum",
            dc_search_with_fields,
            query="project = P",
            params={"field": "Story Points"},
            value=8,
        ),
    ]
    upstream_error = MetricCase(
        "issue_count",
        dc_search({"errorMessages": ["Field 'x' does not exist"]}, status=400),
        query="x = 1",
    )
    malformed = MetricCase("issue_count", dc_search({"total": "lots"}), query="q")


def github_get(path: str, body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.get(f"{GITHUB}{path}").mock(
            return_value=httpx.Response(status, json=body)
        )

    return routes


def github_post(path: str, body: Any) -> Any:
    def routes(router: Any) -> None:
        router.post(f"{GITHUB}{path}").mock(return_value=httpx.Response(200, json=body))

    return routes


SINGLE_SELECT = {
    "__typename": "ProjectV2SingleSelectField",
    "name": "Status",
    "dataType": "SINGLE_SELECT",
    "options": [{"id": "a1", "name": "Todo"}, {"id": "b2", "name": "Done"}],
}
BOARD_ITEMS = [
    {
        "type": "ISSUE",
        "isArchived": False,
        "content": {"number": 1, "repository": {"nameWithOwner": "acme/app"}},
        "fieldValueByName": {"name": "Done", "optionId": "b2"},
    },
    {
        "type": "DRAFT_ISSUE",
        "isArchived": False,
        "content": {"title": "Plan"},
        "fieldValueByName": None,
    },
]
PROJECT_BOARD = {
    "data": {
        "organization": {
            "projectV2": {
                "title": "Roadmap",
                "field": SINGLE_SELECT,
                "fields": {"nodes": [{"name": "Status", "dataType": "SINGLE_SELECT"}]},
                "items": {
                    "pageInfo": {"hasNextPage": False, "endCursor": "Mg"},
                    "nodes": BOARD_ITEMS,
                },
            }
        }
    }
}
SEARCH = recorded("github/search-issues.nock.json")[0]["response"]
MILESTONE = recorded("github/milestone.get.nock.json")[0]["response"]


class TestGitHubContract(ConnectorContract):
    connector = GitHubConnector
    config = {"type": "github", "url": GITHUB, "token": "ghp_secret456"}
    secrets = ["ghp_secret456"]
    bad_configs = [
        ({"type": "github", "url": "not a url"}, "url"),
        ({"type": "github", "per_page": 500}, "per_page"),
    ]
    cases = [
        MetricCase(
            "issue_count",
            github_get("/search/issues", SEARCH),
            query="sesame",
            value=SEARCH["total_count"],
        ),
        MetricCase(
            "milestone_percent",
            github_get("/repos/acme/app/milestones/1", MILESTONE),
            params={"repo": "acme/app", "milestone": 1},
            value=100
            * MILESTONE["closed_issues"]
            / (MILESTONE["open_issues"] + MILESTONE["closed_issues"]),
        ),
        MetricCase(
            "project_percent",
            github_post("/graphql", PROJECT_BOARD),
            params={"owner": "acme", "project": 1},
            value=50.0,
        ),
    ]
    upstream_error = MetricCase(
        "issue_count",
        github_get("/search/issues", {"message": "Validation Failed"}, status=422),
        query="bogus:qualifier",
    )
    malformed = MetricCase(
        "issue_count", github_get("/search/issues", {"items": []}), query="q"
    )
