"""Which key results a webhook delivery can affect.

The rule everywhere: when a query may or may not cover what the event is
about, the key result is re-synced. A needless re-sync costs a request; a
missed one leaves a number wrong until the next scheduled sync.

GitHub
    `issue_count` searches match the event's repository through their
    `repo:`, `org:`, `user:` and `owner:` qualifiers; a search without one
    (or with OR or parentheses, whose logic is not worked out here) may
    match any repository. `milestone_percent` matches its repository, and
    the milestone when the event names one. `project_percent` matches the
    owner of a Projects (v2) event. Events without a repository re-sync
    only project boards.
Jira
    The issue's project (key, name or id) is matched against the projects
    the JQL is limited to (`app.webhooks.jql`); a query with no project
    clause may match any. Events without an issue re-sync every key result
    of the source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.mapping.load import LoadedKeyResult
from app.webhooks.jql import projects_of

PROJECT_EVENTS = frozenset({"projects_v2_item", "projects_v2"})
"""GitHub events about Projects (v2) boards."""

_SEARCH_TOKEN = re.compile(r'-?[\w.-]+:"[^"]*"|"[^"]*"|\S+')
_SCOPE_QUALIFIERS = {"repo": "repo", "org": "owner", "user": "owner", "owner": "owner"}


@dataclass(frozen=True)
class GitHubEvent:
    """What a GitHub delivery is about, as far as matching needs."""

    name: str
    repository: str | None = None
    owner: str | None = None
    milestone_number: int | None = None
    milestone_title: str | None = None

    @classmethod
    def of(cls, name: str, payload: dict[str, Any]) -> GitHubEvent:
        """Read the event from the `X-GitHub-Event` name and the body."""
        repository = _dict(payload.get("repository"))
        organization = _dict(payload.get("organization"))
        full_name = _text(repository.get("full_name"))
        owner = _text(organization.get("login"))
        if owner is None and full_name is not None:
            owner = full_name.split("/", 1)[0]
        milestone = _milestone(payload)
        number = milestone.get("number")
        return cls(
            name=name,
            repository=full_name,
            owner=owner,
            milestone_number=number if isinstance(number, int) else None,
            milestone_title=_text(milestone.get("title")),
        )


@dataclass(frozen=True)
class JiraEvent:
    """What a Jira delivery is about: the issue's project, when there is one."""

    name: str
    project_names: frozenset[str] | None
    """Key, name and id of the project, lower-cased; None without an issue."""

    @classmethod
    def of(cls, payload: dict[str, Any]) -> JiraEvent:
        """Read the event from the body (Jira sends no event header)."""
        name = _text(payload.get("webhookEvent")) or "unknown"
        fields = _dict(_dict(payload.get("issue")).get("fields"))
        project = _dict(fields.get("project"))
        names = {
            str(project[part]).lower()
            for part in ("key", "name", "id")
            if project.get(part) not in (None, "")
        }
        return cls(name=name, project_names=frozenset(names) if names else None)


def github_affected(
    key_results: Iterable[LoadedKeyResult], event: GitHubEvent
) -> list[str]:
    """Ids of the key results a GitHub event can affect.

    Args:
        key_results: Key results of the source the delivery came for.
        event: The delivery's event.

    Returns:
        Key result ids, sorted.
    """
    return sorted(kr.spec.id for kr in key_results if _github_may_affect(kr, event))


def jira_affected(
    key_results: Iterable[LoadedKeyResult], event: JiraEvent
) -> list[str]:
    """Ids of the key results a Jira event can affect.

    Args:
        key_results: Key results of the source the delivery came for.
        event: The delivery's event.

    Returns:
        Key result ids, sorted.
    """
    return sorted(kr.spec.id for kr in key_results if _jira_may_affect(kr, event))


def _github_may_affect(kr: LoadedKeyResult, event: GitHubEvent) -> bool:
    metric = kr.spec.metric
    if metric == "project_percent":
        if event.name not in PROJECT_EVENTS:
            return False
        owner = _param(kr, "owner")
        return event.owner is None or _same(owner, event.owner)
    if event.repository is None:
        return False
    if metric == "issue_count":
        return search_may_cover(kr.spec.query, event.repository)
    if metric == "milestone_percent":
        return _milestone_may_cover(kr, event)
    return True


def search_may_cover(query: str | None, repository: str) -> bool:
    """Whether a GitHub issue search may find items of `repository`.

    Args:
        query: The search text, e.g. `repo:acme/app is:issue is:open`.
        repository: `owner/name` of the event's repository.

    Returns:
        False only when the query's qualifiers rule the repository out.
    """
    tokens = _SEARCH_TOKEN.findall(query or "")
    if any(token == "OR" or "(" in token or ")" in token for token in tokens):
        return True
    repository = repository.lower()
    owner = repository.split("/", 1)[0]
    wanted: dict[str, set[str]] = {"repo": set(), "owner": set()}
    for previous, token in zip(["", *tokens], tokens, strict=False):
        negated = token.startswith("-") or previous == "NOT"
        name, colon, value = token.lstrip("-").partition(":")
        scope = _SCOPE_QUALIFIERS.get(name.lower()) if colon else None
        if scope is None:
            continue
        value = value.strip('"').lower()
        subject = repository if scope == "repo" else owner
        if negated:
            if value == subject:
                return False
            continue
        wanted[scope].add(value)
    if not wanted["repo"] and not wanted["owner"]:
        return True
    return repository in wanted["repo"] or owner in wanted["owner"]


def _milestone_may_cover(kr: LoadedKeyResult, event: GitHubEvent) -> bool:
    if not _same(_param(kr, "repo"), event.repository):
        return False
    milestone = _param(kr, "milestone")
    if isinstance(milestone, int) and event.milestone_number is not None:
        return milestone == event.milestone_number
    if isinstance(milestone, str) and event.milestone_title is not None:
        return milestone == event.milestone_title
    return True


def _jira_may_affect(kr: LoadedKeyResult, event: JiraEvent) -> bool:
    if event.project_names is None:
        return True
    projects = projects_of(kr.spec.query)
    return projects is None or bool(projects & event.project_names)


def _milestone(payload: dict[str, Any]) -> dict[str, Any]:
    """The milestone an event names: its own, or its issue's or pull request's."""
    for holder in (
        payload,
        _dict(payload.get("issue")),
        _dict(payload.get("pull_request")),
    ):
        milestone = _dict(holder.get("milestone"))
        if milestone:
            return milestone
    return {}


def _param(kr: LoadedKeyResult, name: str) -> Any:
    return getattr(kr.params, name, None)


def _same(left: Any, right: str | None) -> bool:
    return isinstance(left, str) and right is not None and left.lower() == right.lower()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
