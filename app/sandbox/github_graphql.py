"""The sandbox's GitHub GraphQL API: `POST /github/graphql`, Projects (v2) only.

This is no GraphQL engine. It answers the query shape `project_percent`
sends: `organization(login:)` or `user(login:)` → `projectV2(number:)` →
optionally `field(name:)` and `fields(first:)`, and `items(first:, after:)`
with each item's type, archived flag, content and `fieldValueByName`. The
owner kind is read from the query text, everything else from the variables
(`login`, `number`, `field`, `first`, `after` or `cursor`).

Answers have GraphQL's shape: HTTP 200 with `data`, and for an unknown owner
or project `errors` of type NOT_FOUND next to `data` holding nulls, as GitHub
does. An unknown field name gives `field: null` and no error. Like GitHub,
items are paged at most 100 at a time with opaque cursors, and archived items
are left out unless `archivedStates` asks for them. Every answer counts
against the `graphql` rate-limit resource and carries its headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.sandbox.data import (
    GitHubProject,
    GitHubProjectField,
    GitHubProjectItem,
    OwnerType,
)
from app.sandbox.github_api import DOCS_URL, PREFIX
from app.sandbox.state import sandbox_state

MAX_FIRST = 100
OWNER_RE = re.compile(r"\b(organization|user)\s*\(\s*login\s*:")
FIRST_RE = re.compile(r"\bitems\s*\([^)]*\bfirst\s*:\s*(\d+)")
ARCHIVED_RE = re.compile(r"\barchivedStates\s*:\s*\[([^\]]*)\]")
OWNER_NAMES = {"organization": "an Organization", "user": "a User"}


class GraphQLError(Exception):
    """A query the sandbox answers with `errors` and no `data`."""

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.body: dict[str, Any] = {"message": message}
        if error_type is not None:
            self.body["type"] = error_type


# Paging ------------------------------------------------------------------


def cursor_for(offset: int) -> str:
    """An opaque cursor for the position after `offset` items (GitHub style)."""
    return base64.b64encode(str(offset).encode()).decode()


def offset_of(cursor: Any) -> int:
    """Where a cursor points; 0 for none.

    Raises:
        GraphQLError: The cursor was not made by `cursor_for`.
    """
    if cursor is None:
        return 0
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    if not text.isdigit():
        raise GraphQLError(
            f"`{cursor}` does not appear to be a valid cursor.",
            "INVALID_CURSOR_ARGUMENTS",
        )
    return int(text)


def page_size(query: str, variables: dict[str, Any]) -> int:
    """`first` from the variables or the query text, capped at 100.

    Raises:
        GraphQLError: Neither gives one, which GitHub refuses too.
    """
    value = variables.get("first")
    if value is None:
        match = FIRST_RE.search(query)
        value = match.group(1) if match else None
    if value is None:
        raise GraphQLError(
            "You must provide a `first` or `last` value to properly paginate "
            "the `items` connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    try:
        return min(max(int(value), 1), MAX_FIRST)
    except (TypeError, ValueError):
        raise GraphQLError(
            f"Argument 'first' has an invalid value ({value})."
        ) from None


def archived_states(query: str) -> set[str]:
    """The archived states asked for; GitHub's default is NOT_ARCHIVED only."""
    match = ARCHIVED_RE.search(query)
    if match is None:
        return {"NOT_ARCHIVED"}
    return {state.strip() for state in match.group(1).split(",") if state.strip()}


# Shapes ------------------------------------------------------------------


def field_json(field: GitHubProjectField) -> dict[str, Any]:
    """A field as `field(name:)` and `fields` show it."""
    if field.data_type == "SINGLE_SELECT":
        return {
            "__typename": "ProjectV2SingleSelectField",
            "id": field.id,
            "name": field.name,
            "dataType": field.data_type,
            "options": [{"id": oid, "name": name} for oid, name in field.options],
        }
    return {
        "__typename": "ProjectV2Field",
        "id": field.id,
        "name": field.name,
        "dataType": field.data_type,
    }


def content_json(item: GitHubProjectItem) -> dict[str, Any]:
    """The item's issue, pull request or draft issue."""
    if item.type == "DRAFT_ISSUE":
        return {"title": item.title}
    return {
        "number": item.number,
        "title": item.title,
        "repository": {"nameWithOwner": item.repo},
    }


def value_json(
    field: GitHubProjectField | None, item: GitHubProjectItem, query: str
) -> dict[str, Any] | None:
    """`fieldValueByName`: null when unset; `{}` when the query's fragments
    do not cover the value's type, as GraphQL answers an unmatched fragment."""
    if field is None:
        return None
    if field.data_type == "SINGLE_SELECT":
        if item.status is None:
            return None
        return {"name": item.status, "optionId": field.option_id(item.status)}
    text = {"TITLE": item.title, "TEXT": item.notes}.get(field.data_type)
    if text is None:
        return None
    return {"text": text} if "ProjectV2ItemFieldTextValue" in query else {}


def item_json(
    item: GitHubProjectItem, field: GitHubProjectField | None, query: str
) -> dict[str, Any]:
    """One node of `items`."""
    return {
        "id": item.id,
        "type": item.type,
        "isArchived": item.archived,
        "content": content_json(item),
        "fieldValueByName": value_json(field, item, query),
    }


def project_json(
    project: GitHubProject, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """`projectV2`: its items page, plus the field and field list when asked."""
    field = project.field(str(variables.get("field", "")))
    states = archived_states(query)
    items = [
        item
        for item in project.items
        if ("ARCHIVED" if item.archived else "NOT_ARCHIVED") in states
    ]
    start = offset_of(variables.get("after", variables.get("cursor")))
    end = min(start + page_size(query, variables), len(items))
    page = items[start:end]

    body: dict[str, Any] = {"title": project.title, "number": project.number}
    if re.search(r"\bfield\s*\(", query):
        body["field"] = field_json(field) if field is not None else None
    if re.search(r"\bfields\s*\(", query):
        body["fields"] = {"nodes": [field_json(f) for f in project.fields]}
    body["items"] = {
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": end < len(items),
            "endCursor": cursor_for(end) if page else None,
        },
        "nodes": [item_json(item, field, query) for item in page],
    }
    return body


# The route ---------------------------------------------------------------


def location(query: str, at: int) -> dict[str, int]:
    """GraphQL's 1-based line and column of a position in the query text."""
    line = query.count("\n", 0, at) + 1
    column = at - (query.rfind("\n", 0, at) + 1) + 1
    return {"line": line, "column": column}


def not_found(message: str, path: list[str], query: str, at: int) -> dict[str, Any]:
    """A NOT_FOUND error as GitHub writes it."""
    return {
        "type": "NOT_FOUND",
        "path": path,
        "locations": [location(query, at)],
        "message": message,
    }


def answer(request: Request, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The `data` (and `errors`) for one project query.

    Raises:
        GraphQLError: The query is not one the sandbox understands.
    """
    match = OWNER_RE.search(query)
    if match is None:
        raise GraphQLError(
            "The okrsync sandbox answers only Projects (v2) queries on "
            "organization(login:) or user(login:)."
        )
    kind: OwnerType = "organization" if match.group(1) == "organization" else "user"
    login = str(variables.get("login", ""))
    company = sandbox_state(request).company

    known = {name.lower() for name in company.github_logins(kind)}
    if login.lower() not in known:
        message = (
            f"Could not resolve to {OWNER_NAMES[kind]} with the login of '{login}'."
        )
        error = not_found(message, [kind], query, match.start())
        return {"data": {kind: None}, "errors": [error]}

    number = variables.get("number")
    project = company.project(login, number, kind) if isinstance(number, int) else None
    if project is None:
        at = query.find("projectV2")
        message = f"Could not resolve to a ProjectV2 with the number {number}."
        error = not_found(message, [kind, "projectV2"], query, max(at, 0))
        return {"data": {kind: {"projectV2": None}}, "errors": [error]}

    try:
        body = project_json(project, query, variables)
    except GraphQLError as error:
        located = {**error.body, "path": [kind, "projectV2", "items"]}
        return {"data": {kind: {"projectV2": None}}, "errors": [located]}
    return {"data": {kind: {"projectV2": body}}}


async def graphql(request: Request) -> Response:
    """`POST /graphql`."""
    limits = sandbox_state(request).rate_limits
    window = limits.peek("graphql")
    if limits.enforce and window.remaining == 0:
        # GitHub's GraphQL API reports a used-up limit in the body, with 200.
        error = {
            "type": "RATE_LIMITED",
            "message": "API rate limit exceeded for user ID 1.",
        }
        return JSONResponse({"errors": [error]}, headers=window.headers())
    headers = {
        "x-github-media-type": "github.v4; format=json",
        **limits.consume("graphql").headers(),
    }

    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        body = {"message": "Problems parsing JSON", "documentation_url": DOCS_URL}
        return JSONResponse(body, status_code=400, headers=headers)
    query = payload.get("query") if isinstance(payload, dict) else None
    variables = payload.get("variables") if isinstance(payload, dict) else None
    try:
        if not isinstance(query, str) or not query.strip():
            raise GraphQLError(
                "A query attribute must be specified and must be a string."
            )
        result = answer(
            request, query, variables if isinstance(variables, dict) else {}
        )
    except GraphQLError as error:
        result = {"errors": [error.body]}
    return JSONResponse(result, headers=headers)


def github_graphql_router() -> APIRouter:
    """GitHub's GraphQL endpoint under `/github`."""
    router = APIRouter(prefix=PREFIX)
    router.add_api_route("/graphql", graphql, methods=["POST"])
    return router
