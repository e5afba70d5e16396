"""`project_percent`: page through a Projects (v2) board and count done items.

The first page also brings the status field, which is checked (it exists, it
is a single-select field, every `done` name is one of its options) before any
item is counted. Later pages ask for items only. Paging follows `endCursor`
while `hasNextPage`, and stops on a cursor seen before or after `max_pages`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from connectors.base import (
    EVIDENCE_ITEM_CAP,
    ConfigurationError,
    Evidence,
    Reading,
    TransientError,
)
from connectors.github.config import ProjectParams
from connectors.github.projects import (
    ProjectItem,
    ProjectPage,
    StatusField,
    build_query,
    done_option_ids,
    graphql_error,
    parse_page,
    project_name,
    status_field,
)
from connectors.http import HttpClient

logger = logging.getLogger(__name__)

NO_STATUS = "(no status)"


class Tally:
    """Running counts over the pages, and the evidence lines of counted items."""

    def __init__(self, params: ProjectParams, done_ids: set[str], cap: int) -> None:
        self.params = params
        self.done_ids = done_ids
        self.cap = cap
        self.counted = 0
        self.done = 0
        self.archived_skipped = 0
        self.type_skipped = 0
        self.lines: list[str] = []

    def add(self, items: Iterable[ProjectItem]) -> None:
        """Count the items in scope; the others are only counted as skipped."""
        types = self.params.item_types
        for item in items:
            if item.archived and not self.params.include_archived:
                self.archived_skipped += 1
                continue
            if types is not None and item.kind not in types:
                self.type_skipped += 1
                continue

            self.counted += 1
            self.done += self.is_done(item)
            if len(self.lines) < self.cap:
                self.lines.append(f"{item.key} = {item.status or NO_STATUS}")

    def is_done(self, item: ProjectItem) -> bool:
        """Done by option id when GitHub gives one, by exact name otherwise."""
        if item.option_id is not None:
            return item.option_id in self.done_ids
        return item.status is not None and item.status.strip() in self.params.done


class ProjectReader:
    """Reads one project's items through GitHub's GraphQL API."""

    def __init__(
        self,
        client: HttpClient,
        url: str,
        params: ProjectParams,
        *,
        per_page: int,
        max_pages: int,
    ) -> None:
        self.client = client
        self.url = url
        self.params = params
        self.per_page = per_page
        self.max_pages = max_pages
        self.name = project_name(params)

    async def read(self) -> Reading:
        """Page through the board and return the done share with its evidence.

        Raises:
            ConfigurationError: The project, field or an option name is wrong,
                or the board has more than `max_pages` pages.
            TransientError: GitHub failed, or its paging went wrong.
            RateLimitedError: GitHub's GraphQL rate limit is used up.
        """
        where = self.client.describe("POST", self.url)
        logger.debug("Reading GitHub %s with %s", self.name, where)

        page = await self._page(None)
        field = status_field(page, self.params)
        done_ids = done_option_ids(field, self.params)
        tally = Tally(self.params, done_ids, EVIDENCE_ITEM_CAP)
        tally.add(page.items)

        title, pages, seen = page.title, 1, set[str]()
        while page.has_next:
            page = await self._page(self._next_cursor(page, seen, pages))
            tally.add(page.items)
            pages += 1
        return self._reading(title, field, tally, where, pages)

    async def _page(self, cursor: str | None) -> ProjectPage:
        payload = {
            "query": build_query(self.params, first_page=cursor is None),
            "variables": {
                "login": self.params.owner,
                "number": self.params.project,
                "field": self.params.field,
                "first": self.per_page,
                "after": cursor,
            },
        }
        response, body = await self.client.json_response("POST", self.url, json=payload)
        if not isinstance(body, dict):
            raise TransientError(
                f"GitHub answered the query for {self.name} with something other "
                "than a JSON object; try again later"
            )
        error = graphql_error(response, body, self.params)
        if error is not None:
            raise error
        return parse_page(body, self.params)

    def _next_cursor(self, page: ProjectPage, seen: set[str], pages: int) -> str:
        """The cursor of the next page, once it is clear paging may go on."""
        cursor = page.end_cursor
        if cursor is None or cursor in seen:
            raise TransientError(
                f"GitHub's paging of {self.name} looped or lost its place (endCursor "
                f"{cursor!r} with more pages to come); try again later"
            )
        if pages >= self.max_pages:
            raise ConfigurationError(
                f"{self.name} has more than {pages * self.per_page} items "
                f"({self.max_pages} pages, max_pages); raise max_pages or per_page"
            )
        seen.add(cursor)
        return cursor

    def _reading(
        self,
        title: str | None,
        field: StatusField,
        tally: Tally,
        where: str,
        pages: int,
    ) -> Reading:
        summary: dict[str, Any] = {
            "project": title,
            "owner": self.params.owner,
            "number": self.params.project,
            "field": field.name,
            "done_options": list(self.params.done),
            "items": tally.counted,
            "done": tally.done,
            "skipped_archived": tally.archived_skipped,
            "skipped_type": tally.type_skipped,
        }
        evidence = Evidence(
            request=where,
            requests=pages,
            summary=summary,
            items=tally.lines,
            items_total=tally.counted,
        )

        # An empty board has no progress at all: neither 0 % nor 100 %.
        if tally.counted == 0:
            note = f"{self.name} has no items in scope"
            return Reading(value=None, evidence=evidence, notes=[note])
        return Reading(value=100.0 * tally.done / tally.counted, evidence=evidence)
