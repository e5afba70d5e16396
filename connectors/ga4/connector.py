"""The GA4 connector: one metric of a GA4 property over a window of days.

Each reading is one `runReport` call on the GA4 Data API, authenticated with
a service account through the OAuth 2.0 JWT bearer flow. GA4 counts days in
the property's own time zone; the window's local days are sent as they are,
and a note says so when the property's zone differs from the mapping's.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from connectors.base import (
    ConfigurationError,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    Sleep,
    Window,
    metric_table,
)
from connectors.ga4.auth import TokenSource
from connectors.ga4.config import GA4Config, MetricParams
from connectors.ga4.report import ReportValue, read_report, report_body
from connectors.http import HttpConnector

logger = logging.getLogger(__name__)

API_VERSION = "v1beta"

PERMISSION_HINT = (
    "Add the service account {email} as a Viewer of GA4 property {property} "
    "(Admin > Property access management) and enable the Google Analytics "
    "Data API in its Google Cloud project."
)

# The shared client renders Google's {"error": {...}} body as
# "code: N; message: TEXT; status: STATUS"; only TEXT and STATUS matter here.
_GOOGLE_ERROR = re.compile(
    r"message: (?P<text>.*?)(?:; status: (?P<status>[A-Z_]+)(?:;|$)|$)"
)


class GA4Connector(HttpConnector[GA4Config]):
    """Reads one metric of a GA4 property over the key result's window."""

    type: ClassVar[str] = "ga4"
    config_model = GA4Config
    metrics = metric_table(
        Metric(
            name="metric",
            description=(
                "A GA4 metric (e.g. activeUsers, sessions) over the window's "
                "days, in the property's time zone."
            ),
            params=MetricParams,
            needs_query=False,
            windowed=True,
        )
    )

    def __init__(
        self,
        name: str,
        config: GA4Config,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Set up a connector for one GA4 property.

        Args:
            name: The source's name in the mapping, for messages.
            config: The validated source block.
            transport: An httpx transport to use instead of the network.
            sleep: What to await between retries.
            clock: Wall-clock seconds since the epoch, for JWTs and token
                expiry (a fake one in tests).
        """
        super().__init__(name, config, transport=transport, sleep=sleep)
        account = config.service_account()
        self._tokens = TokenSource(
            account,
            self.client,
            token_url=config.token_endpoint(account),
            source=name,
            clock=clock,
        )

    async def fetch(self, request: FetchRequest) -> Reading:
        """Read one GA4 metric over the request's window.

        Args:
            request: The `metric` metric with `MetricParams` and a window.

        Returns:
            The metric's value over the window's days, with the report request
            and GA4's metadata as evidence; None for an empty window.

        Raises:
            ConfigurationError: Unknown metric, bad filter, refused key or
                missing access to the property.
            TransientError: GA4 failed or answered in an unexpected shape.
            RateLimitedError: GA4's quota is exhausted for now.
        """
        if request.metric != "metric":
            raise ConfigurationError(
                f"GA4 source {self.name!r} has no metric {request.metric!r}; "
                "use: metric"
            )
        params = self.params_as(
            request,
            MetricParams,
            "Give `metric:` with a GA4 metric API name, e.g. activeUsers",
        )
        window = self.window_of(request)
        if window.last_day < window.first_day:
            return _empty_window(window, self.client.describe("POST", self._path))

        body = report_body(params, window)
        where = self.client.describe("POST", self._path)
        logger.debug("Running a GA4 report for %s with %s", params.metric, where)
        answer, requests = await self._run_report(body, params)
        report = read_report(answer, params.metric, where)
        return self._reading(report, body, window, where, requests)

    @property
    def _path(self) -> str:
        return f"/{API_VERSION}/properties/{self.config.property_id}:runReport"

    async def _run_report(
        self, body: dict[str, Any], params: MetricParams
    ) -> tuple[Any, int]:
        """The report's JSON answer and the requests it took, token included."""
        token, fetched = await self._tokens.token()
        try:
            answer = await self._post(token, body, params)
        except ConfigurationError as exc:
            # A token Google no longer accepts (revoked, clock skew) gets one
            # fresh try; anything else is final.
            if exc.status_code != 401:
                raise
            self._tokens.invalidate()
            token, _ = await self._tokens.token()
            answer = await self._post(token, body, params)
            return answer, 3 + fetched
        return answer, 1 + fetched

    async def _post(
        self, token: str, body: dict[str, Any], params: MetricParams
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            return await self.client.json(
                "POST", self._path, json=body, headers=headers
            )
        except ConfigurationError as exc:
            raise self._explained(exc, params) from None

    def _explained(
        self, exc: ConfigurationError, params: MetricParams
    ) -> ConfigurationError:
        """The error in GA4's own words, with what the admin can do about it."""
        match = _GOOGLE_ERROR.search(exc.message)
        said = match.group("text") if match else exc.message
        status = match.group("status") if match and match.group("status") else ""
        code = f"HTTP {exc.status_code} {status}".strip()
        prefix = f"GA4 property {self.config.property_id} of source {self.name!r}"

        if exc.status_code == 403:
            hint = PERMISSION_HINT.format(
                email=self._tokens.account.client_email,
                property=self.config.property_id,
            )
        elif exc.status_code == 404:
            hint = "Check property_id against Admin > Property details."
        elif exc.status_code == 401:
            hint = "Check that the service account key is still active."
        else:
            hint = (
                f"Check that {params.metric!r} is a GA4 metric API name and "
                "that dimension_filter names real dimensions."
            )
        return ConfigurationError(
            f"{prefix} refused the report ({code}): {said} {hint}",
            status_code=exc.status_code,
        )

    def _reading(
        self,
        report: ReportValue,
        body: dict[str, Any],
        window: Window,
        where: str,
        requests: int,
    ) -> Reading:
        summary: dict[str, Any] = {
            "property_id": self.config.property_id,
            "metric": body["metrics"][0]["name"],
            "date_range": body["dateRanges"][0],
            "dimension_filter": body.get("dimensionFilter"),
            **report.summary,
            "window_time_zone": _zone_name(window),
            "dates_in": "the GA4 property's time zone",
        }
        notes = list(report.notes)
        zone_note = _zone_note(report.summary.get("property_time_zone"), window)
        if zone_note:
            notes.append(zone_note)
        if notes:
            summary["notes"] = notes
        evidence = Evidence(request=where, requests=requests, summary=summary)
        return Reading(value=report.value, evidence=evidence, notes=notes)


def _zone_name(window: Window) -> str | None:
    zone = window.start.tzinfo
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else window.start.tzname()


def _zone_note(property_zone: object, window: Window) -> str | None:
    window_zone = getattr(window.start.tzinfo, "key", None)
    if not isinstance(property_zone, str) or not isinstance(window_zone, str):
        return None
    if property_zone == window_zone:
        return None
    return (
        f"GA4 counts days in the property's time zone {property_zone}, while "
        f"the window's days are in {window_zone}; the days may be offset."
    )


def _empty_window(window: Window, where: str) -> Reading:
    note = (
        f"the window starting {window.first_day.isoformat()} has no whole day "
        "yet, so there is nothing to measure"
    )
    evidence = Evidence(request=where, requests=0, summary={"note": note})
    return Reading(value=None, evidence=evidence, notes=[note])
