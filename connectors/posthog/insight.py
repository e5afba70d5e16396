"""Takes the current value out of a saved PostHog trends insight.

A trends insight's `result` is a list of series, one per event or action
(and per breakdown value, or per compared period). Recorded answers show two
shapes of a series:

* Aggregated displays (BoldNumber, pie, table, world map) carry
  `aggregated_value`: the number PostHog itself shows for the insight,
  computed over the whole date range with the series' own math (so unique
  users over the range, not a sum of daily uniques). `data` is empty there
  and `count` is not that number (0 in the recorded BoldNumber answer).
* Time-series displays (line, bar, cumulative) carry `data`, one point per
  interval, and `count`, the sum of those points.

For the second shape the last point is taken, not `count`: the sum is only
meaningful for plain event counts, while the last point is what the graph
shows as the latest value for any math (daily active users, averages, a
cumulative line). The last point covers the current interval, so it may be
partial; evidence names its day. `count` is the fallback when a series has
no points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConfigurationError, TransientError

TRENDS_KINDS = frozenset({"TrendsQuery", "TRENDS"})
"""Insight kinds this module reads: the query node kind and the legacy name."""

WRAPPER_KINDS = frozenset({"InsightVizNode", "DataVisualizationNode", "DataTableNode"})
"""Query nodes that hold the real query in `source`."""

SERIES_CAP = 10
"""Series labels listed when an insight has several."""


@dataclass
class InsightValue:
    """The number read from an insight and how it was found."""

    value: float | None
    series: str
    taken: str
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def insight_kind(insight: dict[str, Any]) -> str | None:
    """The insight's kind: its query node kind, else its legacy filter name."""
    query = insight.get("query")
    if isinstance(query, dict):
        source = query.get("source") if query.get("kind") in WRAPPER_KINDS else query
        if isinstance(source, dict) and isinstance(source.get("kind"), str):
            return str(source["kind"])
    filters = insight.get("filters")
    if isinstance(filters, dict) and isinstance(filters.get("insight"), str):
        return str(filters["insight"])
    return None


def read_insight(
    insight: dict[str, Any], series: int | None, name: str, where: str
) -> InsightValue:
    """The current value of a trends insight.

    Args:
        insight: The insight object as the insights API returns it.
        series: Index of the series to read; needed when there are several.
        name: How messages call the insight, e.g. "insight 14".
        where: The request, for messages.

    Raises:
        ConfigurationError: Not a trends insight, several series and no
            `series` given, or `series` out of range.
        TransientError: The insight has no computed result yet, or its
            result has an unexpected shape.
    """
    kind = insight_kind(insight)
    if kind is not None and kind not in TRENDS_KINDS:
        raise ConfigurationError(
            f"{name} is a {kind} insight; only trends insights can be read. "
            "Use the hogql metric with a SQL query for other numbers"
        )
    result = insight.get("result")
    if result is None:
        raise TransientError(
            f"PostHog has no computed result for {name} yet ({where}); try again later"
        )
    if not isinstance(result, list) or not all(isinstance(s, dict) for s in result):
        raise _malformed(name, where, "its result is not a list of series")
    if not result:
        note = f"{name} has no series in its date range"
        return InsightValue(None, "", "", notes=[note])

    index = _series_index(result, series, name)
    return _series_value(result[index], index, name, where)


def series_label(series: dict[str, Any]) -> str:
    """A series' label with its breakdown value and compared period, if any."""
    action = series.get("action")
    action_name = action.get("name") if isinstance(action, dict) else None
    label = str(series.get("label") or action_name or "?")
    breakdown = series.get("breakdown_value")
    if breakdown not in (None, ""):
        label += f" / {breakdown}"
    compare = series.get("compare_label")
    if compare:
        label += f" ({compare})"
    return label


def _series_index(result: list[dict[str, Any]], series: int | None, name: str) -> int:
    labels = [f"{i}: {series_label(s)}" for i, s in enumerate(result)]
    shown = ", ".join(labels[:SERIES_CAP])
    if len(labels) > SERIES_CAP:
        shown += f" and {len(labels) - SERIES_CAP} more"
    if series is None:
        if len(result) == 1:
            return 0
        raise ConfigurationError(
            f"{name} has {len(result)} series ({shown}); set params.series to "
            "the index of the one to read"
        )
    if series >= len(result):
        raise ConfigurationError(
            f"{name} has no series {series}; it has {len(result)} ({shown})"
        )
    return series


def _series_value(
    series: dict[str, Any], index: int, name: str, where: str
) -> InsightValue:
    label = series_label(series)
    summary: dict[str, Any] = {"series": label, "series_index": index}
    if "count" in series:
        summary["count"] = series["count"]

    aggregated = series.get("aggregated_value")
    if aggregated is not None:
        value = _number(aggregated, name, where, "aggregated_value")
        summary.update(taken="aggregated_value", aggregated_value=aggregated)
        return InsightValue(value, label, "aggregated_value", summary)

    data = series.get("data")
    if isinstance(data, list) and data:
        days = series.get("days")
        day = days[-1] if isinstance(days, list) and len(days) == len(data) else None
        summary.update(taken="last point of data", points=len(data), day=day)
        last = data[-1]
        if last is None:
            note = f"the last point of {name} ({day or 'latest interval'}) is empty"
            return InsightValue(None, label, "data", summary, [note])
        value = _number(last, name, where, "data")
        return InsightValue(value, label, "data", summary)

    if "count" in series:
        summary["taken"] = "count"
        value = _number(series["count"], name, where, "count")
        return InsightValue(value, label, "count", summary)
    raise _malformed(name, where, f"series {label!r} has no value")


def _number(value: Any, name: str, where: str, key: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            return float(value)
    raise _malformed(name, where, f"its {key} is {value!r}, not a number")


def _malformed(name: str, where: str, problem: str) -> TransientError:
    return TransientError(
        f"PostHog answered {where} for {name} in an unexpected shape "
        f"({problem}); try again later"
    )
