"""The PostHog connector: HogQL query results and saved trends insights.

`hogql` runs a SQL (HogQL) query through the query API
(`POST /api/projects/{project_id}/query/`) with the key result's window as
placeholder values and takes the first cell. `insight` reads a saved insight
(`GET /api/projects/{project_id}/insights/{id}/`) over the insight's own date
range. Both authenticate with a personal API key sent as a Bearer token.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from connectors.base import (
    ConfigurationError,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    TransientError,
    metric_table,
)
from connectors.http import HttpConnector
from connectors.posthog.config import InsightParams, PostHogConfig
from connectors.posthog.hogql import (
    first_cell,
    placeholders_used,
    query_body,
    window_values,
)
from connectors.posthog.insight import insight_kind, read_insight

logger = logging.getLogger(__name__)

REFRESH = "blocking"
"""Insight refresh mode: recalculate when the cached result is stale.

Without it the insights API only returns what is cached (`force_cache`),
which is nothing for an insight nobody has opened lately.
"""

STATUS_HINTS = {
    400: "check it in PostHog's SQL editor",
    401: "check the personal API key",
    403: (
        "the personal API key needs the query:read and insight:read scopes "
        "and access to this project"
    ),
    404: "check project_id and the insight id",
}


class PostHogConnector(HttpConnector[PostHogConfig]):
    """Reads numbers from PostHog with HogQL queries or saved insights."""

    type: ClassVar[str] = "posthog"
    config_model = PostHogConfig
    metrics = metric_table(
        Metric(
            name="hogql",
            description=(
                "The first cell of a HogQL (SQL) query; {window_start} and "
                "{window_end} stand for the key result's window."
            ),
            windowed=True,
        ),
        Metric(
            name="insight",
            description=(
                "The current value of a saved trends insight over its own date "
                "range: its aggregated value, else its latest point."
            ),
            params=InsightParams,
            needs_query=False,
        ),
    )

    def get_headers(self) -> dict[str, str]:
        """Headers sent with every request, the personal API key included.

        Returns:
            JSON accept and `Authorization: Bearer <personal API key>`.
        """
        token = self.config.token.get_secret_value()
        return {
            "Accept": "application/json",
            "User-Agent": "okrsync",
            "Authorization": f"Bearer {token}",
        }

    @property
    def _project(self) -> str:
        return f"/api/projects/{self.config.project_id}"

    async def fetch(self, request: FetchRequest) -> Reading:
        """Ask PostHog one question.

        Args:
            request: `hogql` with a HogQL query and the window, or `insight`
                with `InsightParams`.

        Returns:
            The value with its evidence; value None when the query returns no
            rows or a null, or the insight has no series.

        Raises:
            ConfigurationError: The query, insight, project or key is wrong,
                or the answer is not a number.
            TransientError: PostHog failed, has no result yet, or answered in
                an unexpected shape.
            RateLimitedError: PostHog asked for a pause (HTTP 429).
        """
        if request.metric == "hogql":
            return await self._hogql(request)
        if request.metric == "insight":
            return await self._insight(self._insight_params(request.params))
        raise ConfigurationError(
            f"PostHog source {self.name!r} has no metric {request.metric!r}; "
            f"use one of: {', '.join(self.metrics)}"
        )

    async def _hogql(self, request: FetchRequest) -> Reading:
        query = (request.query or "").strip()
        if not query:
            raise ConfigurationError(
                f"the hogql metric of PostHog source {self.name!r} needs a "
                "`query:` in HogQL, e.g. SELECT count() FROM events"
            )
        used = placeholders_used(query)
        if used and request.window is None:
            raise ConfigurationError(
                f"the HogQL query of PostHog source {self.name!r} uses "
                f"{{{used[0]}}} but the key result has no window; give it a "
                "`window:` or remove the placeholder"
            )

        values = window_values(request.window)
        path = f"{self._project}/query/"
        where = self.client.describe("POST", path)
        logger.debug("Running a HogQL query with %s", where)
        body = await self._send(
            "POST",
            path,
            f"the HogQL query of PostHog source {self.name!r}",
            json=query_body(query, values),
        )

        cell = first_cell(body, where)
        evidence = Evidence(
            request=where,
            summary={"query": query, "values": values, **cell.summary},
        )
        return Reading(value=cell.value, evidence=evidence, notes=cell.notes)

    async def _insight(self, params: InsightParams) -> Reading:
        insight, where = await self._get_insight(params)
        label = f"insight {params.insight!r} of PostHog source {self.name!r}"

        read = read_insight(insight, params.series, label, where)
        summary = {
            "insight": insight.get("id"),
            "short_id": insight.get("short_id"),
            "name": insight.get("name") or insight.get("derived_name"),
            "kind": insight_kind(insight),
            "last_refresh": insight.get("last_refresh"),
            **read.summary,
        }
        evidence = Evidence(request=where, summary=summary)
        return Reading(value=read.value, evidence=evidence, notes=read.notes)

    async def _get_insight(self, params: InsightParams) -> tuple[dict[str, Any], str]:
        what = f"insight {params.insight!r} of PostHog source {self.name!r}"
        if isinstance(params.insight, int):
            path = f"{self._project}/insights/{params.insight}/"
            query = {"refresh": REFRESH}
        else:
            # Short ids are only accepted as a filter of the list endpoint.
            path = f"{self._project}/insights/"
            query = {"short_id": params.insight, "refresh": REFRESH}
        where = self.client.describe("GET", path, query)
        body = await self._send("GET", path, what, params=query)

        if isinstance(params.insight, int):
            if not isinstance(body, dict):
                raise _malformed(where, "it is not an insight object")
            return body, where
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise _malformed(where, "it has no results list")
        found = [r for r in results if isinstance(r, dict)]
        if not found:
            raise ConfigurationError(
                f"no insight has the short id {params.insight!r} in PostHog "
                f"project {self.config.project_id} ({where}); copy it from the "
                "insight's URL, /insights/<short id>"
            )
        return found[0], where

    async def _send(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """Send one request; say which key result a refusal concerns."""
        try:
            return await self.client.json(method, path, **kwargs)
        except ConfigurationError as exc:
            hint = STATUS_HINTS.get(exc.status_code or 0)
            suffix = f"; {hint}" if hint else ""
            raise ConfigurationError(
                f"PostHog refused {what}: {exc.message}{suffix}",
                status_code=exc.status_code,
            ) from None

    def _insight_params(self, params: BaseModel) -> InsightParams:
        if isinstance(params, InsightParams):
            return params
        try:
            return InsightParams.model_validate(params.model_dump())
        except ValidationError as exc:
            problems = "; ".join(error["msg"] for error in exc.errors())
            raise ConfigurationError(
                f"the insight params of PostHog source {self.name!r} are "
                f"invalid: {problems}. Give `insight:` with the id or short id"
            ) from None


def _malformed(where: str, problem: str) -> TransientError:
    return TransientError(
        f"the PostHog answer to {where} is malformed ({problem}); try again later"
    )
