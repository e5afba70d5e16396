"""The Mixpanel connector: how often an event happened over a window of days.

One reading is one call of the Query API's segmentation endpoint, with the
service account as basic auth. Mixpanel counts days in the project's own time
zone; the window's local days are sent as they are.

`general` counts are asked for per day and added up. For `unique` the whole
window is asked for as a single bucket (`interval` = the window's days), so a
person active on several days counts once; should Mixpanel still answer with
several buckets, they are added up and a note says the sum may over-count.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from connectors.base import (
    ConfigurationError,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    TransientError,
    Window,
    metric_table,
)
from connectors.http import HttpConnector
from connectors.mixpanel.config import EventCountParams, MixpanelConfig

logger = logging.getLogger(__name__)

SEGMENTATION_PATH = "/api/query/segmentation"

ZERO_NOTE = (
    "Mixpanel has no data for event {event!r} in this window; the value is 0. "
    "Check the event's spelling if that is unexpected."
)
OVERCOUNT_NOTE = (
    "Mixpanel answered with {buckets} buckets of unique users; their sum counts "
    "a person active in several buckets more than once."
)


class MixpanelConnector(HttpConnector[MixpanelConfig]):
    """Counts a Mixpanel event over the key result's window."""

    type: ClassVar[str] = "mixpanel"
    config_model = MixpanelConfig
    metrics = metric_table(
        Metric(
            name="event_count",
            description=(
                "How many times an event happened (general) or how many people "
                "did it (unique) over the window's days."
            ),
            params=EventCountParams,
            needs_query=False,
            windowed=True,
        )
    )

    def get_base_url(self) -> str:
        """The region's Query API host, or the configured `url`."""
        return self.config.base_url

    def get_auth(self) -> tuple[str, str]:
        """Basic auth with the service account's username and secret."""
        return (self.config.username, self.config.secret.get_secret_value())

    async def fetch(self, request: FetchRequest) -> Reading:
        """Count one event over the request's window.

        Args:
            request: The `event_count` metric with `EventCountParams` and a
                window.

        Returns:
            The count with the segmentation request and the per-bucket values
            as evidence; None for an empty window.

        Raises:
            ConfigurationError: Unknown metric, refused service account or a
                query Mixpanel rejects.
            TransientError: Mixpanel failed or answered in an unexpected shape.
            RateLimitedError: Mixpanel's query limit is reached for now.
        """
        if request.metric != "event_count":
            raise ConfigurationError(
                f"Mixpanel source {self.name!r} has no metric {request.metric!r}; "
                "use: event_count"
            )
        params = self.params_as(
            request, EventCountParams, "Give `event:` and optionally `type: unique`"
        )
        window = self.window_of(request)
        query = self._query(params, window)
        where = self.client.describe("GET", SEGMENTATION_PATH, query)
        if window.last_day < window.first_day:
            return _empty_window(window, where)

        logger.debug("Counting Mixpanel event %r with %s", params.event, where)
        try:
            body = await self.client.json("GET", SEGMENTATION_PATH, params=query)
        except ConfigurationError as exc:
            raise self._explained(exc) from None
        buckets = _buckets(body, params.event, where)
        return _reading(buckets, params, query, where)

    def _query(self, params: EventCountParams, window: Window) -> dict[str, str]:
        query = {
            "project_id": self.config.project_id,
            "event": params.event,
            "from_date": window.first_day.isoformat(),
            "to_date": window.last_day.isoformat(),
            "type": params.type,
        }
        if params.type == "unique":
            days = (window.last_day - window.first_day).days + 1
            query["interval"] = str(max(days, 1))
        else:
            query["unit"] = "day"
        if self.config.workspace_id is not None:
            query["workspace_id"] = self.config.workspace_id
        return query

    def _explained(self, exc: ConfigurationError) -> ConfigurationError:
        if exc.status_code in (401, 403):
            hint = (
                "Check the service account's username and secret, and that it "
                f"is a member of project {self.config.project_id} in region "
                f"{self.config.region!r}."
            )
        else:
            hint = "Check the event name and project_id."
        return ConfigurationError(
            f"Mixpanel source {self.name!r}: {exc.message}. {hint}",
            status_code=exc.status_code,
        )


def _buckets(body: Any, event: str, where: str) -> dict[str, float]:
    """The event's value per bucket (date), from a segmentation answer."""
    data = body.get("data") if isinstance(body, dict) else None
    values = data.get("values") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        raise TransientError(
            f"the Mixpanel answer to {where} had no data.values object; try again later"
        )
    per_date = values.get(event, {})
    if not isinstance(per_date, dict):
        raise TransientError(
            f"the Mixpanel answer to {where} had no per-date counts for "
            f"{event!r}; try again later"
        )
    return {str(day): _count(value, day, where) for day, value in per_date.items()}


def _count(value: Any, day: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransientError(
            f"the Mixpanel answer to {where} gave {str(value)[:40]!r} for {day}, "
            "which is not a number; try again later"
        )
    return float(value)


def _reading(
    buckets: dict[str, float],
    params: EventCountParams,
    query: dict[str, str],
    where: str,
) -> Reading:
    total = sum(buckets.values())
    notes = []
    if not buckets or total == 0:
        notes.append(ZERO_NOTE.format(event=params.event))
    if params.type == "unique" and len(buckets) > 1:
        notes.append(OVERCOUNT_NOTE.format(buckets=len(buckets)))

    summary: dict[str, Any] = {
        "event": params.event,
        "type": params.type,
        "from_date": query["from_date"],
        "to_date": query["to_date"],
        "dates_in": "the Mixpanel project's time zone",
        "total": total,
        "values": dict(sorted(buckets.items())),
    }
    if notes:
        summary["notes"] = notes
    evidence = Evidence(request=where, requests=1, summary=summary)
    return Reading(value=total, evidence=evidence, notes=notes)


def _empty_window(window: Window, where: str) -> Reading:
    note = (
        f"the window starting {window.first_day.isoformat()} has no whole day "
        "yet, so there is nothing to measure"
    )
    evidence = Evidence(request=where, requests=0, summary={"note": note})
    return Reading(value=None, evidence=evidence, notes=[note])
