"""The GitHub connector: issue search counts, milestone and project progress.

Talks to the REST API of github.com or of a GitHub Enterprise Server. Both
REST metrics cost one request in the common case: a search answer carries its
total, and a milestone carries its open and closed counts. Only a milestone
named by title needs the milestone list, read page by page.

`project_percent` reads a Projects (v2) board through the GraphQL API, one
page of items per request (`project_percent.py`, with the query text and its
answers in `projects.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from connectors.base import (
    EVIDENCE_ITEM_CAP,
    ConfigurationError,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    Sleep,
    TransientError,
    metric_table,
)
from connectors.github.config import GitHubConfig, MilestoneParams, ProjectParams
from connectors.github.items import item_keys
from connectors.github.project_percent import ProjectReader
from connectors.github.projects import graphql_url, needs_token
from connectors.http import HttpConnector, mask_url, parse_json

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
"""The REST API version every request pins, so answers keep their shape."""

SEARCH_PATH = "/search/issues"

TITLE_CAP = 20
"""How many milestone titles a not-found error lists."""

INCOMPLETE_NOTE = (
    "GitHub's search timed out before finishing (incomplete_results), "
    "so the count may be too low."
)


def request_headers(config: GitHubConfig) -> dict[str, str]:
    """Headers sent with every request to a GitHub source."""
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": "okrsync",
    }
    if config.token is not None:
        headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
    return headers


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default_port


def _count(body: dict[str, Any], key: str, where: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TransientError(
            f"the GitHub answer to {where} had no {key!r} count; try again later"
        )
    return value


class GitHubConnector(HttpConnector[GitHubConfig]):
    """Reads issue counts and milestone progress from GitHub."""

    type: ClassVar[str] = "github"
    config_model = GitHubConfig
    metrics = metric_table(
        Metric(
            name="issue_count",
            description=(
                "How many issues and pull requests match a GitHub search query."
            ),
        ),
        Metric(
            name="milestone_percent",
            description=(
                "Percent of a milestone's issues and pull requests that are closed."
            ),
            params=MilestoneParams,
            needs_query=False,
        ),
        Metric(
            name="project_percent",
            description=(
                "Percent of a Projects (v2) board's items whose single-select "
                "status is one of the done options."
            ),
            params=ProjectParams,
            needs_query=False,
        ),
    )

    def __init__(
        self,
        name: str,
        config: GitHubConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Set up a connector for one GitHub source.

        Args:
            name: The source's name in the mapping, for messages.
            config: The validated source block.
            transport: An httpx transport to use instead of the network.
            sleep: What to await between retries.
        """
        super().__init__(name, config, transport=transport, sleep=sleep)
        self._base = httpx.URL(config.url)

    def get_headers(self) -> dict[str, str]:
        """GitHub's media type, pinned API version, and the token if any."""
        return request_headers(self.config)

    async def fetch(self, request: FetchRequest) -> Reading:
        """Ask GitHub one question.

        Args:
            request: `issue_count` with a search query, `milestone_percent`
                with `MilestoneParams`, or `project_percent` with
                `ProjectParams`.

        Returns:
            The count or percentage with its evidence; value None for a
            milestone or project that has no items.

        Raises:
            ConfigurationError: The query, milestone, project or token is wrong.
            TransientError: GitHub failed or answered in an unexpected shape.
            RateLimitedError: GitHub asked for a pause.
        """
        if request.metric == "issue_count":
            return await self._issue_count(self._query_of(request))
        if request.metric == "milestone_percent":
            return await self._milestone_percent(
                self.params_as(
                    request, MilestoneParams, "Give `repo: owner/name` and `milestone:`"
                )
            )
        if request.metric == "project_percent":
            return await self._project_percent(
                self.params_as(
                    request, ProjectParams, "Give `owner:` and `project:` (its number)"
                )
            )
        raise ConfigurationError(
            f"GitHub source {self.name!r} has no metric {request.metric!r}; "
            f"use one of: {', '.join(self.metrics)}"
        )

    def _query_of(self, request: FetchRequest) -> str:
        query = (request.query or "").strip()
        if not query:
            raise ConfigurationError(
                f"the issue_count metric of GitHub source {self.name!r} needs a "
                "`query:` in GitHub search syntax, e.g. "
                "repo:acme/app is:issue is:open label:P1"
            )
        return query

    async def _issue_count(self, query: str) -> Reading:
        # One page of up to 100 items costs the same single request as a page
        # of one, and its keys let people see what was counted.
        params = {"q": query, "per_page": self.config.per_page}
        return await self._conditional(
            SEARCH_PATH, params, lambda body, where: self._count(query, body, where)
        )

    def _count(self, query: str, body: Any, where: str) -> Reading:
        total, incomplete, items = self._search_answer(body, where)
        summary: dict[str, Any] = {
            "query": query,
            "total_count": total,
            "incomplete_results": incomplete,
        }
        notes = []
        if incomplete:
            summary["note"] = INCOMPLETE_NOTE
            notes.append(INCOMPLETE_NOTE)
        evidence = Evidence(
            request=where,
            requests=1,
            summary=summary,
            items=item_keys(items, EVIDENCE_ITEM_CAP),
            items_total=total,
        )
        return Reading(value=float(total), evidence=evidence, notes=notes)

    async def _conditional(
        self,
        path: str,
        params: dict[str, Any] | None,
        read: Callable[[Any, str], Reading],
    ) -> Reading:
        """GET with the kept ETag; a 304 reuses the reading kept with it.

        GitHub does not count 304 answers against the rate limit, so an
        unchanged search or milestone costs nothing on the next sync.
        """
        where = self.client.describe("GET", path, params)
        kept = self.cache.get(where) if self.cache is not None else None
        response, body = await self.client.json_if_changed(
            path, kept.etag if kept else None, params=params
        )
        if body is None:
            if kept is None:
                raise TransientError(f"GitHub answered {where} with 304 unasked")
            return kept.reading

        reading = read(body, where)
        etag = response.headers.get("etag")
        if self.cache is not None and etag:
            self.cache.put(where, etag, reading)
        return reading

    @staticmethod
    def _search_answer(body: Any, where: str) -> tuple[int, bool, list[Any]]:
        if not isinstance(body, dict):
            raise TransientError(
                f"the GitHub answer to {where} was not a JSON object; try again later"
            )
        total = _count(body, "total_count", where)
        items = body.get("items", [])
        if not isinstance(items, list):
            raise TransientError(
                f"the GitHub answer to {where} had no 'items' list; try again later"
            )
        return total, bool(body.get("incomplete_results")), items

    async def _milestone_percent(self, params: MilestoneParams) -> Reading:
        if isinstance(params.milestone, int):
            return await self._milestone_by_number_kept(params, params.milestone)

        # A title found once is remembered as its number, so later syncs ask
        # the numbered endpoint, whose unchanged answer is a free 304. A
        # renamed milestone no longer matches and is looked up again.
        alias = f"milestone title {params.repo} {params.milestone}"
        known = self.cache.get(alias) if self.cache is not None else None
        if known is not None and known.reading.value is not None:
            reading = await self._milestone_by_number_kept(
                params, int(known.reading.value)
            )
            if reading.evidence.summary.get("title") == params.milestone:
                return reading

        milestone, where, requests = await self._milestone_by_title(params)
        number = milestone.get("number")
        if self.cache is None or not isinstance(number, int):
            return self._milestone_reading(params, milestone, where, requests)
        evidence = Evidence(request=where, summary={"number": number})
        self.cache.put(alias, "title", Reading(float(number), evidence))
        # One more request now gives the numbered answer's ETag for next time.
        return await self._milestone_by_number_kept(params, number)

    async def _milestone_by_number_kept(
        self, params: MilestoneParams, number: int
    ) -> Reading:
        path = f"/repos/{params.owner}/{params.name}/milestones/{number}"
        return await self._conditional(
            path,
            None,
            lambda body, where: self._milestone_reading(
                params, self._milestone_object(body, where), where, 1
            ),
        )

    def _milestone_reading(
        self,
        params: MilestoneParams,
        milestone: dict[str, Any],
        where: str,
        requests: int,
    ) -> Reading:
        open_issues = _count(milestone, "open_issues", where)
        closed_issues = _count(milestone, "closed_issues", where)
        evidence = Evidence(
            request=where,
            requests=requests,
            summary={
                "milestone": milestone.get("number"),
                "title": milestone.get("title"),
                "open": open_issues,
                "closed": closed_issues,
                "state": milestone.get("state"),
            },
            items_total=open_issues + closed_issues,
        )

        # An empty milestone has no progress at all: neither 0 % nor 100 %.
        scope = open_issues + closed_issues
        if scope == 0:
            note = (
                f"milestone {milestone.get('title')!r} of {params.repo} has no "
                "issues or pull requests"
            )
            return Reading(value=None, evidence=evidence, notes=[note])
        return Reading(value=100.0 * closed_issues / scope, evidence=evidence)

    @staticmethod
    def _milestone_object(body: Any, where: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise TransientError(
                f"the GitHub answer to {where} was not a milestone object; "
                "try again later"
            )
        return body

    async def _milestone_by_title(
        self, params: MilestoneParams
    ) -> tuple[dict[str, Any], str, int]:
        path = f"/repos/{params.owner}/{params.name}/milestones"
        query = {"state": "all", "per_page": self.config.per_page}
        where = self.client.describe("GET", path, query)
        titles: list[str] = []
        seen: set[str] = set()

        response = await self.client.request("GET", path, params=query)
        pages = 1
        while True:
            seen.add(str(response.request.url))
            for milestone in self._milestone_list(response):
                if milestone.get("title") == params.milestone:
                    return milestone, where, pages
                titles.append(str(milestone.get("title")))

            next_url = self._next_page(response, seen, pages, params)
            if next_url is None:
                raise self._title_not_found(params, titles)
            response = await self.client.request("GET", next_url)
            pages += 1

    @staticmethod
    def _milestone_list(response: httpx.Response) -> list[dict[str, Any]]:
        body = parse_json(response)
        if not isinstance(body, list) or not all(isinstance(m, dict) for m in body):
            where = f"GET {mask_url(response.request.url)}"
            raise TransientError(
                f"the GitHub answer to {where} was not a list of milestones; "
                "try again later"
            )
        return body

    def _next_page(
        self,
        response: httpx.Response,
        seen: set[str],
        pages: int,
        params: MilestoneParams,
    ) -> str | None:
        """The next page's URL from the `Link` header, or None on the last page."""
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        next_url = response.request.url.join(link)
        where = f"GET {mask_url(response.request.url)}"

        if str(next_url) in seen:
            raise TransientError(
                f"GitHub paging looped: the answer to {where} gives a page already "
                "read as the next one; try again later"
            )
        if _origin(next_url) != _origin(self._base):
            # Following it would send the token to another server.
            raise ConfigurationError(
                f"the answer to {where} links its next page on another server "
                f"({next_url.scheme}://{next_url.host}); set the source's `url:` "
                "to the address GitHub uses in its links"
            )
        if pages >= self.config.max_pages:
            raise ConfigurationError(
                f"the milestone list of {params.repo} has more than "
                f"{self.config.max_pages} pages (max_pages); give the milestone "
                "number instead of its title, or raise max_pages"
            )
        logger.debug("Following the next milestone page %s", mask_url(next_url))
        return str(next_url)

    @staticmethod
    def _title_not_found(
        params: MilestoneParams, titles: list[str]
    ) -> ConfigurationError:
        shown = ", ".join(repr(title) for title in titles[:TITLE_CAP]) or "none"
        more = len(titles) - TITLE_CAP
        if more > 0:
            shown += f" and {more} more"
        return ConfigurationError(
            f"milestone {params.milestone!r} was not found in {params.repo} "
            f"(titles there: {shown}); check the exact title or give its number"
        )

    async def _project_percent(self, params: ProjectParams) -> Reading:
        if self.config.token is None and needs_token(self.config.url):
            raise ConfigurationError(
                f"GitHub source {self.name!r} has no token: GitHub's Projects "
                "(GraphQL) API needs one with the read:project scope; set `token:`"
            )
        reader = ProjectReader(
            self.client,
            graphql_url(self.config.url),
            params,
            per_page=self.config.per_page,
            max_pages=self.config.max_pages,
        )
        return await reader.read()
