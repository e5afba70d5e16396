"""The two Jira search protocols: Cloud's token paging and Data Center's offsets.

Jira Cloud removed `/rest/api/{2,3}/search` (it answers 410 Gone); its
replacement `POST /rest/api/3/search/jql` pages with an opaque `nextPageToken`,
ends with `isLast: true` and reports no `total`. Jira Data Center / Server keeps
`POST /rest/api/2/search`, paged by `startAt` with a `total` in every answer.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connectors.base import ConfigurationError, TransientError
from connectors.http import HttpClient
from connectors.jira.model import Issue, issue_key, issue_list

logger = logging.getLogger(__name__)

CLOUD_ID_ONLY_PAGE_SIZE = 5000
"""Page size asked of Cloud when only keys are wanted.

Atlassian's description of `search/jql` says the most items per page come back
when only `id` or `key` is requested, up to 5000; Jira may still answer with
fewer, which token paging absorbs.
"""


@dataclass
class Tally:
    """HTTP requests one reading has sent, retries not included."""

    requests: int = 0


@dataclass
class Count:
    """How many issues a query matched, and the keys seen while counting."""

    total: int
    keys: list[str] = field(default_factory=list)


class Search(abc.ABC):
    """One deployment's way of asking Jira for the issues a JQL query matches."""

    api: ClassVar[str]
    """Path prefix of the REST API version this deployment is read through."""

    search_path: ClassVar[str]

    def __init__(self, client: HttpClient, *, page_size: int, max_pages: int) -> None:
        self.client = client
        self.page_size = page_size
        self.max_pages = max_pages

    def describe(self, jql: str) -> str:
        """The first search request, for evidence: method, masked URL and JQL."""
        return f"{self.client.describe('POST', self.search_path)} jql={jql}"

    async def get(self, path: str, tally: Tally) -> Any:
        """GET one API resource under this deployment's API prefix."""
        tally.requests += 1
        return await self.client.json("GET", f"{self.api}/{path}")

    async def post_search(self, body: dict[str, Any], tally: Tally) -> Any:
        """Send one search request."""
        tally.requests += 1
        return await self.client.json("POST", self.search_path, json=body)

    @property
    def where(self) -> str:
        """The search endpoint, as error messages name it."""
        return f"POST {self.search_path}"

    @abc.abstractmethod
    async def issues(self, jql: str, fields: list[str], tally: Tally) -> list[Issue]:
        """Every issue the query matches, with the given fields."""

    @abc.abstractmethod
    async def count(self, jql: str, tally: Tally) -> Count:
        """How many issues the query matches, with as little data as possible."""

    def _too_many(self, jql: str) -> ConfigurationError:
        return ConfigurationError(
            f"the JQL {jql!r} matches too many issues: reading them would take "
            f"more than max_pages={self.max_pages} pages; narrow the query or "
            "raise max_pages."
        )


class CloudSearch(Search):
    """Jira Cloud: `POST /rest/api/3/search/jql`, paged by `nextPageToken`."""

    api = "/rest/api/3"
    search_path = "/rest/api/3/search/jql"

    async def issues(self, jql: str, fields: list[str], tally: Tally) -> list[Issue]:
        return await self._walk(jql, fields, self.page_size, tally)

    async def count(self, jql: str, tally: Tally) -> Count:
        page_size = max(self.page_size, CLOUD_ID_ONLY_PAGE_SIZE)
        issues = await self._walk(jql, ["key"], page_size, tally)
        return Count(total=len(issues), keys=[issue_key(issue) for issue in issues])

    async def _walk(
        self, jql: str, fields: list[str], page_size: int, tally: Tally
    ) -> list[Issue]:
        found: list[Issue] = []
        token: str | None = None
        seen: set[str] = set()

        for page in range(1, self.max_pages + 1):
            body: dict[str, Any] = {
                "jql": jql,
                "fields": fields,
                "maxResults": page_size,
            }
            if token is not None:
                body["nextPageToken"] = token
            answer = await self.post_search(body, tally)
            found += issue_list(answer, self.where)
            logger.debug("Jira Cloud search page %d: %d issues", page, len(found))

            token = self._next_token(answer, seen)
            if token is None:
                return found
            seen.add(token)

        raise self._too_many(jql)

    def _next_token(self, answer: dict[str, Any], seen: set[str]) -> str | None:
        """The token of the next page, or None after the last page."""
        is_last = answer.get("isLast")
        token = answer.get("nextPageToken")
        if is_last is not None and not isinstance(is_last, bool):
            raise TransientError(
                f"the Jira answer to {self.where} had a non-boolean 'isLast'"
            )
        if token is not None and not isinstance(token, str):
            raise TransientError(
                f"the Jira answer to {self.where} had a non-string 'nextPageToken'"
            )

        if is_last is True:
            return None
        if not token:
            if is_last is False:
                raise TransientError(
                    f"the Jira paging of {self.where} ended without an end marker: "
                    "a page said isLast=false but gave no nextPageToken"
                )
            # The docs leave the token out of the last page; without `isLast`
            # that absence is the only end marker there is.
            return None
        if token in seen:
            raise TransientError(
                f"the Jira paging of {self.where} looped: a page repeated an "
                "earlier nextPageToken"
            )
        return token


class DataCenterSearch(Search):
    """Jira Data Center / Server: `POST /rest/api/2/search`, paged by `startAt`."""

    api = "/rest/api/2"
    search_path = "/rest/api/2/search"

    async def issues(self, jql: str, fields: list[str], tally: Tally) -> list[Issue]:
        found: list[Issue] = []
        start = 0

        for page in range(1, self.max_pages + 1):
            body = {
                "jql": jql,
                "startAt": start,
                "maxResults": self.page_size,
                "fields": fields,
            }
            answer = await self.post_search(body, tally)
            issues = issue_list(answer, self.where)
            total = self._total(answer)
            found += issues
            logger.debug(
                "Jira search page %d: %d of %d issues", page, len(found), total
            )

            # A page may hold fewer issues than asked for: step by what came back.
            start += len(issues)
            if start >= total:
                return found
            if not issues:
                raise TransientError(
                    f"the Jira answer to {self.where} returned fewer issues than "
                    f"its total: an empty page at startAt={start} of total={total}"
                )

        raise self._too_many(jql)

    async def count(self, jql: str, tally: Tally) -> Count:
        body = {"jql": jql, "startAt": 0, "maxResults": 0, "fields": ["key"]}
        answer = await self.post_search(body, tally)
        issue_list(answer, self.where)
        return Count(total=self._total(answer))

    def _total(self, answer: dict[str, Any]) -> int:
        total = answer.get("total")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise TransientError(
                f"the Jira answer to {self.where} had no 'total' count"
            )
        return total
