"""Reading Jira answers: issues, statuses and fields, checked for shape.

Everything here is pure: it takes decoded JSON and returns plain values, or
raises `TransientError` for a body of the wrong shape and `ConfigurationError`
for a field name the site cannot resolve.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.base import ConfigurationError, TransientError

DONE = "done"
"""The status category key Jira gives every finished status, whatever its name."""

Issue = Mapping[str, Any]

CLOSE_NAME_LIMIT = 5


@dataclass(frozen=True)
class JiraField:
    """One entry of the site's field list."""

    id: str
    name: str
    schema_type: str | None

    @property
    def numeric(self) -> bool:
        """Whether the field holds numbers."""
        return self.schema_type == "number"


def issue_list(body: Any, where: str) -> list[Issue]:
    """The `issues` of a search answer, each checked to be an object."""
    issues = body.get("issues") if isinstance(body, dict) else None
    if not isinstance(issues, list):
        raise TransientError(f"the Jira answer to {where} had no 'issues' list")
    for issue in issues:
        if not isinstance(issue, dict) or not isinstance(issue.get("fields", {}), dict):
            raise TransientError(
                f"the Jira answer to {where} had an issue that is not an object "
                "with a 'fields' object"
            )
    return issues


def issue_key(issue: Issue) -> str:
    """The issue key (e.g. MOB-12), or its id when the answer left the key out."""
    fields = issue.get("fields") or {}
    key = issue.get("key") or fields.get("key") or issue.get("id")
    return str(key) if key is not None else "?"


def status_of(issue: Issue, where: str) -> Mapping[str, Any]:
    """The issue's status object; its absence means the answer is malformed."""
    status = (issue.get("fields") or {}).get("status")
    if not isinstance(status, dict):
        raise TransientError(
            f"the Jira answer to {where} had issue {issue_key(issue)} "
            "without a 'status' object"
        )
    return status


def inline_category(status: Mapping[str, Any]) -> str | None:
    """The status category key carried inside the status, if any."""
    category = status.get("statusCategory")
    key = category.get("key") if isinstance(category, dict) else None
    return key if isinstance(key, str) else None


def status_categories(body: Any, where: str) -> dict[str, str]:
    """Map status id to status category key, from a status list answer."""
    if not isinstance(body, list):
        raise TransientError(f"the Jira answer to {where} was not a list of statuses")
    categories: dict[str, str] = {}
    for status in body:
        if not isinstance(status, dict) or status.get("id") is None:
            raise TransientError(
                f"the Jira answer to {where} had a status without an id"
            )
        key = inline_category(status)
        if key is not None:
            categories[str(status["id"])] = key
    return categories


def field_list(body: Any, where: str) -> list[JiraField]:
    """The site's fields, from a field list answer."""
    if not isinstance(body, list):
        raise TransientError(f"the Jira answer to {where} was not a list of fields")
    fields: list[JiraField] = []
    for entry in body:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise TransientError(
                f"the Jira answer to {where} had a field without an id"
            )
        schema = entry.get("schema")
        schema_type = schema.get("type") if isinstance(schema, dict) else None
        fields.append(
            JiraField(
                id=entry["id"],
                name=str(entry.get("name") or entry["id"]),
                schema_type=schema_type if isinstance(schema_type, str) else None,
            )
        )
    return fields


def resolve_field(wanted: str, fields: Sequence[JiraField]) -> JiraField:
    """Find the numeric field a mapping names, by id or by case-blind name.

    Raises:
        ConfigurationError: No field, several fields, or a non-numeric field.
    """
    wanted = wanted.strip()
    by_id = [field for field in fields if field.id == wanted]
    matches = by_id or [
        field for field in fields if field.name.casefold() == wanted.casefold()
    ]

    if not matches:
        raise ConfigurationError(_unknown_field_message(wanted, fields))
    if len(matches) > 1:
        ids = ", ".join(field.id for field in matches)
        raise ConfigurationError(
            f"Jira has {len(matches)} fields named {wanted!r} ({ids}); "
            "write the id of the one to sum instead of the name."
        )

    field = matches[0]
    if not field.numeric:
        kind = field.schema_type or "untyped"
        raise ConfigurationError(
            f"Jira field {field.name!r} ({field.id}) holds {kind} values, "
            "not numbers; choose a numeric field to sum."
        )
    return field


def _unknown_field_message(wanted: str, fields: Sequence[JiraField]) -> str:
    names = {field.name.casefold(): field.name for field in fields}
    close = difflib.get_close_matches(
        wanted.casefold(), list(names), n=CLOSE_NAME_LIMIT, cutoff=0.5
    )
    message = f"Jira has no field named {wanted!r}."
    if close:
        message += " Close names: " + ", ".join(repr(names[name]) for name in close)
        message += "."
    return message + " Write the field's name as Jira shows it, or its id."


def numeric_value(issue: Issue, field: JiraField, where: str) -> float | None:
    """The issue's value of a numeric field; None when it has none."""
    value = (issue.get("fields") or {}).get(field.id)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransientError(
            f"the Jira answer to {where} had a non-numeric {field.name!r} "
            f"on issue {issue_key(issue)}"
        )
    return float(value)
