"""The GA4 `runReport` request for one metric, and reading its answer.

With no dimensions a report has at most one row: the metric's total over the
date range. GA4 leaves out rows whose metrics are all zero, so an answer with
metric headers but no rows and no (or a zero) `rowCount` means zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from connectors.base import TransientError, Window
from connectors.ga4.config import MetricParams

NO_ROWS_NOTE = (
    "GA4 returned no rows for this date range; it leaves out rows whose "
    "metrics are all zero, so the value is 0."
)
THRESHOLD_NOTE = (
    "GA4 applied data thresholding to this report; the value may be lower "
    "than the true one."
)
SAMPLED_NOTE = "GA4 sampled the events behind this report; the value is an estimate."


@dataclass
class ReportValue:
    """The metric's value with what the answer said about it."""

    value: float
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def report_body(params: MetricParams, window: Window) -> dict[str, Any]:
    """The runReport request body: one metric over the window's local days."""
    body: dict[str, Any] = {
        "dateRanges": [
            {
                "startDate": window.first_day.isoformat(),
                "endDate": window.last_day.isoformat(),
            }
        ],
        "metrics": [{"name": params.metric}],
    }
    if params.dimension_filter is not None:
        body["dimensionFilter"] = params.dimension_filter
    return body


def read_report(body: Any, metric: str, where: str) -> ReportValue:
    """The metric's value from a runReport answer, or TransientError."""
    if not isinstance(body, dict):
        raise _malformed(where, "was not a JSON object")
    header = _metric_header(body, where)
    found = body.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    summary: dict[str, Any] = {
        "metric_header": header.get("name"),
        "metric_type": header.get("type"),
        "row_count": body.get("rowCount", 0),
        "property_time_zone": metadata.get("timeZone"),
        "currency_code": metadata.get("currencyCode"),
    }
    notes = _metadata_notes(metadata)

    rows = body.get("rows") or []
    if not isinstance(rows, list):
        raise _malformed(where, "had a 'rows' value that is not a list")
    if not rows:
        return _no_rows(body, metadata, ReportValue(0.0, summary, notes), where)
    if len(rows) > 1:
        raise _malformed(where, f"had {len(rows)} rows where one total was expected")

    text = _value_text(rows[0], where)
    summary["value_text"] = text
    return ReportValue(_number(text, metric, where), summary, notes)


def _metric_header(body: dict[str, Any], where: str) -> dict[str, Any]:
    headers = body.get("metricHeaders")
    if not isinstance(headers, list) or not headers or not isinstance(headers[0], dict):
        raise _malformed(where, "had no metricHeaders")
    header: dict[str, Any] = headers[0]
    return header


def _no_rows(
    body: dict[str, Any], metadata: dict[str, Any], zero: ReportValue, where: str
) -> ReportValue:
    # proto3 JSON leaves out zero numbers, so a missing rowCount means 0 too.
    if body.get("rowCount", 0) != 0:
        raise _malformed(where, "counted rows but listed none")
    if metadata.get("emptyReason"):
        zero.summary["empty_reason"] = metadata["emptyReason"]
    zero.notes.insert(0, NO_ROWS_NOTE)
    return zero


def _metadata_notes(metadata: dict[str, Any]) -> list[str]:
    notes = []
    if metadata.get("subjectToThresholding"):
        notes.append(THRESHOLD_NOTE)
    if metadata.get("samplingMetadatas"):
        notes.append(SAMPLED_NOTE)
    return notes


def _value_text(row: Any, where: str) -> str:
    values = row.get("metricValues") if isinstance(row, dict) else None
    first = values[0] if isinstance(values, list) and values else None
    text = first.get("value") if isinstance(first, dict) else None
    if not isinstance(text, str):
        raise _malformed(where, "had a row without a metric value")
    return text


def _number(text: str, metric: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise TransientError(
            f"the GA4 answer to {where} gave {metric} as {text[:40]!r}, which is "
            "not a number; try again later"
        )
    return value


def _malformed(where: str, what: str) -> TransientError:
    return TransientError(f"the GA4 answer to {where} {what}; try again later")
