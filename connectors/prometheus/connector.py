"""The Prometheus connector: the value of a PromQL query, now.

One instant query (`GET /api/v1/query`) per key result, evaluated at the
server's current time. The query must come down to one series or a scalar;
an empty answer means nothing is in scope.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.base import (
    ConfigurationError,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    metric_table,
)
from connectors.http import HttpConnector
from connectors.prometheus.config import PrometheusConfig
from connectors.prometheus.result import (
    parse_answer,
    sample_value,
    single_sample,
)

logger = logging.getLogger(__name__)

QUERY_PATH = "/api/v1/query"

NO_SERIES_NOTE = "the query returned no series"

STATUS_HINTS = {
    400: "fix the PromQL",
    401: "check the source's token or username and password",
    403: "check the source's token or username and password",
    404: "check the source's url (the server's base, without /api/v1)",
    422: "fix the PromQL",
}


def request_headers(config: PrometheusConfig) -> dict[str, str]:
    """Headers sent with every request to the server."""
    headers = {"Accept": "application/json", "User-Agent": "okrsync"}
    if config.token is not None:
        headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
    return headers


class PrometheusConnector(HttpConnector[PrometheusConfig]):
    """Reads the current value of a PromQL query."""

    type: ClassVar[str] = "prometheus"
    config_model = PrometheusConfig
    metrics = metric_table(
        Metric(
            name="query",
            description=(
                "The current value of a PromQL query that yields one series "
                "or a scalar."
            ),
        ),
    )

    def get_headers(self) -> dict[str, str]:
        """Headers sent with every request.

        Returns:
            JSON accept, and the bearer token if the source has one.
        """
        return request_headers(self.config)

    def get_auth(self) -> tuple[str, str] | None:
        """Basic auth when the source has a username and password.

        Returns:
            The (username, password) pair, or None.
        """
        return self.config.basic_auth()

    async def fetch(self, request: FetchRequest) -> Reading:
        """Evaluate the key result's PromQL at the server's current time.

        Args:
            request: The `query` metric with its PromQL.

        Returns:
            The value with its evidence; value None when no series matched.

        Raises:
            ConfigurationError: The PromQL is wrong, returns several series,
                a range vector or a value that is not a finite number, or the
                credentials were refused.
            TransientError: Prometheus failed or answered in another shape.
            RateLimitedError: Prometheus (or a proxy) asked for a pause.
        """
        promql = self._promql_of(request)
        params = {"query": promql}
        where = self.client.describe("GET", QUERY_PATH, params)
        logger.debug("Evaluating PromQL with %s", where)

        body = await self._get(params)
        answer = parse_answer(body, where)
        sample = single_sample(answer, where)

        summary: dict[str, Any] = {"query": promql, "resultType": answer.result_type}
        notes = [f"Prometheus warned: {warning}" for warning in answer.warnings]
        if sample is None:
            evidence = Evidence(request=where, summary=summary)
            return Reading(
                value=None, evidence=evidence, notes=[NO_SERIES_NOTE, *notes]
            )

        value = sample_value(sample, where)
        summary.update(
            labels=sample.labels,
            timestamp=sample.timestamp,
            time=datetime.fromtimestamp(sample.timestamp, UTC).isoformat(),
            value=sample.text,
        )
        evidence = Evidence(request=where, summary=summary)
        return Reading(value=value, evidence=evidence, notes=notes)

    async def _get(self, params: dict[str, str]) -> Any:
        """Send the query; say which source a refusal concerns, and what to do."""
        try:
            return await self.client.json("GET", QUERY_PATH, params=params)
        except ConfigurationError as exc:
            hint = STATUS_HINTS.get(exc.status_code or 0)
            suffix = f"; {hint}" if hint else ""
            raise ConfigurationError(
                f"Prometheus source {self.name!r} refused the query: "
                f"{exc.message}{suffix}",
                status_code=exc.status_code,
            ) from None

    def _promql_of(self, request: FetchRequest) -> str:
        if request.metric != "query":
            raise ConfigurationError(
                f"Prometheus source {self.name!r} has no metric "
                f"{request.metric!r}; use: query"
            )
        promql = (request.query or "").strip()
        if not promql:
            raise ConfigurationError(
                f"the query metric of Prometheus source {self.name!r} needs a "
                '`query:` in PromQL, e.g. sum(up{job="api"})'
            )
        return promql
