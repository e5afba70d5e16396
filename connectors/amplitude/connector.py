"""The Amplitude connector: how often an event happened over a window of days.

One reading is one call of the Dashboard REST API's event segmentation, with
the project's API key and secret key as basic auth. Amplitude counts days in
the project's own time zone; the window's local days are sent as they are.

The answer's `seriesCollapsed` total is used when present: it is the value of
the chart's bar view and counts each user once over the whole range. Without
it the daily `series` is added up, which over-counts uniques.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from connectors.amplitude.config import AmplitudeConfig, EventCountParams
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

logger = logging.getLogger(__name__)

SEGMENTATION_PATH = "/api/2/events/segmentation"

MAX_DAILY_DAYS = 365
"""Amplitude's daily segmentation shows at most this many days."""

ZERO_NOTE = (
    "Amplitude has no data for event {event!r} in this window; the value is 0. "
    "Check the event type's spelling (custom events need ce:) if unexpected."
)
SUMMED_NOTE = (
    "Amplitude's answer had no seriesCollapsed total, so the daily values were "
    "added up; a user active on several days counts once per day."
)
LONG_NOTE = (
    "The window has {days} days; Amplitude's daily segmentation covers at most "
    "365, so the value may miss the earliest days."
)


class AmplitudeConnector(HttpConnector[AmplitudeConfig]):
    """Counts an Amplitude event over the key result's window."""

    type: ClassVar[str] = "amplitude"
    config_model = AmplitudeConfig
    metrics = metric_table(
        Metric(
            name="event_count",
            description=(
                "How many times an event happened (totals) or how many users "
                "did it (uniques) over the window's days."
            ),
            params=EventCountParams,
            needs_query=False,
            windowed=True,
        )
    )

    def get_base_url(self) -> str:
        """The region's Dashboard REST API host, or the configured `url`."""
        return self.config.base_url

    def get_auth(self) -> tuple[str, str]:
        """Basic auth: the project's API key as user, its secret key as password."""
        return (
            self.config.api_key.get_secret_value(),
            self.config.secret_key.get_secret_value(),
        )

    async def fetch(self, request: FetchRequest) -> Reading:
        """Count one event over the request's window.

        Args:
            request: The `event_count` metric with `EventCountParams` and a
                window.

        Returns:
            The count with the segmentation request and Amplitude's totals as
            evidence; None for an empty window.

        Raises:
            ConfigurationError: Unknown metric, refused keys or a query
                Amplitude rejects.
            TransientError: Amplitude failed or answered in an unexpected shape.
            RateLimitedError: Amplitude's rate or concurrency limit is reached.
        """
        if request.metric != "event_count":
            raise ConfigurationError(
                f"Amplitude source {self.name!r} has no metric "
                f"{request.metric!r}; use: event_count"
            )
        params = self.params_as(
            request, EventCountParams, "Give `event:` and optionally `measure: uniques`"
        )
        window = self.window_of(request)
        query = _query(params, window)
        where = self.client.describe("GET", SEGMENTATION_PATH, query)
        if window.last_day < window.first_day:
            return _empty_window(window, where)

        logger.debug("Counting Amplitude event %r with %s", params.event, where)
        try:
            body = await self.client.json("GET", SEGMENTATION_PATH, params=query)
        except ConfigurationError as exc:
            raise self._explained(exc) from None
        total, summary = _totals(body, where)
        return _reading(total, summary, params, window, where)

    def _explained(self, exc: ConfigurationError) -> ConfigurationError:
        if exc.status_code in (401, 403):
            hint = (
                "Check api_key and secret_key (Settings > Projects > General) "
                f"and that region {self.config.region!r} is the project's."
            )
        else:
            hint = "Check the event type's name."
        return ConfigurationError(
            f"Amplitude source {self.name!r}: {exc.message}. {hint}",
            status_code=exc.status_code,
        )


def _query(params: EventCountParams, window: Window) -> dict[str, str]:
    event = json.dumps({"event_type": params.event}, separators=(",", ":"))
    return {
        "e": event,
        "start": window.first_day.strftime("%Y%m%d"),
        "end": window.last_day.strftime("%Y%m%d"),
        "m": params.measure,
    }


def _totals(body: Any, where: str) -> tuple[float, dict[str, Any]]:
    """The window's total and the parts of the answer it came from."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise _malformed(where, "had no data object")
    daily = _first_series(data.get("series"), where)
    collapsed = _collapsed_total(data.get("seriesCollapsed"), where)

    summary: dict[str, Any] = {
        "series_collapsed": collapsed,
        "series_sum": sum(daily) if daily is not None else None,
        "x_values": data.get("xValues"),
        "series": daily,
    }
    if collapsed is not None:
        return collapsed, summary
    if daily is None:
        raise _malformed(where, "had neither seriesCollapsed nor series")
    return sum(daily), summary


def _first_series(series: Any, where: str) -> list[float] | None:
    if series is None:
        return None
    if not isinstance(series, list):
        raise _malformed(where, "had a series that is not a list")
    if not series:
        return []
    first = series[0]
    if not isinstance(first, list):
        raise _malformed(where, "had a series entry that is not a list of values")
    return [_number(value, where) for value in first]


def _collapsed_total(collapsed: Any, where: str) -> float | None:
    if collapsed is None or collapsed == []:
        return None
    group = collapsed[0] if isinstance(collapsed, list) else None
    cell = group[0] if isinstance(group, list) and group else None
    if not isinstance(cell, dict) or "value" not in cell:
        raise _malformed(where, "had a seriesCollapsed without a value")
    return _number(cell["value"], where)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransientError(
            f"the Amplitude answer to {where} gave {str(value)[:40]!r} where a "
            "number was expected; try again later"
        )
    return float(value)


def _malformed(where: str, what: str) -> TransientError:
    return TransientError(f"the Amplitude answer to {where} {what}; try again later")


def _reading(
    total: float,
    summary: dict[str, Any],
    params: EventCountParams,
    window: Window,
    where: str,
) -> Reading:
    notes = []
    if total == 0:
        notes.append(ZERO_NOTE.format(event=params.event))
    summed = summary["series_collapsed"] is None and bool(summary["series_sum"])
    if summed and params.measure == "uniques":
        notes.append(SUMMED_NOTE)
    days = (window.last_day - window.first_day).days + 1
    if days > MAX_DAILY_DAYS:
        notes.append(LONG_NOTE.format(days=days))

    summary = {
        "event": params.event,
        "measure": params.measure,
        "start": window.first_day.isoformat(),
        "end": window.last_day.isoformat(),
        "dates_in": "the Amplitude project's time zone",
        "total": total,
        **summary,
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
