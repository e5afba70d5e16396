"""Turns unquoted YAML text back into the values YAML 1.2's core schema means.

The mapping loader keeps every unquoted scalar as text (a `PlainScalar`) so
that fields such as `query:` stay exactly as typed. A JSON request body is
different: `limit: 10` there means the number 10, while `name: "10"` means
the text. This module restores that distinction for the `body` parameter.
"""

from __future__ import annotations

import math
import re
from typing import Any

PLAIN_SCALAR_CLASS = "PlainScalar"
"""Name of the loader's class for unquoted scalars (app.mapping.yamltext).

Matched by name so that connectors do not import the application layer.
"""

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_DECIMAL_INT = re.compile(r"^[-+]?[0-9]+$")
_OCTAL_INT = re.compile(r"^0o[0-7]+$")
_HEX_INT = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INFINITY = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = frozenset({".nan", ".NaN", ".NAN"})


def is_plain_scalar(value: object) -> bool:
    """Whether `value` is an unquoted scalar as the mapping loader delivers it."""
    return isinstance(value, str) and type(value).__name__ == PLAIN_SCALAR_CLASS


def core_value(text: str) -> Any:
    """The YAML 1.2 core-schema value of an unquoted scalar's text.

    Raises:
        ValueError: The text means infinity or NaN, which JSON cannot carry.
    """
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _DECIMAL_INT.match(text):
        return int(text)
    if _OCTAL_INT.match(text):
        return int(text[2:], 8)
    if _HEX_INT.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INFINITY.match(text) or text in _NAN:
        raise ValueError(
            f"{text} is not a number JSON can carry; quote it to send it as text"
        )
    return str(text)


def resolve_plain_scalars(value: Any) -> Any:
    """Copy of `value` with every unquoted scalar turned into its core value.

    Quoted strings, numbers and booleans given directly (e.g. from JSON)
    are kept as they are.
    """
    if isinstance(value, dict):
        return {str(key): resolve_plain_scalars(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_plain_scalars(item) for item in value]
    if is_plain_scalar(value):
        return core_value(str(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a number JSON can carry")
    return value
