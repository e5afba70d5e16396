"""Picks the number out of a JSON answer with a JMESPath expression."""

from __future__ import annotations

import json
import math
from typing import Any

from jmespath import exceptions as jmespath_errors

from connectors.base import ConfigurationError
from connectors.http_json.config import compile_select

PREVIEW_CAP = 80
"""Characters of a selected value shown in messages and evidence."""

KEYS_CAP = 10
"""Top-level keys of the answer listed when a selection finds nothing."""


def preview(value: Any) -> str:
    """Short JSON text of a value, cut at PREVIEW_CAP characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= PREVIEW_CAP else text[: PREVIEW_CAP - 1] + "…"


def json_type(value: Any) -> str:
    """The JSON name of a value's type, as admins know them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def search(expression: str, answer: Any, where: str) -> Any:
    """Apply the expression; a runtime JMESPath error is a configuration error."""
    try:
        return compile_select(expression).search(answer)
    except (jmespath_errors.JMESPathError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise ConfigurationError(
            f"select {expression!r} failed on the answer to {where}: {reason}; "
            "fix the expression"
        ) from None


def as_number(selected: Any, expression: str, answer: Any, where: str) -> float:
    """The selected value as a finite float.

    Numbers are taken as they are and strings when they parse as a finite
    float; booleans, null, lists and objects are refused.

    Raises:
        ConfigurationError: The value is not a finite number.
    """
    if isinstance(selected, int | float) and not isinstance(selected, bool):
        return _finite(float(selected), selected, expression, where)
    if isinstance(selected, str):
        try:
            number = float(selected.strip())
        except ValueError:
            number = None
        if number is not None:
            return _finite(number, selected, expression, where)
    hint = _hint(selected, answer)
    raise ConfigurationError(
        f"select {expression!r} returned {json_type(selected)} "
        f"({preview(selected)}) from {where}, not a number; {hint}"
    )


def _finite(number: float, selected: Any, expression: str, where: str) -> float:
    if math.isfinite(number):
        return number
    raise ConfigurationError(
        f"select {expression!r} returned {preview(selected)} from {where}, "
        "which is not a finite number; pick a field that holds a real value"
    )


def _hint(selected: Any, answer: Any) -> str:
    if selected is None and isinstance(answer, dict):
        keys = list(answer)[:KEYS_CAP]
        more = ", …" if len(answer) > KEYS_CAP else ""
        shown = ", ".join(keys) + more if keys else "none"
        return (
            "the answer has no such field (top-level keys: "
            f"{shown}); check the expression"
        )
    if isinstance(selected, list):
        return "pick one element (e.g. [0]) or aggregate with length() or sum()"
    if isinstance(selected, dict):
        return "add the name of the numeric field to the expression"
    return "pick a field that holds a number"
