"""The sandbox's Jira: Cloud (`/jira-cloud`) and Data Center (`/jira-dc`).

Cloud follows today's REST API: issues come from `POST|GET
/rest/api/3/search/jql`, paged by an opaque `nextPageToken` and without a
`total`; counts come from `search/approximate-count`; the old
`/rest/api/{2,3}/search` answer 410 Gone. Data Center keeps the classic
`/rest/api/2/search`, paged by `startAt` with a `total`.

Both answer with Jira's shapes (status with its statusCategory, fixVersions,
custom fields under deployment-specific ids) and Jira's error bodies
(`{"errorMessages": [...], "errors": {}}`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.sandbox.data import (
    STATUS_CATEGORIES,
    Company,
    Deployment,
    JiraIssue,
    JiraStatus,
    StatusCategory,
)
from app.sandbox.jql import (
    ISSUE_TYPE_IDS,
    PRIORITY_RANK,
    RESOLUTION_IDS,
    JqlEngine,
    JqlError,
    Query,
    parse,
)
from app.sandbox.state import sandbox_state

CLOUD_PREFIX = "/jira-cloud"
DATACENTER_PREFIX = "/jira-dc"

CLOUD_DEFAULT_PAGE = 50
CLOUD_PAGE_CAP = 100
CLOUD_ID_PAGE_CAP = 5000
"""Cloud pages hold up to 100 issues, or 5000 when only ids/keys are asked."""

DATACENTER_DEFAULT_PAGE = 50
DATACENTER_PAGE_CAP = 1000
"""Data Center's default `jira.search.views.default.max`."""

REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the "
    "/rest/api/3/search/jql API. A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search "
    "restriction to your query."
)
BAD_PAYLOAD = (
    "Invalid request payload. Refer to the REST API documentation and try again."
)
BAD_TOKEN = (
    "The nextPageToken is not valid for this query. Start the search again "
    "without a nextPageToken."
)

SYSTEM_FIELDS: list[tuple[str, str, dict[str, str] | None, list[str]]] = [
    ("issuekey", "Key", None, ["id", "issue", "issuekey", "key"]),
    ("summary", "Summary", {"type": "string"}, ["summary"]),
    ("issuetype", "Issue Type", {"type": "issuetype"}, ["issuetype", "type"]),
    ("project", "Project", {"type": "project"}, ["project"]),
    ("status", "Status", {"type": "status"}, ["status"]),
    (
        "statusCategory",
        "Status Category",
        {"type": "statusCategory"},
        ["statusCategory"],
    ),
    ("priority", "Priority", {"type": "priority"}, ["priority"]),
    ("labels", "Labels", {"type": "array", "items": "string"}, ["labels"]),
    (
        "fixVersions",
        "Fix versions",
        {"type": "array", "items": "version"},
        ["fixVersion"],
    ),
    ("resolution", "Resolution", {"type": "resolution"}, ["resolution"]),
    (
        "resolutiondate",
        "Resolved",
        {"type": "datetime"},
        ["resolutiondate", "resolved"],
    ),
    ("created", "Created", {"type": "datetime"}, ["created", "createdDate"]),
    ("updated", "Updated", {"type": "datetime"}, ["updated", "updatedDate"]),
]
"""(id, name, schema, JQL clause names) of the system fields served."""


@dataclass(frozen=True)
class Site:
    """One Jira deployment as seen from one request."""

    deployment: Deployment
    base: str
    api: str

    @property
    def rest(self) -> str:
        """Absolute base of the REST API version in use."""
        return f"{self.base}/rest/api/{self.api}"


def jira_error(status: int, *messages: str) -> JSONResponse:
    """Jira's error body."""
    return JSONResponse(
        {"errorMessages": list(messages), "errors": {}}, status_code=status
    )


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format, e.g. 2026-10-05T09:12:33.000+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000%z")


# Response shapes ----------------------------------------------------------


def category_json(category: StatusCategory, site: Site) -> dict[str, Any]:
    """A status category as Jira writes it."""
    return {
        "self": f"{site.rest}/statuscategory/{category.id}",
        "id": category.id,
        "key": category.key,
        "colorName": category.color_name,
        "name": category.name,
    }


def status_json(status: JiraStatus, site: Site) -> dict[str, Any]:
    """A status with its category, as in issue fields and `/status`."""
    body: dict[str, Any] = {
        "self": f"{site.rest}/status/{status.id}",
        "description": "",
        "iconUrl": f"{site.base}/images/icons/statuses/generic.png",
        "name": status.name,
    }
    if site.deployment == "cloud":
        body["untranslatedName"] = status.name
    body["id"] = status.id
    body["statusCategory"] = category_json(status.category, site)
    return body


def issue_fields(issue: JiraIssue, company: Company, site: Site) -> dict[str, Any]:
    """Every field the sandbox knows for one issue."""
    project_id = company.project_id(issue.project)
    fields: dict[str, Any] = {
        "summary": issue.summary,
        "issuetype": {
            "self": f"{site.rest}/issuetype/{ISSUE_TYPE_IDS[issue.issuetype]}",
            "id": ISSUE_TYPE_IDS[issue.issuetype],
            "description": "",
            "name": issue.issuetype,
            "subtask": False,
            "hierarchyLevel": 1 if issue.issuetype == "Epic" else 0,
        },
        "project": {
            "self": f"{site.rest}/project/{project_id}",
            "id": project_id,
            "key": issue.project,
            "name": company.jira_projects[issue.project],
            "projectTypeKey": "software",
            "simplified": False,
        },
        "status": status_json(issue.status, site),
        "priority": {
            "self": f"{site.rest}/priority/{PRIORITY_RANK[issue.priority]}",
            "name": issue.priority,
            "id": str(PRIORITY_RANK[issue.priority]),
        },
        "labels": list(issue.labels),
        "fixVersions": _versions_json(issue, company, site),
        "resolution": _resolution_json(issue, site),
        "resolutiondate": jira_time(issue.updated) if issue.done else None,
        "created": jira_time(issue.created),
        "updated": jira_time(issue.updated),
    }
    points_id = company.story_points_field[site.deployment]
    for custom in company.custom_fields(site.deployment):
        fields[custom.id] = issue.story_points if custom.id == points_id else None
    return fields


def _versions_json(
    issue: JiraIssue, company: Company, site: Site
) -> list[dict[str, Any]]:
    versions = {(v.project, v.name): v for v in company.jira_versions}
    found = [versions[(issue.project, name)] for name in issue.fix_versions]
    return [
        {
            "self": f"{site.rest}/version/{version.id}",
            "id": version.id,
            "description": "",
            "name": version.name,
            "archived": False,
            "released": version.released,
        }
        for version in found
    ]


def _resolution_json(issue: JiraIssue, site: Site) -> dict[str, Any] | None:
    name = issue.resolution
    if name is None:
        return None
    resolution_id = RESOLUTION_IDS[name]
    return {
        "self": f"{site.rest}/resolution/{resolution_id}",
        "id": resolution_id,
        "description": "",
        "name": name,
    }


def field_list(company: Company, site: Site) -> list[dict[str, Any]]:
    """The `/field` answer: system fields plus the deployment's custom ones."""
    fields = []
    for field_id, name, schema, clauses in SYSTEM_FIELDS:
        entry: dict[str, Any] = {"id": field_id, "name": name, "custom": False}
        entry.update(orderable=True, navigable=True, searchable=True)
        entry["clauseNames"] = clauses
        if schema is not None:
            entry["schema"] = {**schema, "system": field_id}
        fields.append(entry)
    for custom in company.custom_fields(site.deployment):
        kind = "Number" if custom.schema_type == "number" else "Short text"
        entry = {"id": custom.id, "name": custom.name, "custom": True}
        entry.update(orderable=True, navigable=True, searchable=True)
        entry["clauseNames"] = [
            f"cf[{custom.numeric_id}]",
            custom.name,
            f"{custom.name}[{kind}]",
        ]
        entry["schema"] = {
            "type": custom.schema_type,
            "custom": custom.custom_type,
            "customId": custom.numeric_id,
        }
        fields.append(entry)
    if site.deployment == "cloud":
        for entry in fields:
            entry["key"] = entry["id"]
            if entry["custom"]:
                entry["untranslatedName"] = entry["name"]
    return fields


def myself_json(site: Site) -> dict[str, Any]:
    """The signed-in user; the sandbox is open, so always the same one."""
    if site.deployment == "cloud":
        return {
            "self": f"{site.rest}/user?accountId=712020:0000-sandbox",
            "accountId": "712020:0000-sandbox",
            "accountType": "atlassian",
            "emailAddress": "sandbox@acme.example",
            "displayName": "Sandbox User",
            "active": True,
            "timeZone": "UTC",
            "locale": "en_US",
        }
    return {
        "self": f"{site.rest}/user?username=sandbox",
        "key": "JIRAUSER10000",
        "name": "sandbox",
        "emailAddress": "sandbox@acme.example",
        "displayName": "Sandbox User",
        "active": True,
        "deleted": False,
        "timeZone": "UTC",
        "locale": "en_US",
    }


def server_info_json(site: Site) -> dict[str, Any]:
    """`/serverInfo`: Data Center reports itself as "Server", as real DC does."""
    cloud = site.deployment == "cloud"
    version = "1001.0.0-SNAPSHOT" if cloud else "9.12.15"
    return {
        "baseUrl": site.base,
        "version": version,
        "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 15],
        "deploymentType": "Cloud" if cloud else "Server",
        "buildNumber": 100300 if cloud else 9120015,
        "serverTitle": "Acme Jira (sandbox)",
    }


# Requests -----------------------------------------------------------------


class BadRequest(Exception):
    """A request Jira answers with 400 and these messages."""

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = messages


async def search_params(request: Request) -> dict[str, Any]:
    """Search parameters from a JSON body (POST) or the query string (GET).

    Raises:
        BadRequest: The body is not a JSON object.
    """
    if request.method == "POST":
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise BadRequest(BAD_PAYLOAD) from None
        if not isinstance(body, dict):
            raise BadRequest(BAD_PAYLOAD)
        return body
    params: dict[str, Any] = dict(request.query_params)
    if "fields" in request.query_params:
        params["fields"] = request.query_params.getlist("fields")
    return params


def int_param(params: dict[str, Any], name: str, default: int) -> int:
    """An integer parameter; strings of digits are accepted as on GET.

    Raises:
        BadRequest: The value is not an integer.
    """
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        raise BadRequest(BAD_PAYLOAD)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(BAD_PAYLOAD) from None


def requested_fields(value: Any, default: Iterable[str]) -> list[str]:
    """The `fields` parameter as a flat list (commas split, blanks dropped).

    Raises:
        BadRequest: The value is neither a string nor a list of strings.
    """
    if value is None:
        return list(default)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(BAD_PAYLOAD)
    return [part.strip() for item in value for part in item.split(",") if part.strip()]


def select_fields(all_fields: dict[str, Any], requested: list[str]) -> dict[str, Any]:
    """Keep the requested fields: ids, `*all`/`*navigable`, `-id` to drop.

    Only exclusions (`-description`) mean every field but those, as in Jira.
    """
    dropped = {name[1:] for name in requested if name.startswith("-")}
    named = {name for name in requested if not name.startswith("-")}
    everything = not named or bool(named & {"*all", "*navigable"})
    keep = set(all_fields) if everything else named
    return {
        name: value
        for name, value in all_fields.items()
        if name in keep and name not in dropped
    }


def parse_jql(jql: Any) -> Query:
    """Parse the `jql` parameter.

    Raises:
        BadRequest: It is not a string or not valid JQL.
    """
    if jql is None:
        jql = ""
    if not isinstance(jql, str):
        raise BadRequest(BAD_PAYLOAD)
    try:
        return parse(jql)
    except JqlError as error:
        raise BadRequest(error.message) from None


def run_query(request: Request, site: Site, query: Query) -> list[JiraIssue]:
    """Every issue matching the query, in order.

    Raises:
        BadRequest: The query names unknown fields or values.
    """
    company = sandbox_state(request).company
    engine = JqlEngine(company, deployment=site.deployment)
    try:
        return engine.run(query)
    except JqlError as error:
        raise BadRequest(error.message) from None


def page_token(offset: int, jql: str) -> str:
    """An opaque token naming a position in the results of one query."""
    digest = hashlib.sha256(jql.encode()).hexdigest()[:16]
    raw = json.dumps({"o": offset, "q": digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def token_offset(token: Any, jql: str) -> int:
    """The position a token names, if it was made for this query.

    Raises:
        BadRequest: The token is malformed or belongs to another query.
    """
    if not isinstance(token, str):
        raise BadRequest(BAD_TOKEN)
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded))
        offset = int(decoded["o"])
        matches = decoded["q"] == hashlib.sha256(jql.encode()).hexdigest()[:16]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise BadRequest(BAD_TOKEN) from None
    if not matches or offset < 0:
        raise BadRequest(BAD_TOKEN)
    return offset


# Routes -------------------------------------------------------------------

Handler = Callable[[Request, Site], Awaitable[Response]]


def _site(request: Request, prefix: str, deployment: Deployment, api: str) -> Site:
    base = f"{request.url.scheme}://{request.url.netloc}{prefix}"
    return Site(deployment, base, api)


def _route(prefix: str, deployment: Deployment, api: str, handler: Handler) -> Any:
    """Bind a handler to one deployment and API version; 400s become Jira's."""

    async def endpoint(request: Request) -> Response:
        site = _site(request, prefix, deployment, api)
        try:
            return await handler(request, site)
        except BadRequest as error:
            return jira_error(400, *error.messages)

    return endpoint


async def cloud_search(request: Request, site: Site) -> Response:
    """`/rest/api/3/search/jql`: token paging, no total."""
    params = await search_params(request)
    jql = params.get("jql") or ""
    query = parse_jql(jql)
    if not query.bounded:
        raise BadRequest(UNBOUNDED)

    fields = requested_fields(params.get("fields"), ["id"])
    ids_only = set(fields) <= {"id", "key"}
    cap = CLOUD_ID_PAGE_CAP if ids_only else CLOUD_PAGE_CAP
    size = int_param(params, "maxResults", CLOUD_DEFAULT_PAGE)
    if size < 1:
        raise BadRequest("The 'maxResults' parameter must be 1 or more.")
    size = min(size, cap)
    token = params.get("nextPageToken")
    offset = 0 if token in (None, "") else token_offset(token, jql)

    issues = run_query(request, site, query)
    page = issues[offset : offset + size]
    company = sandbox_state(request).company
    body: dict[str, Any] = {
        "issues": [_cloud_issue(issue, company, site, fields) for issue in page]
    }
    end = offset + len(page)
    if end < len(issues):
        body["nextPageToken"] = page_token(end, jql)
    body["isLast"] = end >= len(issues)
    return JSONResponse(body)


def _cloud_issue(
    issue: JiraIssue, company: Company, site: Site, fields: list[str]
) -> dict[str, Any]:
    """Only the id unless more was asked for, as the enhanced search does."""
    if set(fields) <= {"id"}:
        return {"id": issue.id}
    chosen = select_fields(issue_fields(issue, company, site), fields)
    return {
        "expand": "",
        "id": issue.id,
        "self": f"{site.rest}/issue/{issue.id}",
        "key": issue.key,
        "fields": chosen,
    }


async def approximate_count(request: Request, site: Site) -> Response:
    """`/rest/api/3/search/approximate-count`: exact here, but Jira's shape."""
    params = await search_params(request)
    query = parse_jql(params.get("jql"))
    if not query.bounded:
        raise BadRequest(UNBOUNDED)
    return JSONResponse({"count": len(run_query(request, site, query))})


async def removed_search(request: Request, site: Site) -> Response:
    """The classic search, removed from Cloud."""
    return jira_error(410, REMOVED_SEARCH)


async def datacenter_search(request: Request, site: Site) -> Response:
    """`/rest/api/2/search`: startAt paging with a total."""
    params = await search_params(request)
    query = parse_jql(params.get("jql"))
    start = max(0, int_param(params, "startAt", 0))
    size = int_param(params, "maxResults", DATACENTER_DEFAULT_PAGE)
    size = DATACENTER_DEFAULT_PAGE if size < 0 else min(size, DATACENTER_PAGE_CAP)
    fields = requested_fields(params.get("fields"), ["*navigable"])

    issues = run_query(request, site, query)
    company = sandbox_state(request).company
    page = issues[start : start + size]
    return JSONResponse(
        {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(issues),
            "issues": [
                {
                    "expand": "operations,versionedRepresentations,editmeta,"
                    "changelog,renderedFields",
                    "id": issue.id,
                    "self": f"{site.rest}/issue/{issue.id}",
                    "key": issue.key,
                    "fields": select_fields(issue_fields(issue, company, site), fields),
                }
                for issue in page
            ],
        }
    )


async def fields_endpoint(request: Request, site: Site) -> Response:
    """`/field`."""
    return JSONResponse(field_list(sandbox_state(request).company, site))


async def statuses_endpoint(request: Request, site: Site) -> Response:
    """`/status`."""
    statuses = sandbox_state(request).company.jira_statuses
    return JSONResponse([status_json(status, site) for status in statuses])


async def categories_endpoint(request: Request, site: Site) -> Response:
    """`/statuscategory`, including Jira's "No Category"."""
    categories = STATUS_CATEGORIES.values()
    return JSONResponse([category_json(category, site) for category in categories])


async def myself_endpoint(request: Request, site: Site) -> Response:
    """`/myself`."""
    return JSONResponse(myself_json(site))


async def server_info_endpoint(request: Request, site: Site) -> Response:
    """`/serverInfo`."""
    return JSONResponse(server_info_json(site))


COMMON_ROUTES: list[tuple[str, list[str], Handler]] = [
    ("field", ["GET"], fields_endpoint),
    ("status", ["GET"], statuses_endpoint),
    ("statuscategory", ["GET"], categories_endpoint),
    ("myself", ["GET"], myself_endpoint),
    ("serverInfo", ["GET"], server_info_endpoint),
]


def cloud_router() -> APIRouter:
    """Jira Cloud under `/jira-cloud`, REST API versions 2 and 3."""
    router = APIRouter(prefix=CLOUD_PREFIX)
    for api in ("2", "3"):
        routes = [
            *COMMON_ROUTES,
            ("search/jql", ["GET", "POST"], cloud_search),
            ("search/approximate-count", ["POST"], approximate_count),
            ("search", ["GET", "POST"], removed_search),
        ]
        for path, methods, handler in routes:
            endpoint = _route(CLOUD_PREFIX, "cloud", api, handler)
            router.add_api_route(f"/rest/api/{api}/{path}", endpoint, methods=methods)
    return router


def datacenter_router() -> APIRouter:
    """Jira Data Center under `/jira-dc`, REST API version 2."""
    router = APIRouter(prefix=DATACENTER_PREFIX)
    routes = [*COMMON_ROUTES, ("search", ["GET", "POST"], datacenter_search)]
    for path, methods, handler in routes:
        endpoint = _route(DATACENTER_PREFIX, "datacenter", "2", handler)
        router.add_api_route(f"/rest/api/2/{path}", endpoint, methods=methods)
    return router
