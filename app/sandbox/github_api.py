"""The sandbox's GitHub REST API, under `/github`.

Serves issue search, milestones, repository issues (pull requests included,
as on GitHub) and `/rate_limit`, with GitHub's paging (`Link` headers built
from the request's own URL, so they work under the prefix), ETags answered
with 304 on `If-None-Match`, and GitHub's error bodies. The `x-ratelimit-*`
headers are added to every answer by the server's middleware.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.sandbox.data import Company, GitHubIssue, GitHubMilestone
from app.sandbox.github_search import (
    SEARCH_DOCS_URL,
    SearchError,
    compile_query,
    parse,
    sort_items,
)
from app.sandbox.state import sandbox_state

PREFIX = "/github"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
SEARCH_RESULT_CAP = 1000
DOCS_URL = "https://docs.github.com/rest"
LABEL_COLORS = {
    "P1": "b60205",
    "P2": "d93f0b",
    "bug": "d73a4a",
    "perf": "fbca04",
    "enhancement": "a2eeef",
}
KIND_REQUIRED = (
    "Queries from a GitHub App acting for a user must include 'is:issue' or "
    "'is:pull-request'; send the two kinds as separate searches."
)

T = TypeVar("T")


def github_time(moment: datetime | None) -> str | None:
    """GitHub's timestamp format, e.g. 2026-10-05T09:12:33Z."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def not_found(documentation_url: str = DOCS_URL) -> JSONResponse:
    """GitHub's 404 body."""
    body = {"message": "Not Found", "documentation_url": documentation_url}
    return JSONResponse({**body, "status": "404"}, status_code=404)


def etag_for(body: bytes) -> str:
    """A weak ETag that stays the same for the same body."""
    return f'W/"{hashlib.sha256(body).hexdigest()}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weakly compared)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def github_json(
    request: Request, payload: Any, headers: dict[str, str] | None = None
) -> Response:
    """A JSON answer with an ETag; 304 and no body when the client has it."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    etag = etag_for(body)
    sent = {
        "etag": etag,
        "cache-control": "private, max-age=60, s-maxage=60",
        "x-github-media-type": "github.v3; format=json",
        "x-github-api-version-selected": "2022-11-28",
        **(headers or {}),
    }
    if request.method == "GET" and etag_matches(
        request.headers.get("if-none-match"), etag
    ):
        return Response(status_code=304, headers=sent)
    return Response(body, media_type="application/json; charset=utf-8", headers=sent)


def int_query(request: Request, name: str, default: int) -> int:
    """An integer query parameter; anything unreadable means the default."""
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def paging(request: Request) -> tuple[int, int]:
    """(page, per_page) with GitHub's defaults and limits."""
    per_page = int_query(request, "per_page", DEFAULT_PER_PAGE)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    return max(int_query(request, "page", 1), 1), per_page


def link_header(request: Request, page: int, last: int) -> str | None:
    """RFC 5988 links to the neighbouring pages, absolute, like GitHub's."""

    def url(number: int) -> str:
        return str(request.url.include_query_params(page=number))

    links = []
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return ", ".join(links) or None


def page_of(
    request: Request, items: Sequence[T], total: int | None = None
) -> tuple[list[T], dict[str, str]]:
    """One page of `items` and the Link header for it."""
    page, per_page = paging(request)
    count = len(items) if total is None else total
    last = max(1, math.ceil(count / per_page))
    chosen = list(items[(page - 1) * per_page : page * per_page])
    link = link_header(request, page, last)
    return chosen, ({"link": link} if link else {})


# Response shapes ----------------------------------------------------------


def _repo_id(company: Company, repo: str) -> int:
    return 700000 + company.repos.index(repo)


def node_id(kind: str, number: int) -> str:
    """A global node id in GitHub's newer `PREFIX_base64` style."""
    encoded = base64.urlsafe_b64encode(number.to_bytes(8, "big")).decode()
    return f"{kind}_{encoded.rstrip('=')}"


def reactions_json(api: str) -> dict[str, Any]:
    """An empty reactions summary; nobody reacts in the sandbox."""
    counts = dict.fromkeys(
        ["+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"], 0
    )
    return {"url": f"{api}/reactions", "total_count": 0, **counts}


def user_json(base: str, login: str) -> dict[str, Any]:
    """A user as GitHub nests it in issues and milestones."""
    return {
        "login": login,
        "id": 90000 + sum(login.encode()),
        "type": "User",
        "site_admin": False,
        "url": f"{base}/users/{login}",
        "html_url": f"{base}/web/{login}",
    }


def milestone_json(
    milestone: GitHubMilestone, company: Company, base: str
) -> dict[str, Any]:
    """A milestone with counts derived from its issues and pull requests."""
    opened, closed = company.milestone_counts(milestone.repo, milestone.number)
    api = f"{base}/repos/{milestone.repo}/milestones/{milestone.number}"
    updated = milestone.closed_at or milestone.created_at
    identifier = _repo_id(company, milestone.repo) * 100 + milestone.number
    return {
        "url": api,
        "html_url": f"{base}/web/{milestone.repo}/milestone/{milestone.number}",
        "labels_url": f"{api}/labels",
        "id": identifier,
        "node_id": node_id("MI", identifier),
        "number": milestone.number,
        "title": milestone.title,
        "description": milestone.description,
        "creator": user_json(base, "acme-bot"),
        "open_issues": opened,
        "closed_issues": closed,
        "state": milestone.state,
        "created_at": github_time(milestone.created_at),
        "updated_at": github_time(updated),
        "due_on": github_time(milestone.due_on),
        "closed_at": github_time(milestone.closed_at),
    }


def label_json(base: str, repo: str, name: str) -> dict[str, Any]:
    """A label as GitHub nests it in issues."""
    return {
        "id": 5000 + sum(name.encode()),
        "url": f"{base}/repos/{repo}/labels/{name}",
        "name": name,
        "color": LABEL_COLORS.get(name, "ededed"),
        "default": name in ("bug", "enhancement"),
        "description": None,
    }


def item_json(item: GitHubIssue, company: Company, base: str) -> dict[str, Any]:
    """An issue or pull request as the issues and search endpoints show it."""
    api = f"{base}/repos/{item.repo}/issues/{item.number}"
    kind = "pull" if item.is_pull_request else "issues"
    milestone = (
        company.milestone(item.repo, item.milestone_number)
        if item.milestone_number is not None
        else None
    )
    identifier = _repo_id(company, item.repo) * 10000 + item.number
    body: dict[str, Any] = {
        "url": api,
        "repository_url": f"{base}/repos/{item.repo}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{base}/web/{item.repo}/{kind}/{item.number}",
        "id": identifier,
        "node_id": node_id("PR" if item.is_pull_request else "I", identifier),
        "number": item.number,
        "title": item.title,
        "user": user_json(base, item.user),
        "labels": [label_json(base, item.repo, name) for name in item.labels],
        "state": item.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": milestone_json(milestone, company, base) if milestone else None,
        "comments": 0,
        "created_at": github_time(item.created_at),
        "updated_at": github_time(item.updated_at),
        "closed_at": github_time(item.closed_at),
        "author_association": "MEMBER",
        "active_lock_reason": None,
        "body": None,
        "state_reason": item.state_reason,
        "reactions": reactions_json(api),
        "timeline_url": f"{api}/timeline",
        "performed_via_github_app": None,
    }
    if item.is_pull_request:
        body["draft"] = False
        body["pull_request"] = _pull_request_json(item, base)
    return body


def _pull_request_json(item: GitHubIssue, base: str) -> dict[str, Any]:
    html = f"{base}/web/{item.repo}/pull/{item.number}"
    return {
        "url": f"{base}/repos/{item.repo}/pulls/{item.number}",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "merged_at": github_time(item.merged_at),
    }


# Routes -------------------------------------------------------------------


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{PREFIX}"


def _repo(request: Request, owner: str, name: str) -> str | None:
    """The repository's canonical name, or None when it does not exist."""
    wanted = f"{owner}/{name}".lower()
    repos = sandbox_state(request).company.repos
    return next((repo for repo in repos if repo.lower() == wanted), None)


def _acts_for_user(request: Request) -> bool:
    """GitHub App user-to-server tokens start with "ghu_"."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip().startswith("ghu_")


async def search_issues(request: Request) -> Response:
    """`GET /search/issues`."""
    q = request.query_params.get("q")
    company = sandbox_state(request).company
    try:
        query = parse(q or "")
        if _acts_for_user(request) and not query.names_kind:
            raise SearchError(KIND_REQUIRED)
        predicate = compile_query(company, query)
    except SearchError as error:
        return JSONResponse(error.body(), status_code=422)

    found = [item for item in company.github_issues if predicate(item)]
    sort = request.query_params.get("sort")
    found = sort_items(found, sort, request.query_params.get("order", "desc"))
    page, per_page = paging(request)
    if (page - 1) * per_page >= SEARCH_RESULT_CAP:
        return JSONResponse(
            {
                "message": "Only the first 1000 search results are available",
                "documentation_url": SEARCH_DOCS_URL,
            },
            status_code=422,
        )

    reachable = found[:SEARCH_RESULT_CAP]
    items, headers = page_of(request, reachable)
    base = _base(request)
    payload = {
        "total_count": len(found),
        "incomplete_results": False,
        "items": [{**item_json(item, company, base), "score": 1.0} for item in items],
    }
    return github_json(request, payload, headers)


async def list_milestones(request: Request, owner: str, repo: str) -> Response:
    """`GET /repos/{owner}/{repo}/milestones`."""
    name = _repo(request, owner, repo)
    if name is None:
        return not_found(f"{DOCS_URL}/issues/milestones#list-milestones")
    company = sandbox_state(request).company
    state = request.query_params.get("state", "open")
    chosen = [
        milestone
        for milestone in company.milestones
        if milestone.repo == name and state in ("all", milestone.state)
    ]
    chosen = _sort_milestones(company, chosen, request)
    page, headers = page_of(request, chosen)
    base = _base(request)
    return github_json(
        request, [milestone_json(m, company, base) for m in page], headers
    )


def _sort_milestones(
    company: Company, milestones: list[GitHubMilestone], request: Request
) -> list[GitHubMilestone]:
    """By due date (undated last) or completeness; ascending by default."""
    descending = request.query_params.get("direction", "asc") == "desc"
    if request.query_params.get("sort") == "completeness":

        def completeness(milestone: GitHubMilestone) -> float:
            opened, closed = company.milestone_counts(milestone.repo, milestone.number)
            return closed / (opened + closed) if opened + closed else 0.0

        return sorted(milestones, key=completeness, reverse=descending)
    dated = sorted(
        (m for m in milestones if m.due_on is not None),
        key=lambda m: (m.due_on, m.number),
        reverse=descending,
    )
    return dated + [m for m in milestones if m.due_on is None]


async def get_milestone(
    request: Request, owner: str, repo: str, number: str
) -> Response:
    """`GET /repos/{owner}/{repo}/milestones/{number}`."""
    name = _repo(request, owner, repo)
    company = sandbox_state(request).company
    milestone = (
        company.milestone(name, int(number))
        if name is not None and number.isdigit()
        else None
    )
    if milestone is None:
        return not_found(f"{DOCS_URL}/issues/milestones#get-a-milestone")
    return github_json(request, milestone_json(milestone, company, _base(request)))


async def list_issues(request: Request, owner: str, repo: str) -> Response:
    """`GET /repos/{owner}/{repo}/issues` (pull requests included)."""
    name = _repo(request, owner, repo)
    if name is None:
        return not_found(f"{DOCS_URL}/issues/issues#list-repository-issues")
    company = sandbox_state(request).company
    params = request.query_params
    state = params.get("state", "open")
    labels = {v.strip().lower() for v in params.get("labels", "").split(",") if v}
    milestone = params.get("milestone")

    def wanted(item: GitHubIssue) -> bool:
        if item.repo != name or state not in ("all", item.state):
            return False
        if not labels <= {label.lower() for label in item.labels}:
            return False
        return _milestone_filter(item, milestone)

    found = [item for item in company.github_issues if wanted(item)]
    sort = params.get("sort", "created")
    found = sort_items(found, sort, params.get("direction", "desc"))
    page, headers = page_of(request, found)
    base = _base(request)
    return github_json(
        request, [item_json(item, company, base) for item in page], headers
    )


def _milestone_filter(item: GitHubIssue, milestone: str | None) -> bool:
    if milestone is None:
        return True
    if milestone == "*":
        return item.milestone_number is not None
    if milestone == "none":
        return item.milestone_number is None
    return milestone.isdigit() and item.milestone_number == int(milestone)


async def get_issue(request: Request, owner: str, repo: str, number: str) -> Response:
    """`GET /repos/{owner}/{repo}/issues/{number}`."""
    name = _repo(request, owner, repo)
    company = sandbox_state(request).company
    item = next(
        (
            item
            for item in company.github_issues
            if item.repo == name and str(item.number) == number
        ),
        None,
    )
    if item is None:
        return not_found(f"{DOCS_URL}/issues/issues#get-an-issue")
    return github_json(request, item_json(item, company, _base(request)))


async def rate_limit(request: Request) -> Response:
    """`GET /rate_limit`; asking does not count against any limit."""
    limits = sandbox_state(request).rate_limits
    windows = {name: limits.peek(name) for name in ("core", "search", "graphql")}
    payload = {
        "resources": {name: window.as_json() for name, window in windows.items()},
        "rate": windows["core"].as_json(),
    }
    return JSONResponse(payload, headers={"cache-control": "no-cache"})


def github_router() -> APIRouter:
    """GitHub's REST API under `/github`."""
    router = APIRouter(prefix=PREFIX)
    router.add_api_route("/search/issues", search_issues, methods=["GET"])
    router.add_api_route(
        "/repos/{owner}/{repo}/milestones", list_milestones, methods=["GET"]
    )
    router.add_api_route(
        "/repos/{owner}/{repo}/milestones/{number}", get_milestone, methods=["GET"]
    )
    router.add_api_route("/repos/{owner}/{repo}/issues", list_issues, methods=["GET"])
    router.add_api_route(
        "/repos/{owner}/{repo}/issues/{number}", get_issue, methods=["GET"]
    )
    router.add_api_route("/rate_limit", rate_limit, methods=["GET"])
    return router
