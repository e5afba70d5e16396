"""The Jira connector: issue counts, done percentages and field sums from JQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar

import httpx
from pydantic import BaseModel, ValidationError

from connectors.base import (
    EVIDENCE_ITEM_CAP,
    ConfigurationError,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    Sleep,
    metric_table,
)
from connectors.http import HttpConnector
from connectors.jira.config import FieldSumParams, JiraConfig
from connectors.jira.model import (
    DONE,
    Issue,
    JiraField,
    field_list,
    inline_category,
    issue_key,
    numeric_value,
    resolve_field,
    status_categories,
    status_of,
)
from connectors.jira.search import CloudSearch, DataCenterSearch, Search, Tally

logger = logging.getLogger(__name__)

Handler = Callable[[str, BaseModel, Tally], Awaitable[Reading]]


class JiraConnector(HttpConnector[JiraConfig]):
    """Reads Jira Cloud or Jira Data Center / Server through JQL searches.

    Done-ness comes only from a status's category key (`done`), never from its
    name, which sites rename and translate at will.
    """

    type: ClassVar[str] = "jira"
    config_model = JiraConfig
    metrics = metric_table(
        Metric(
            name="issue_count",
            description="Number of issues the JQL query matches.",
        ),
        Metric(
            name="done_percent",
            description="Share of the matching issues whose status category is done.",
        ),
        Metric(
            name="field_sum",
            description="Sum of a numeric field over the matching issues.",
            params=FieldSumParams,
        ),
    )

    def __init__(
        self,
        name: str,
        config: JiraConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Set up the HTTP client and the search protocol of the deployment.

        Args:
            name: The source's name in the mapping, for messages.
            config: The validated source block.
            transport: An httpx transport to use instead of the network.
            sleep: What to await between retries.
        """
        super().__init__(name, config, transport=transport, sleep=sleep)
        search_class = CloudSearch if config.deployment == "cloud" else DataCenterSearch
        self.search: Search = search_class(
            self.client, page_size=config.page_size, max_pages=config.max_pages
        )
        self._statuses: dict[str, str] | None = None
        self._fields: list[JiraField] | None = None
        self._lookup_lock = asyncio.Lock()

    def get_headers(self) -> dict[str, str]:
        """JSON, plus a Bearer token for Data Center personal access tokens."""
        headers = super().get_headers()
        token = self.config.token
        if token is not None and not self.config.email:
            # Cloud never gets here: its config requires an e-mail with a token.
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        return headers

    def get_auth(self) -> tuple[str, str] | None:
        """Basic auth with the e-mail (Cloud) or username (Data Center)."""
        token = self.config.token
        if token is None or not self.config.email:
            return None
        return (self.config.email, token.get_secret_value())

    async def fetch(self, request: FetchRequest) -> Reading:
        """Answer one JQL question.

        Args:
            request: The metric, its JQL query and validated params.

        Returns:
            The value with its evidence; `done_percent` of no issues is None.

        Raises:
            ConfigurationError: Unknown metric or field, bad JQL, refused
                credentials, or more pages than `max_pages`.
            TransientError: Jira failed or answered in an unexpected shape.
        """
        handlers: dict[str, Handler] = {
            "issue_count": self._issue_count,
            "done_percent": self._done_percent,
            "field_sum": self._field_sum,
        }
        handler = handlers.get(request.metric)
        if handler is None:
            names = ", ".join(sorted(handlers))
            raise ConfigurationError(
                f"Jira has no metric {request.metric!r}; use one of: {names}."
            )

        jql = (request.query or "").strip()
        if not jql:
            raise ConfigurationError(
                f"Jira metric {request.metric!r} needs a query; write it in JQL."
            )
        return await handler(jql, request.params, Tally())

    async def _issue_count(self, jql: str, params: BaseModel, tally: Tally) -> Reading:
        count = await self.search.count(jql, tally)

        evidence = self._evidence(
            jql, tally, summary={"matched": count.total}, keys=count.keys
        )
        evidence.items_total = count.total
        return Reading(value=float(count.total), evidence=evidence)

    async def _done_percent(self, jql: str, params: BaseModel, tally: Tally) -> Reading:
        issues = await self.search.issues(jql, ["key", "status"], tally)
        done, notes = await self._done_flags(issues, tally)

        matched, finished = len(issues), sum(done)
        evidence = self._evidence(
            jql,
            tally,
            summary={"matched": matched, "done": finished},
            keys=[issue_key(issue) for issue in issues],
        )
        if not matched:
            notes.append("No issue matches the query, so there is no percentage.")
            return Reading(value=None, evidence=evidence, notes=notes)
        return Reading(value=100.0 * finished / matched, evidence=evidence, notes=notes)

    async def _field_sum(self, jql: str, params: BaseModel, tally: Tally) -> Reading:
        wanted = _field_sum_params(params)
        field = await self._field(wanted.field, tally)

        requested = (
            ["key", "status", field.id] if wanted.done_only else ["key", field.id]
        )
        issues = await self.search.issues(jql, requested, tally)
        counted: Sequence[Issue] = issues
        notes: list[str] = []
        if wanted.done_only:
            done, notes = await self._done_flags(issues, tally)
            counted = [issue for issue, flag in zip(issues, done, strict=True) if flag]

        values = [numeric_value(issue, field, self.search.where) for issue in counted]
        missing = sum(value is None for value in values)
        if missing:
            notes.append(
                f"{missing} issues have no {field.name!r} value; counted as 0."
            )
        summary = {
            "field": field.name,
            "field_id": field.id,
            "matched": len(issues),
            "summed": len(counted),
            "issues_without_value": missing,
            "done_only": wanted.done_only,
        }
        evidence = self._evidence(
            jql, tally, summary=summary, keys=[issue_key(issue) for issue in counted]
        )
        total = sum(value for value in values if value is not None)
        return Reading(value=total, evidence=evidence, notes=notes)

    async def _done_flags(
        self, issues: Sequence[Issue], tally: Tally
    ) -> tuple[list[bool], list[str]]:
        """Whether each issue is done, by status category key; plus notes."""
        where = self.search.where
        statuses = [status_of(issue, where) for issue in issues]
        categories = [inline_category(status) for status in statuses]
        if None in categories:
            # Some answers omit the category: the status list maps ids to it.
            by_id = await self._status_categories(tally)
            categories = [
                category or by_id.get(str(status.get("id")))
                for status, category in zip(statuses, categories, strict=True)
            ]

        notes: list[str] = []
        unknown = [
            issue_key(issue)
            for issue, category in zip(issues, categories, strict=True)
            if category is None
        ]
        if unknown:
            logger.warning("Jira issues with an unknown status: %s", unknown[:10])
            notes.append(
                f"{len(unknown)} issues have a status Jira's status list does not "
                f"know (e.g. {unknown[0]}); counted as not done."
            )
        return [category == DONE for category in categories], notes

    async def _status_categories(self, tally: Tally) -> dict[str, str]:
        """Status id to category key, fetched at most once per connector."""
        async with self._lookup_lock:
            if self._statuses is None:
                body = await self.search.get("status", tally)
                self._statuses = status_categories(
                    body, f"GET {self.search.api}/status"
                )
            return self._statuses

    async def _field(self, wanted: str, tally: Tally) -> JiraField:
        """The field a mapping names, from the field list fetched once."""
        async with self._lookup_lock:
            if self._fields is None:
                body = await self.search.get("field", tally)
                self._fields = field_list(body, f"GET {self.search.api}/field")
        return resolve_field(wanted, self._fields)

    def _evidence(
        self, jql: str, tally: Tally, *, summary: dict[str, object], keys: list[str]
    ) -> Evidence:
        return Evidence(
            request=self.search.describe(jql),
            requests=tally.requests,
            summary=summary,
            items=keys[:EVIDENCE_ITEM_CAP],
            items_total=len(keys),
        )


def _field_sum_params(params: BaseModel) -> FieldSumParams:
    if isinstance(params, FieldSumParams):
        return params
    try:
        return FieldSumParams.model_validate(params.model_dump())
    except ValidationError as exc:
        raise ConfigurationError(
            "Jira metric 'field_sum' needs params with a `field` to sum, "
            "e.g. field: Story Points."
        ) from exc
