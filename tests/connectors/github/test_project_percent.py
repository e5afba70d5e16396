"""project_percent: a Projects (v2) board's done share, read over GraphQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.base import (
    EVIDENCE_ITEM_CAP,
    ConfigurationError,
    ConnectorError,
    FetchRequest,
    RateLimitedError,
    TransientError,
)
from connectors.github import GitHubConnector, ProjectParams

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github"
GRAPHQL = "https://api.github.com/graphql"
RECORDED_OWNER = "github-project-fixtures"
DROPPED_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})

MakeConnector = Callable[..., GitHubConnector]
Page = tuple[dict[str, str], dict[str, Any]]
"""Response headers and the GraphQL body of one page."""

OPTIONS = {"Todo": "f1", "In Progress": "f2", "Done": "f3", "Shipped": "f4"}
STATUS_FIELD = {
    "__typename": "ProjectV2SingleSelectField",
    "name": "Status",
    "dataType": "SINGLE_SELECT",
    "options": [{"id": oid, "name": name} for name, oid in OPTIONS.items()],
}
FIELD_LIST = [
    {"name": "Title", "dataType": "TITLE"},
    {"name": "Status", "dataType": "SINGLE_SELECT"},
    {"name": "Notes", "dataType": "TEXT"},
]


def project_percent(**params: Any) -> FetchRequest:
    params = {"owner": "acme", "project": 1, **params}
    return FetchRequest(
        metric="project_percent", query=None, params=ProjectParams(**params)
    )


# Recorded board -----------------------------------------------------------


def recorded() -> list[dict[str, Any]]:
    text = (FIXTURES / "projectv2.items.paginated.json").read_text(encoding="utf-8")
    exchanges: list[dict[str, Any]] = json.loads(text)
    return exchanges


def recorded_project(exchange: dict[str, Any]) -> dict[str, Any]:
    project: dict[str, Any] = exchange["response"]["data"]["data"][
        "userOrOrganization"
    ]["projectV2"]
    return project


def recorded_field(name: str) -> dict[str, Any]:
    fields = recorded_project(recorded()[0])["fields"]["nodes"]
    field: dict[str, Any] = next(f for f in fields if f["name"] == name)
    return field


def recorded_value(node: dict[str, Any], field_id: str) -> dict[str, Any] | None:
    """The recorded value of one field on one item, found by the field's id."""
    return next(
        (
            value
            for value in node["fieldValues"]["nodes"]
            if value.get("field", {}).get("id") == field_id
        ),
        None,
    )


def as_queried(node: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    """A recorded item in the shape of the connector's query (see the README)."""
    options = {option["id"]: option["name"] for option in field.get("options", [])}
    value = recorded_value(node, field["id"])
    by_name = None
    if value is not None and "optionId" in value:
        by_name = {"name": options[value["optionId"]], "optionId": value["optionId"]}
    content = dict(node["content"])
    if "repository" in content:
        owner = content["url"].split("/")[3]
        content["repository"] = {
            **content["repository"],
            "nameWithOwner": f"{owner}/{content['repository']['name']}",
        }
    return {**node, "content": content, "fieldValueByName": by_name}


def recorded_pages(field_name: str) -> dict[str | None, Page]:
    """Each recorded answer, by the cursor it answered, as the connector's shape."""
    field = recorded_field(field_name)
    typename = {
        "SINGLE_SELECT": "ProjectV2SingleSelectField",
        "ITERATION": "ProjectV2IterationField",
    }.get(field["dataType"], "ProjectV2Field")
    pages: dict[str | None, Page] = {}
    for exchange in recorded():
        project = recorded_project(exchange)
        items = project["items"]
        page: dict[str, Any] = {
            "items": {
                "pageInfo": items["pageInfo"],
                "nodes": [as_queried(node, field) for node in items["nodes"]],
            }
        }
        if "fields" in project:
            page["title"] = project["title"]
            page["field"] = {"__typename": typename, **field}
            page["fields"] = project["fields"]
        headers = {
            name: str(value)
            for name, value in exchange["response"]["headers"].items()
            if name not in DROPPED_HEADERS
        }
        body = {"data": {"organization": {"projectV2": page}}}
        pages[exchange["variables"].get("after")] = (headers, body)
    return pages


def recorded_share(field_name: str, done: list[str]) -> tuple[int, int]:
    """(done, all) items of the recording, counted straight from its field values."""
    field = recorded_field(field_name)
    options = {option["id"]: option["name"] for option in field.get("options", [])}
    nodes = [n for e in recorded() for n in recorded_project(e)["items"]["nodes"]]
    finished = 0
    for node in nodes:
        value = recorded_value(node, field["id"])
        finished += value is not None and options.get(value["optionId"]) in done
    return finished, len(nodes)


# Built boards ---------------------------------------------------------------


def item(
    number: int,
    status: str | None,
    *,
    kind: str = "ISSUE",
    archived: bool = False,
    repo: str = "acme/app",
) -> dict[str, Any]:
    """One item node as GitHub answers the connector's query."""
    if kind == "DRAFT_ISSUE":
        content: dict[str, Any] | None = {"title": f"Draft {number}"}
    elif kind == "REDACTED":
        content = None
    else:
        content = {"number": number, "repository": {"nameWithOwner": repo}}
    value = {"name": status, "optionId": OPTIONS[status]} if status else None
    return {
        "type": kind,
        "isArchived": archived,
        "content": content,
        "fieldValueByName": value,
    }


def board(
    nodes: list[dict[str, Any]],
    *,
    cursor: str | None = None,
    more: bool = False,
    first: bool = True,
    field: dict[str, Any] | None = STATUS_FIELD,
    owner: str = "organization",
) -> dict[str, Any]:
    """A GraphQL answer with one page of items (and the field on the first)."""
    project: dict[str, Any] = {
        "items": {
            "pageInfo": {"hasNextPage": more, "endCursor": cursor},
            "nodes": nodes,
        }
    }
    if first:
        project = {
            "title": "Roadmap",
            "field": field,
            "fields": {"nodes": FIELD_LIST},
            **project,
        }
    return {"data": {owner: {"projectV2": project}}}


def serve(
    router: respx.MockRouter,
    pages: dict[str | None, Page | dict[str, Any]],
    url: str = GRAPHQL,
) -> respx.Route:
    """Answer each POST with the page its `after` variable names."""

    def answer(request: httpx.Request) -> httpx.Response:
        after = json.loads(request.content)["variables"]["after"]
        page = pages[after]
        headers, body = page if isinstance(page, tuple) else ({}, page)
        return httpx.Response(200, json=body, headers=headers)

    return router.post(url).mock(side_effect=answer)


def sent(route: respx.Route) -> list[dict[str, Any]]:
    """The JSON payloads the connector posted, in order."""
    return [json.loads(call.request.content) for call in route.calls]


# The recorded board ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "done"),
    [("Single select", ["One"]), ("Status", ["Done"]), ("Single select", ["Two"])],
)
async def test_recorded_board_gives_the_share_counted_from_the_recording(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    token: str,
    field: str,
    done: list[str],
) -> None:
    route = serve(router, dict(recorded_pages(field)))
    finished, total = recorded_share(field, done)

    reading = await make_connector(token=token).fetch(
        project_percent(owner=RECORDED_OWNER, project=2, field=field, done=done)
    )

    assert reading.value == pytest.approx(100 * finished / total)
    assert reading.evidence.items_total == total == 201
    assert reading.evidence.summary["done"] == finished
    assert reading.evidence.requests == route.call_count == 3
    assert len(reading.evidence.items) == EVIDENCE_ITEM_CAP


async def test_recorded_cursors_are_followed_once_each_in_order(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = serve(router, dict(recorded_pages("Status")))

    await make_connector(token=token).fetch(
        project_percent(owner=RECORDED_OWNER, project=2)
    )

    payloads = sent(route)
    assert [p["variables"]["after"] for p in payloads] == [None, "MTAw", "MjAw"]
    assert all(p["variables"]["login"] == RECORDED_OWNER for p in payloads)
    assert all(p["variables"]["first"] == 100 for p in payloads)
    assert "field(name: $field)" in payloads[0]["query"]
    assert "field(name: $field)" not in payloads[1]["query"]
    assert "archivedStates" not in payloads[0]["query"]


async def test_recorded_items_show_as_keys_with_their_status(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    serve(router, dict(recorded_pages("Single select")))

    reading = await make_connector(token=token).fetch(
        project_percent(
            owner=RECORDED_OWNER, project=2, field="Single select", done=["One"]
        )
    )

    assert reading.evidence.items[0] == f"{RECORDED_OWNER}/test-repository#1 = One"
    assert reading.evidence.request == f"POST {GRAPHQL}"
    assert reading.evidence.summary["field"] == "Single select"
    assert (
        reading.evidence.summary["project"] == recorded_project(recorded()[0])["title"]
    )


# Built boards ---------------------------------------------------------------


async def test_two_pages_count_done_options_and_no_status_as_not_done(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    first = [item(1, "Done"), item(2, "Shipped", kind="PULL_REQUEST"), item(3, None)]
    second = [item(4, "Todo"), item(5, "Done", kind="DRAFT_ISSUE")]
    route = serve(
        router,
        {
            None: board(first, cursor="Y3Vyc29yMQ", more=True),
            "Y3Vyc29yMQ": board(second, cursor="Y3Vyc29yMg", first=False),
        },
    )

    reading = await make_connector(token=token).fetch(
        project_percent(done=["Done", "Shipped"])
    )

    assert reading.value == pytest.approx(100 * 3 / 5)
    assert reading.evidence.items == [
        "acme/app#1 = Done",
        "acme/app#2 (PR) = Shipped",
        "acme/app#3 = (no status)",
        "acme/app#4 = Todo",
        "draft: Draft 5 = Done",
    ]
    assert reading.evidence.summary["items"] == reading.evidence.items_total == 5
    assert reading.evidence.summary["done_options"] == ["Done", "Shipped"]
    assert reading.evidence.requests == route.call_count == 2


async def test_archived_items_are_left_out_unless_asked_for(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    nodes = [item(1, "Done", archived=True), item(2, "Done"), item(3, "Todo")]
    route = serve(router, {None: board(nodes)})
    connector = make_connector(token=token)

    without = await connector.fetch(project_percent())
    with_archived = await connector.fetch(project_percent(include_archived=True))

    assert without.value == pytest.approx(50.0)
    assert without.evidence.summary["skipped_archived"] == 1
    assert with_archived.value == pytest.approx(100 * 2 / 3)
    queries = [payload["query"] for payload in sent(route)]
    assert "archivedStates" not in queries[0]
    assert "archivedStates: [ARCHIVED, NOT_ARCHIVED]" in queries[1]


async def test_item_types_limit_what_is_counted(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    nodes = [
        item(1, "Done"),
        item(2, "Todo", kind="PULL_REQUEST"),
        item(3, "Done", kind="DRAFT_ISSUE"),
        item(4, "Done", kind="REDACTED"),
    ]
    serve(router, {None: board(nodes)})
    connector = make_connector(token=token)

    prs_and_issues = await connector.fetch(
        project_percent(item_types=["issue", "pull_request"])
    )
    everything = await connector.fetch(project_percent())

    assert prs_and_issues.value == pytest.approx(50.0)
    assert prs_and_issues.evidence.summary["skipped_type"] == 2
    assert everything.value == pytest.approx(75.0)
    assert "(redacted item) = Done" in everything.evidence.items


async def test_a_value_without_option_id_is_matched_by_exact_name(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    nodes = [item(1, "Done"), item(2, "Done")]
    nodes[1]["fieldValueByName"] = {"name": "Done"}
    serve(router, {None: board(nodes)})

    reading = await make_connector(token=token).fetch(project_percent())

    assert reading.value == pytest.approx(100.0)


async def test_a_board_with_no_items_has_no_value(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    serve(router, {None: board([item(1, "Done", archived=True)])})

    reading = await make_connector(token=token).fetch(project_percent())

    assert reading.value is None
    assert reading.evidence.items_total == 0
    assert "no items" in reading.notes[0]


async def test_a_user_board_is_asked_for_under_user(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = serve(router, {None: board([item(1, "Done")], owner="user")})

    reading = await make_connector(token=token).fetch(
        project_percent(owner="dev-amber", owner_type="user")
    )

    assert reading.value == pytest.approx(100.0)
    assert "user(login: $login)" in sent(route)[0]["query"]


# Wrong field, options or project ---------------------------------------------


async def test_missing_field_lists_the_projects_fields(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    serve(router, {None: board([item(1, "Done")], field=None)})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(token=token).fetch(project_percent(field="Stage"))

    assert "no field named 'Stage'" in caught.value.message
    assert "'Title', 'Status', 'Notes'" in caught.value.message


async def test_a_field_that_is_not_single_select_is_refused(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    text_field = {"__typename": "ProjectV2Field", "name": "Notes", "dataType": "TEXT"}
    serve(router, {None: board([item(1, None)], field=text_field)})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(token=token).fetch(project_percent(field="Notes"))

    assert "is a TEXT field, not a single-select one" in caught.value.message
    assert "'Status'" in caught.value.message


async def test_unknown_done_option_lists_the_options_and_the_near_miss(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = serve(router, {None: board([item(1, "Done")], more=True, cursor="x")})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(token=token).fetch(project_percent(done=["Done", "done"]))

    message = caught.value.message
    assert "'done' is not an option of field 'Status'" in message
    assert "'Todo', 'In Progress', 'Done', 'Shipped'" in message
    assert "did you mean 'Done'?" in message
    assert route.call_count == 1


async def test_unknown_project_is_a_configuration_error_with_githubs_words(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    body = {
        "data": {"organization": {"projectV2": None}},
        "errors": [
            {
                "type": "NOT_FOUND",
                "path": ["organization", "projectV2"],
                "locations": [{"line": 3, "column": 5}],
                "message": "Could not resolve to a ProjectV2 with the number 9.",
            }
        ],
    }
    route = serve(router, {None: body})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(token=token).fetch(project_percent(project=9))

    assert "Could not resolve to a ProjectV2 with the number 9." in str(caught.value)
    assert "owner_type" in caught.value.message
    assert route.call_count == 1


async def test_missing_scope_is_a_configuration_error_naming_read_project(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    error = {
        "type": "INSUFFICIENT_SCOPES",
        "message": "Your token has not been granted the required scopes to "
        "execute this query.",
    }
    serve(router, {None: {"errors": [error]}})

    with pytest.raises(ConfigurationError, match="read:project"):
        await make_connector(token=token).fetch(project_percent())


async def test_a_query_the_server_rejects_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    error = {
        "message": "Field 'items' doesn't accept argument 'archivedStates'",
        "extensions": {"code": "argumentNotAccepted", "argumentName": "archivedStates"},
        "locations": [{"line": 4, "column": 7}],
    }
    serve(router, {None: {"errors": [error]}})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(token=token).fetch(project_percent(include_archived=True))

    assert "doesn't accept argument 'archivedStates'" in caught.value.message
    assert "include_archived" in caught.value.message


# Limits, failures and paging guards -------------------------------------------


async def test_rate_limited_waits_until_the_reset_header(
    make_connector: MakeConnector, router: respx.MockRouter, token: str, fake_sleep
) -> None:
    reset = int(time.time()) + 120
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    error = {
        "type": "RATE_LIMITED",
        "message": "API rate limit exceeded for user ID 1.",
    }
    route = serve(router, {None: (headers, {"errors": [error]})})

    with pytest.raises(RateLimitedError) as caught:
        await make_connector(token=token).fetch(project_percent())

    assert 100 <= caught.value.retry_after <= 121
    assert "rate limit" in caught.value.message
    assert route.call_count == 1
    assert fake_sleep.delays == []


async def test_rate_limited_without_headers_asks_for_a_minute(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    error = {"type": "RATE_LIMITED", "message": "API rate limit exceeded."}
    serve(router, {None: {"errors": [error]}})

    with pytest.raises(RateLimitedError) as caught:
        await make_connector(token=token).fetch(project_percent())

    assert caught.value.retry_after == 60.0


async def test_other_graphql_errors_are_transient(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    error = {"message": "Something went wrong while executing your query."}
    serve(router, {None: {"data": None, "errors": [error]}})

    with pytest.raises(TransientError, match="Something went wrong"):
        await make_connector(token=token).fetch(project_percent())


async def test_server_errors_are_retried_then_answered(
    make_connector: MakeConnector, router: respx.MockRouter, token: str, fake_sleep
) -> None:
    route = router.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(502, json={"message": "Server Error"}),
            httpx.Response(200, json=board([item(1, "Done"), item(2, None)])),
        ]
    )
    connector = make_connector(token=token)

    reading = await connector.fetch(project_percent())

    assert reading.value == pytest.approx(50.0)
    assert route.call_count == 2
    assert connector.retry_count == len(fake_sleep.delays) == 1


async def test_bad_credentials_are_a_configuration_error_not_retried(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = router.post(GRAPHQL).respond(401, json={"message": "Bad credentials"})

    with pytest.raises(ConfigurationError, match="Bad credentials") as caught:
        await make_connector(token=token).fetch(project_percent())

    assert caught.value.status_code == 401
    assert route.call_count == 1


async def test_an_answer_without_the_project_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    serve(router, {None: {"data": {"organization": None}}})

    with pytest.raises(TransientError, match="no usable 'organization'"):
        await make_connector(token=token).fetch(project_percent())


async def test_a_repeated_cursor_stops_the_paging(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = serve(
        router,
        {
            None: board([item(1, "Done")], cursor="same", more=True),
            "same": board([item(2, "Done")], cursor="same", more=True, first=False),
        },
    )

    with pytest.raises(TransientError, match="looped"):
        await make_connector(token=token).fetch(project_percent())

    assert route.call_count == 2


async def test_more_pages_with_no_cursor_stops_the_paging(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    serve(router, {None: board([item(1, "Done")], cursor=None, more=True)})

    with pytest.raises(TransientError, match="endCursor None"):
        await make_connector(token=token).fetch(project_percent())


async def test_max_pages_caps_a_long_board(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = serve(router, dict(recorded_pages("Status")))

    with pytest.raises(ConfigurationError, match="max_pages") as caught:
        await make_connector(token=token, max_pages=2).fetch(
            project_percent(owner=RECORDED_OWNER, project=2)
        )

    assert "more than 200 items" in caught.value.message
    assert route.call_count == 2


async def test_per_page_sets_first(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    route = serve(router, {None: board([item(1, "Done")])})

    await make_connector(token=token, per_page=25).fetch(project_percent())

    assert sent(route)[0]["variables"]["first"] == 25


# Where to send, and the token ----------------------------------------------------


@pytest.mark.parametrize(
    ("rest_url", "graphql_url"),
    [
        ("https://ghe.example.test/api/v3", "https://ghe.example.test/api/graphql"),
        ("https://ghe.example.test/api/v3/", "https://ghe.example.test/api/graphql"),
        ("https://api.github.com", "https://api.github.com/graphql"),
    ],
)
async def test_github_and_enterprise_graphql_urls_come_from_the_rest_url(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    token: str,
    rest_url: str,
    graphql_url: str,
) -> None:
    route = serve(router, {None: board([item(1, "Done")])}, url=graphql_url)

    reading = await make_connector(url=rest_url, token=token).fetch(project_percent())

    assert reading.evidence.request == f"POST {graphql_url}"
    assert route.call_count == 1


async def test_an_open_server_like_the_sandbox_is_asked_without_a_token(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    url = "http://127.0.0.1:8930/github/graphql"
    route = serve(router, {None: board([item(1, "Done")])}, url=url)

    reading = await make_connector(url="http://127.0.0.1:8930/github").fetch(
        project_percent()
    )

    assert reading.value == pytest.approx(100.0)
    assert "authorization" not in route.calls[0].request.headers


@pytest.mark.parametrize(
    "rest_url", ["https://api.github.com", "https://ghe.example.test/api/v3"]
)
async def test_real_github_needs_a_token_with_read_project(
    make_connector: MakeConnector, router: respx.MockRouter, rest_url: str
) -> None:
    route = router.post(url__regex=r".*").respond(200, json={})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(url=rest_url).fetch(project_percent())

    assert "read:project" in caught.value.message
    assert "token" in caught.value.message
    assert route.call_count == 0


async def test_the_token_is_sent_but_never_shown(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    pages = {None: board([item(1, "Done")])}
    route = serve(router, pages)
    connector = make_connector(token=token)

    reading = await connector.fetch(project_percent())
    pages[None] = {"errors": [{"type": "NOT_FOUND", "message": "Could not resolve."}]}
    with pytest.raises(ConnectorError) as not_found:
        await connector.fetch(project_percent())
    pages[None] = board([item(1, "Done")], field=None)
    with pytest.raises(ConnectorError) as no_field:
        await connector.fetch(project_percent(field="Stage"))

    assert route.calls[0].request.headers["authorization"] == f"Bearer {token}"
    assert token not in reading.evidence.model_dump_json()
    assert token not in str(not_found.value)
    assert token not in str(no_field.value)
