"""Builds HogQL query requests and reads their first cell.

The time window reaches the query through HogQL's own placeholders: the
request's `values` map names to constants, and the query refers to them as
`{window_start}` and `{window_end}`. PostHog parses the query first and then
puts each value in as a constant, so no text is spliced into the SQL. The
values are ISO 8601 times with the mapping's UTC offset, e.g.
`2026-10-01T00:00:00+02:00`; compare them as times with `toDateTime(...)`::

    SELECT count() FROM events
    WHERE event = 'signed_up'
      AND timestamp >= toDateTime({window_start})
      AND timestamp < toDateTime({window_end})
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConfigurationError, TransientError, Window

WINDOW_PLACEHOLDER = re.compile(r"\{\s*(window_start|window_end)\s*\}")

PREVIEW_CAP = 80


@dataclass
class FirstCell:
    """The value of a HogQL answer's first cell, with what was seen."""

    value: float | None
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def window_values(window: Window | None) -> dict[str, str]:
    """The placeholder values for a window: ISO 8601 start and end."""
    if window is None:
        return {}
    return {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
    }


def placeholders_used(query: str) -> list[str]:
    """The window placeholders a query refers to, in order of appearance."""
    return list(dict.fromkeys(WINDOW_PLACEHOLDER.findall(query)))


def query_body(query: str, values: dict[str, str]) -> dict[str, Any]:
    """The JSON body of `POST /api/projects/{id}/query/` for a HogQL query."""
    node: dict[str, Any] = {"kind": "HogQLQuery", "query": query}
    if values:
        node["values"] = values
    return {"query": node}


def first_cell(body: Any, where: str) -> FirstCell:
    """The number in the first column of the first row.

    No rows, or a null cell, is a value of None with a note.

    Raises:
        ConfigurationError: The cell holds text or another non-number.
        TransientError: The answer has no `results` table.
    """
    if not isinstance(body, dict):
        raise _malformed(where, "it is not a JSON object")
    results = body.get("results")
    if results is None and "query_status" in body:
        raise TransientError(
            f"PostHog is still computing the query at {where}; try again later"
        )
    if not isinstance(results, list) or not all(isinstance(r, list) for r in results):
        raise _malformed(where, "it has no results table")

    columns = body.get("columns")
    column_names = [str(c) for c in columns] if isinstance(columns, list) else []
    summary: dict[str, Any] = {"columns": column_names[:10], "rows": len(results)}
    if not results:
        return FirstCell(None, summary, ["the HogQL query returned no rows"])
    if not results[0]:
        raise _malformed(where, "its first row has no columns")

    cell = results[0][0]
    summary["first_cell"] = _preview(cell)
    notes = _extra_notes(results)
    column = column_names[0] if column_names else "the first column"
    if cell is None:
        notes.insert(0, f"the HogQL query's first cell ({column}) is null")
        return FirstCell(None, summary, notes)
    return FirstCell(_number(cell, column, where), summary, notes)


def _number(cell: Any, column: str, where: str) -> float:
    number: float | None = None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        number = float(cell)
    elif isinstance(cell, str):
        # ClickHouse decimals and 128-bit integers arrive as text.
        try:
            number = float(cell.strip())
        except ValueError:
            number = None
    if number is not None and math.isfinite(number):
        return number
    raise ConfigurationError(
        f"the HogQL query at {where} returned {_preview(cell)} in {column}, "
        "not a finite number; select a number as the first column, e.g. count()"
    )


def _extra_notes(results: list[list[Any]]) -> list[str]:
    notes = []
    if len(results) > 1:
        notes.append(
            f"the HogQL query returned {len(results)} rows; only the first is used"
        )
    if len(results[0]) > 1:
        notes.append(
            f"the HogQL query returned {len(results[0])} columns; only the "
            "first is used"
        )
    return notes


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= PREVIEW_CAP else text[: PREVIEW_CAP - 1] + "…"


def _malformed(where: str, problem: str) -> TransientError:
    return TransientError(
        f"the PostHog answer to {where} is malformed ({problem}); try again later"
    )
