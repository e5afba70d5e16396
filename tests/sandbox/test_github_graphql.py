"""The GitHub GraphQL upstream (Projects v2) and the boards it serves."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxServer, build_company
from app.sandbox import data as sandbox_data
from app.sandbox.data import Company, GitHubProject
from app.sandbox.github_graphql import GraphQLError, page_size
from connectors.base import ConfigurationError, FetchRequest
from connectors.github import GitHubConfig, GitHubConnector, ProjectParams
from connectors.github.projects import build_query

URL = "/github/graphql"


def query(owner_type: str = "organization", **values: Any) -> str:
    params = ProjectParams(owner="acme", owner_type=owner_type, project=1, **values)
    return build_query(params, first_page=True)


def ask(
    client: httpx.Client,
    text: str | None = None,
    **variables: Any,
) -> httpx.Response:
    body = {
        "query": text or query(),
        "variables": {"login": "acme", "number": 1, "field": "Status", **variables},
    }
    return client.post(URL, json=body)


def roadmap(company: Company) -> GitHubProject:
    project = company.project("acme", 1)
    assert project is not None
    return project


def expected_share(
    project: GitHubProject,
    done: set[str],
    *,
    archived: bool = False,
    kinds: set[str] | None = None,
) -> float | None:
    """The done share computed straight from the sandbox's data."""
    counted = [
        item
        for item in project.items
        if (archived or not item.archived) and (kinds is None or item.type in kinds)
    ]
    finished = [item for item in counted if item.status in done]
    return 100 * len(finished) / len(counted) if counted else None


# The data -------------------------------------------------------------------


def test_the_roadmap_board_mixes_items_statuses_and_drafts(company: Company) -> None:
    board = roadmap(company)
    kinds = Counter(item.type for item in board.items)
    statuses = Counter(item.status for item in board.items)
    issues = {(i.repo, i.number): i for i in company.github_issues}

    assert board.title == "Q4 Roadmap"
    assert 55 <= len(board.items) <= 65
    assert set(kinds) == {"ISSUE", "PULL_REQUEST", "DRAFT_ISSUE"}
    assert set(statuses) == {"Todo", "In Progress", "Done", "Shipped", None}
    assert statuses[None] >= 3
    assert sum(item.archived for item in board.items) == 3
    for item in board.items:
        if item.type != "DRAFT_ISSUE":
            issue = issues[(item.repo, item.number)]
            assert issue.is_pull_request == (item.type == "PULL_REQUEST")
            assert (item.status in ("Done", "Shipped")) == (issue.state == "closed")


def test_the_status_field_is_single_select_and_notes_is_text(company: Company) -> None:
    board = roadmap(company)
    status, notes = board.field("Status"), board.field("Notes")

    assert status is not None
    assert [name for _, name in status.options] == [
        "Todo",
        "In Progress",
        "Done",
        "Shipped",
    ]
    assert notes is not None
    assert notes.data_type == "TEXT"


def test_boards_do_not_change_the_other_data(monkeypatch: pytest.MonkeyPatch) -> None:
    with_boards = build_company(7)
    monkeypatch.setattr(sandbox_data, "_build_projects", lambda rng, issues: [])
    without_boards = build_company(7)

    assert with_boards.github_issues == without_boards.github_issues
    assert with_boards.jira_issues == without_boards.jira_issues
    assert without_boards.projects == []


def test_boards_repeat_for_a_seed_and_vary_between_seeds() -> None:
    assert build_company(7).projects == build_company(7).projects
    assert roadmap(build_company(7)).items != roadmap(build_company(8)).items


# The endpoint ----------------------------------------------------------------


def test_cursor_walk_visits_every_unarchived_item_once(
    client: httpx.Client, company: Company
) -> None:
    seen: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        body = ask(client, first=7, after=after).json()
        items = body["data"]["organization"]["projectV2"]["items"]
        seen += [node["id"] for node in items["nodes"]]
        if not items["pageInfo"]["hasNextPage"]:
            break
        after = items["pageInfo"]["endCursor"]
        cursors.append(after)

    live = [item.id for item in roadmap(company).items if not item.archived]
    assert seen == live
    assert len(cursors) == (len(live) - 1) // 7
    assert not any(cursor.isdigit() for cursor in cursors)


def test_archived_items_come_only_when_asked_for(
    client: httpx.Client, company: Company
) -> None:
    text = query(include_archived=True)

    nodes = ask(client, text, first=100).json()["data"]["organization"]["projectV2"][
        "items"
    ]["nodes"]

    assert len(nodes) == len(roadmap(company).items)
    assert sum(node["isArchived"] for node in nodes) == 3


def test_first_is_capped_at_100_and_required() -> None:
    assert page_size("", {"first": 500}) == 100
    assert page_size("items(first: 30)", {}) == 30
    with pytest.raises(GraphQLError, match="first"):
        page_size("items(after: $after)", {})


def test_first_page_answers_the_field_and_the_field_names(
    client: httpx.Client,
) -> None:
    project = ask(client, first=2).json()["data"]["organization"]["projectV2"]

    assert project["title"] == "Q4 Roadmap"
    assert project["field"]["__typename"] == "ProjectV2SingleSelectField"
    assert [o["name"] for o in project["field"]["options"]][2] == "Done"
    assert "Notes" in [node["name"] for node in project["fields"]["nodes"]]
    values = [node["fieldValueByName"] for node in project["items"]["nodes"]]
    assert all(value is None or set(value) == {"name", "optionId"} for value in values)


def test_unknown_field_is_null_without_an_error(client: httpx.Client) -> None:
    body = ask(client, first=5, field="Stage").json()

    project = body["data"]["organization"]["projectV2"]
    assert "errors" not in body
    assert project["field"] is None
    assert all(node["fieldValueByName"] is None for node in project["items"]["nodes"])


def test_a_text_field_value_is_empty_under_a_single_select_fragment(
    client: httpx.Client, company: Company
) -> None:
    nodes = ask(client, first=100, field="Notes").json()["data"]["organization"][
        "projectV2"
    ]["items"]["nodes"]

    with_notes = [n for n in nodes if n["fieldValueByName"] is not None]
    live = [i for i in roadmap(company).items if i.notes and not i.archived]
    assert len(with_notes) == len(live)
    assert all(node["fieldValueByName"] == {} for node in with_notes)


@pytest.mark.parametrize(
    ("owner_type", "login", "message"),
    [
        (
            "organization",
            "nope",
            "Could not resolve to an Organization with the login of 'nope'.",
        ),
        ("user", "acme", "Could not resolve to a User with the login of 'acme'."),
    ],
)
def test_unknown_owner_is_not_found_with_a_null_owner(
    client: httpx.Client, owner_type: str, login: str, message: str
) -> None:
    response = ask(client, query(owner_type), first=5, login=login)
    body = response.json()

    assert response.status_code == 200
    assert body["data"] == {owner_type: None}
    [error] = body["errors"]
    assert error["type"] == "NOT_FOUND"
    assert error["path"] == [owner_type]
    assert error["message"] == message
    assert error["locations"] == [{"line": 2, "column": 3}]


def test_unknown_project_is_not_found_with_a_null_project(
    client: httpx.Client,
) -> None:
    body = ask(client, first=5, number=9).json()

    assert body["data"] == {"organization": {"projectV2": None}}
    [error] = body["errors"]
    assert error["type"] == "NOT_FOUND"
    assert error["path"] == ["organization", "projectV2"]
    assert error["message"] == "Could not resolve to a ProjectV2 with the number 9."


def test_a_bad_cursor_is_refused_like_github(client: httpx.Client) -> None:
    body = ask(client, first=5, after="not-a-cursor").json()

    assert body["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"
    assert "not-a-cursor" in body["errors"][0]["message"]


def test_other_queries_and_bodies_are_refused(client: httpx.Client) -> None:
    viewer = client.post(URL, json={"query": "{ viewer { login } }"}).json()
    empty = client.post(URL, json={"variables": {}}).json()
    broken = client.post(URL, content=b"{not json", headers={"content-type": "x"})

    assert "only Projects (v2) queries" in viewer["errors"][0]["message"]
    assert "query attribute must be specified" in empty["errors"][0]["message"]
    assert broken.status_code == 400


def test_answers_count_against_the_graphql_rate_limit(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    first = ask(client, first=1)
    second = ask(client, first=1)

    assert first.headers["x-ratelimit-resource"] == "graphql"
    assert int(second.headers["x-ratelimit-used"]) == 2
    assert sandbox.rate_limits.peek("core").used == 0


def test_a_used_up_limit_is_reported_in_the_body(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.rate_limits.enforce = True
    for _ in range(sandbox.rate_limits.peek("graphql").limit):
        sandbox.rate_limits.consume("graphql")

    response = ask(client, first=1)

    assert response.status_code == 200
    assert response.json()["errors"][0]["type"] == "RATE_LIMITED"
    assert response.headers["x-ratelimit-remaining"] == "0"


# The connector against the sandbox ----------------------------------------------


class NoSleep:
    """Fails the test if the connector ever waits."""

    async def __call__(self, seconds: float) -> None:
        raise AssertionError(f"the connector slept {seconds} s")


@pytest.fixture
async def connector(
    sandbox: SandboxServer,
) -> AsyncIterator[Callable[..., GitHubConnector]]:
    made: list[GitHubConnector] = []

    def build(**settings: Any) -> GitHubConnector:
        config = GitHubConfig(type="github", url=sandbox.github_url, **settings)
        made.append(GitHubConnector("sandbox", config, sleep=NoSleep()))
        return made[-1]

    yield build
    for each in made:
        await each.aclose()


@pytest.mark.parametrize(
    ("values", "done", "archived", "kinds"),
    [
        ({}, {"Done"}, False, None),
        ({"done": ["Done", "Shipped"]}, {"Done", "Shipped"}, False, None),
        ({"include_archived": True}, {"Done"}, True, None),
        ({"item_types": ["PULL_REQUEST"]}, {"Done"}, False, {"PULL_REQUEST"}),
    ],
)
async def test_connector_reads_the_same_share_as_the_data_holds(
    connector: Callable[..., GitHubConnector],
    sandbox: SandboxServer,
    values: dict[str, Any],
    done: set[str],
    archived: bool,
    kinds: set[str] | None,
) -> None:
    params = ProjectParams(owner="acme", project=1, **values)
    board = roadmap(sandbox.company)
    served = [item for item in board.items if archived or not item.archived]

    reading = await connector(per_page=20).fetch(
        FetchRequest(metric="project_percent", query=None, params=params)
    )

    assert reading.value == pytest.approx(
        expected_share(board, done, archived=archived, kinds=kinds)
    )
    assert reading.evidence.requests == sandbox.log.count(URL)
    assert reading.evidence.requests == math.ceil(len(served) / 20)


async def test_connector_reads_a_user_board(
    connector: Callable[..., GitHubConnector], sandbox: SandboxServer
) -> None:
    params = ProjectParams(owner="dev-amber", owner_type="user", project=1)
    board = sandbox.company.project("dev-amber", 1, "user")
    assert board is not None

    reading = await connector().fetch(
        FetchRequest(metric="project_percent", query=None, params=params)
    )

    assert reading.value == pytest.approx(expected_share(board, {"Done"}))
    assert reading.evidence.items[0].startswith("draft: ")


async def test_connector_explains_a_missing_project_from_the_sandbox(
    connector: Callable[..., GitHubConnector],
) -> None:
    params = ProjectParams(owner="acme", project=9)

    with pytest.raises(ConfigurationError, match="number 9"):
        await connector().fetch(
            FetchRequest(metric="project_percent", query=None, params=params)
        )
