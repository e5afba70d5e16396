"""GitHub Projects (v2) over GraphQL: the query, its answers and its errors.

`project_percent` reads every item of a project board, a page at a time, and
counts those whose single-select status field holds one of the "done" options.
The first page also asks for the field itself (its type and options) and the
names of all the project's fields, so a wrong field or option name is caught
before anything is counted and the error can list what there is.

GraphQL answers HTTP 200 even when it fails; the `errors` list says why:

===================  ==================  =====================================
error `type`         error raised        why
===================  ==================  =====================================
NOT_FOUND            ConfigurationError  wrong owner, owner_type or number,
                                         or a project the token cannot see
INSUFFICIENT_SCOPES  ConfigurationError  the token lacks `read:project`
FORBIDDEN            ConfigurationError  the token may not read the project
RATE_LIMITED         RateLimitedError    wait until `x-ratelimit-reset`
no type, no data     ConfigurationError  the server rejected the query text
                                         (an older Enterprise Server schema)
anything else        TransientError      worth another try later
===================  ==================  =====================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.base import (
    ConfigurationError,
    ConnectorError,
    RateLimitedError,
    TransientError,
)
from connectors.github.config import ProjectParams
from connectors.http import retry_after_seconds

NAME_CAP = 30
"""How many field or option names an error message lists."""

CONFIG_ERROR_TYPES = frozenset({"NOT_FOUND", "INSUFFICIENT_SCOPES", "FORBIDDEN"})

ITEM_SELECTION = """
        pageInfo { hasNextPage endCursor }
        nodes {
          type
          isArchived
          content {
            ... on Issue { number repository { nameWithOwner } }
            ... on PullRequest { number repository { nameWithOwner } }
            ... on DraftIssue { title }
          }
          fieldValueByName(name: $field) {
            ... on ProjectV2ItemFieldSingleSelectValue { name optionId }
          }
        }"""

FIELD_SELECTION = """
      title
      field(name: $field) {
        __typename
        ... on ProjectV2FieldCommon { name dataType }
        ... on ProjectV2SingleSelectField { options { id name } }
      }
      fields(first: 100) {
        nodes { ... on ProjectV2FieldCommon { name dataType } }
      }"""


def graphql_url(rest_url: str) -> str:
    """The GraphQL endpoint of a GitHub whose REST API is at `rest_url`.

    github.com answers at /graphql next to the REST root; Enterprise Server
    serves REST under /api/v3 and GraphQL under /api/graphql.
    """
    base = rest_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base.removesuffix("/api/v3") + "/api/graphql"
    return base + "/graphql"


def needs_token(rest_url: str) -> bool:
    """Whether the server is a real GitHub, whose GraphQL API refuses anonymous use."""
    url = httpx.URL(rest_url)
    return url.host == "api.github.com" or url.path.rstrip("/").endswith("/api/v3")


def build_query(params: ProjectParams, *, first_page: bool) -> str:
    """The query text for one page of a project's items.

    Args:
        params: The project and options asked for.
        first_page: Whether to ask for the field and the project's field names
            too (needed once, before counting).

    Returns:
        A query taking `$login`, `$number`, `$field`, `$first` and `$after`.
    """
    # Newer GitHub skips archived items unless asked; older servers return
    # them all and know no such argument, so it is sent only when needed and
    # `isArchived` is checked on every item either way.
    archived = (
        ", archivedStates: [ARCHIVED, NOT_ARCHIVED]" if params.include_archived else ""
    )
    header = (
        "query ProjectPercent($login: String!, $number: Int!, $field: String!, "
        "$first: Int!, $after: String)"
    )
    fields = FIELD_SELECTION if first_page else ""
    return (
        f"{header} {{\n"
        f"  {params.owner_type}(login: $login) {{\n"
        f"    projectV2(number: $number) {{{fields}\n"
        f"      items(first: $first, after: $after{archived}) {{{ITEM_SELECTION}\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
    )


def project_name(params: ProjectParams) -> str:
    """How messages name a project, e.g. `organization acme's project 5`."""
    return f"{params.owner_type} {params.owner}'s project {params.project}"


# Errors ---------------------------------------------------------------------


def graphql_error(
    response: httpx.Response, body: Mapping[str, Any], params: ProjectParams
) -> ConnectorError | None:
    """The error a GraphQL answer's `errors` list means, or None when it has none."""
    errors = body.get("errors")
    if not errors:
        return None
    if not isinstance(errors, list):
        return TransientError(
            f"GitHub answered the query for {project_name(params)} with an "
            "unreadable errors list; try again later"
        )

    types = {str(error.get("type")) for error in errors if isinstance(error, dict)}
    detail = _messages(errors)
    if "RATE_LIMITED" in types:
        wait = retry_after_seconds(response)
        return RateLimitedError(
            f"GitHub's GraphQL rate limit is used up: {detail}",
            retry_after=60.0 if wait is None else wait,
        )
    if "NOT_FOUND" in types:
        return ConfigurationError(
            f"GitHub could not find {project_name(params)}: {detail} Check owner, "
            "owner_type (organization or user) and the project number; a private "
            "project also needs a token that can see it"
        )
    if types & CONFIG_ERROR_TYPES:
        return ConfigurationError(
            f"GitHub refused to show {project_name(params)}: {detail} Use a token "
            "with the read:project scope that can see the project"
        )
    if body.get("data") is None and _is_validation_error(errors):
        return ConfigurationError(
            f"GitHub rejected the Projects query for {project_name(params)}: "
            f"{detail} This server's GraphQL schema may be older than the query; "
            "on GitHub Enterprise Server try without include_archived"
        )
    return TransientError(
        f"GitHub failed to answer the query for {project_name(params)}: {detail}"
    )


def _messages(errors: list[Any]) -> str:
    parts = [
        str(error.get("message") or error.get("type") or "")
        for error in errors
        if isinstance(error, dict)
    ]
    text = " ".join(
        part if part.endswith(".") else f"{part}." for part in parts if part
    )
    return text[:300] or "no message."


def _is_validation_error(errors: list[Any]) -> bool:
    """Whether GitHub refused the query text itself (no `type`, a `code`)."""
    return all(
        isinstance(error, dict)
        and "type" not in error
        and isinstance(error.get("extensions"), dict)
        and "code" in error["extensions"]
        for error in errors
    )


# Answers --------------------------------------------------------------------


@dataclass(frozen=True)
class StatusField:
    """The single-select field a project's status is read from."""

    name: str
    options: dict[str, str]
    """Option id → option name, in the board's order."""


@dataclass(frozen=True)
class ProjectItem:
    """One item of a project board, reduced to what the count needs."""

    key: str
    kind: str
    archived: bool
    status: str | None
    option_id: str | None


@dataclass(frozen=True)
class ProjectPage:
    """One answer: a page of items, and on the first page the field too."""

    title: str | None
    field: Mapping[str, Any] | None
    field_names: list[str]
    items: list[ProjectItem]
    has_next: bool
    end_cursor: str | None


def parse_page(body: Any, params: ProjectParams) -> ProjectPage:
    """Read one GraphQL answer (already free of `errors`) into a page.

    Raises:
        TransientError: The answer does not have the shape the query asked for.
    """
    project = _dig(body, ["data", params.owner_type, "projectV2"], params)
    items = _dig(project, ["items"], params)
    info = _dig(items, ["pageInfo"], params)
    nodes = items.get("nodes")
    if not isinstance(nodes, list):
        raise _malformed(params, "items.nodes")

    field = project.get("field")
    fields = project.get("fields")
    names = []
    if isinstance(fields, dict) and isinstance(fields.get("nodes"), list):
        names = [str(n["name"]) for n in fields["nodes"] if isinstance(n, dict) and n]
    cursor = info.get("endCursor")
    return ProjectPage(
        title=project.get("title") if isinstance(project.get("title"), str) else None,
        field=field if isinstance(field, dict) else None,
        field_names=names,
        items=[_item(node) for node in nodes if isinstance(node, dict)],
        has_next=info.get("hasNextPage") is True,
        end_cursor=cursor if isinstance(cursor, str) and cursor else None,
    )


def _dig(value: Any, path: list[str], params: ProjectParams) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
        if not isinstance(value, dict):
            raise _malformed(params, step)
        found = value
    return found


def _malformed(params: ProjectParams, where: str) -> TransientError:
    return TransientError(
        f"GitHub's answer for {project_name(params)} had no usable {where!r}; "
        "try again later"
    )


def _item(node: Mapping[str, Any]) -> ProjectItem:
    kind = str(node.get("type") or "REDACTED")
    value = node.get("fieldValueByName")
    status = option_id = None
    if isinstance(value, dict):
        status = value.get("name") if isinstance(value.get("name"), str) else None
        found = value.get("optionId")
        option_id = found if isinstance(found, str) else None
    return ProjectItem(
        key=item_key(kind, node.get("content")),
        kind=kind,
        archived=node.get("isArchived") is True,
        status=status,
        option_id=option_id,
    )


def item_key(kind: str, content: Any) -> str:
    """`acme/app#12`, `acme/app#13 (PR)`, `draft: <title>` or `(redacted item)`."""
    if not isinstance(content, dict):
        return "(redacted item)"
    if kind == "DRAFT_ISSUE":
        return f"draft: {content.get('title') or '(untitled)'}"
    repository = content.get("repository")
    repo = repository.get("nameWithOwner") if isinstance(repository, dict) else None
    key = f"{repo or '?'}#{content.get('number', '?')}"
    return f"{key} (PR)" if kind == "PULL_REQUEST" else key


# Checks ---------------------------------------------------------------------


def status_field(page: ProjectPage, params: ProjectParams) -> StatusField:
    """The project's status field, checked to be a single-select one.

    Raises:
        ConfigurationError: The field is missing or is not a single-select field.
    """
    field = page.field
    if field is None:
        raise ConfigurationError(
            f"{project_name(params)} has no field named {params.field!r} "
            f"(fields there: {_listing(page.field_names)}); give the exact name "
            "of its single-select status field in `field:`"
        )
    options = field.get("options")
    is_select = field.get("__typename") == "ProjectV2SingleSelectField" or (
        field.get("dataType") == "SINGLE_SELECT"
    )
    if not is_select or not isinstance(options, list):
        kind = field.get("dataType") or field.get("__typename") or "unknown"
        raise ConfigurationError(
            f"field {params.field!r} of {project_name(params)} is a {kind} field, "
            "not a single-select one; name a single-select status field in "
            f"`field:` (fields there: {_listing(page.field_names)})"
        )
    return StatusField(
        name=str(field.get("name") or params.field),
        options={
            str(option.get("id")): str(option.get("name", "")).strip()
            for option in options
            if isinstance(option, dict)
        },
    )


def done_option_ids(field: StatusField, params: ProjectParams) -> set[str]:
    """The ids of the options named in `done`.

    Raises:
        ConfigurationError: A name in `done` is not one of the field's options.
    """
    names = list(field.options.values())
    for wanted in params.done:
        if wanted in names:
            continue
        near = [name for name in names if name.casefold() == wanted.casefold()]
        hint = (
            f"; names are compared exactly: did you mean {near[0]!r}?" if near else ""
        )
        raise ConfigurationError(
            f"{wanted!r} is not an option of field {field.name!r} in "
            f"{project_name(params)} (options: {_listing(names)}){hint}"
        )
    return {key for key, name in field.options.items() if name in params.done}


def _listing(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(repr(name) for name in names[:NAME_CAP]) or "none"
    more = len(names) - NAME_CAP
    return f"{shown} and {more} more" if more > 0 else shown
