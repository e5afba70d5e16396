"""A parser and evaluator for GitHub issue search queries (`/search/issues`).

Supported, as on github.com::

    repo:acme/app is:issue is:open label:P1 -label:"won't fix"
    repo:acme/api is:pr is:merged label:perf merged:>=2026-10-01
    milestone:"v2.0" no:label crash

Qualifiers: `repo:`, `org:`/`user:`, `is:` (issue, pr, open, closed, merged,
unmerged), `type:` (issue, pr), `state:`, `label:` (repeat for AND, commas for
OR), `milestone:`, `no:` (label, milestone, assignee), `author:`, `in:`
(accepted; only titles exist here) and the date qualifiers `created:`,
`updated:`, `closed:`, `merged:` with `>`, `>=`, `<`, `<=` and `A..B` ranges.
A leading `-` negates a qualifier. Other words are matched against titles.

Queries GitHub refuses raise `SearchError`, which the server answers with
GitHub's 422 "Validation Failed" body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.sandbox.data import Company, GitHubIssue

MAX_QUERY_LENGTH = 256
SEARCH_DOCS_URL = "https://docs.github.com/v3/search/"
UNSEARCHABLE = (
    "The listed users and repositories cannot be searched either because the "
    "resources do not exist or you do not have permission to view them."
)
QUALIFIER_NAME = re.compile(r"[a-z][a-z_-]*", re.IGNORECASE)
DATE_QUALIFIERS = ("created", "updated", "closed", "merged")
SCOPE_QUALIFIERS = ("repo", "org", "user")
KNOWN_QUALIFIERS = frozenset(
    {"repo", "org", "user", "is", "type", "state", "label", "milestone", "no"}
    | {"author", "in", *DATE_QUALIFIERS}
)
ALLOWED_VALUES = {
    "is": {"issue", "pr", "pull-request", "open", "closed", "merged", "unmerged"},
    "type": {"issue", "pr", "pull-request"},
    "state": {"open", "closed"},
    "no": {"label", "milestone", "assignee"},
    "in": {"title", "body", "comments"},
}

Predicate = Callable[[GitHubIssue], bool]


class SearchError(ValueError):
    """A query GitHub answers with 422 Validation Failed."""

    def __init__(self, message: str | None, *, code: str = "invalid") -> None:
        super().__init__(message or code)
        self.message = message
        self.code = code

    def body(self) -> dict[str, Any]:
        """GitHub's error body for this failure."""
        error: dict[str, Any] = {"resource": "Search", "field": "q", "code": self.code}
        if self.message is not None:
            error = {"message": self.message, **error}
        return {
            "message": "Validation Failed",
            "errors": [error],
            "documentation_url": SEARCH_DOCS_URL,
        }


@dataclass(frozen=True)
class Qualifier:
    """`name:value`, negated when written `-name:value`."""

    name: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: qualifiers plus free words matched against titles."""

    qualifiers: tuple[Qualifier, ...]
    terms: tuple[str, ...]

    def values(self, name: str) -> list[str]:
        """Values of the non-negated qualifiers called `name`."""
        return [q.value for q in self.qualifiers if q.name == name and not q.negated]

    @property
    def names_kind(self) -> bool:
        """Whether the query says it wants issues or pull requests."""
        kinds = {"issue", "pr", "pull-request"}
        return any(
            q.name in ("is", "type") and q.value in kinds for q in self.qualifiers
        )


def split_words(q: str) -> list[str]:
    """Split on spaces, keeping "quoted parts" (quotes included) together."""
    return re.findall(r'(?:[^\s"]|"[^"]*"?)+', q)


def parse(q: str) -> SearchQuery:
    """Parse a search query.

    Raises:
        SearchError: The query is empty, too long, or uses an unknown
            qualifier or value.
    """
    if not q.strip():
        raise SearchError(None, code="missing")
    if len(q) > MAX_QUERY_LENGTH:
        raise SearchError(f"The search is longer than {MAX_QUERY_LENGTH} characters.")

    qualifiers: list[Qualifier] = []
    terms: list[str] = []
    for word in split_words(q):
        qualifier = _qualifier(word)
        if qualifier is None:
            terms.append(word.strip('"').lower())
        else:
            qualifiers.append(qualifier)
    return SearchQuery(tuple(qualifiers), tuple(term for term in terms if term))


def _qualifier(word: str) -> Qualifier | None:
    negated = word.startswith("-")
    name, colon, value = word.removeprefix("-").partition(":")
    if not colon or not QUALIFIER_NAME.fullmatch(name):
        return None
    name = name.lower()
    if name not in KNOWN_QUALIFIERS:
        raise SearchError(f"The qualifier '{name}' is not supported by issue search.")
    value = value.strip('"')
    allowed = ALLOWED_VALUES.get(name)
    if allowed is not None and value.lower() not in allowed:
        raise SearchError(f"'{value}' is not a valid value for the '{name}' qualifier.")
    if name not in ("label", "milestone"):
        value = value.lower()
    return Qualifier(name, value, negated)


def search(
    company: Company,
    q: str,
    *,
    sort: str | None = None,
    order: str = "desc",
) -> list[GitHubIssue]:
    """The issues and pull requests matching a query.

    Args:
        company: The data to search.
        q: The query text.
        sort: "created", "updated" or "comments"; None for best match.
        order: "desc" (default) or "asc"; used only with `sort`.

    Returns:
        Matching items; best match puts the newest first.

    Raises:
        SearchError: GitHub would refuse the query.
    """
    query = parse(q)
    predicate = compile_query(company, query)
    found = [item for item in company.github_issues if predicate(item)]
    return sort_items(found, sort, order)


def compile_query(company: Company, query: SearchQuery) -> Predicate:
    """Turn a parsed query into a test on one item.

    Raises:
        SearchError: A repository, owner or date in the query is not valid.
    """
    _check_scope(company, query)
    tests = [
        _qualifier_test(company, qualifier)
        for qualifier in query.qualifiers
        if qualifier.negated or qualifier.name not in SCOPE_QUALIFIERS
    ]
    # Several repo:/org: qualifiers widen the scope (OR), unlike the rest.
    repos = [repo.lower() for repo in query.values("repo")]
    owners = query.values("org") + query.values("user")
    terms = query.terms

    def test(item: GitHubIssue) -> bool:
        if repos and item.repo.lower() not in repos:
            return False
        if owners and item.repo.split("/")[0].lower() not in owners:
            return False
        title = item.title.lower()
        if not all(term in title for term in terms):
            return False
        return all(check(item) for check in tests)

    return test


def _check_scope(company: Company, query: SearchQuery) -> None:
    """Repositories and owners must exist, as GitHub checks them first."""
    known_repos = {repo.lower() for repo in company.repos}
    known_owners = {repo.split("/")[0].lower() for repo in company.repos}
    repos = [q.value for q in query.qualifiers if q.name == "repo"]
    owners = [q.value for q in query.qualifiers if q.name in ("org", "user")]
    if any(repo not in known_repos for repo in repos) or any(
        owner not in known_owners for owner in owners
    ):
        raise SearchError(UNSEARCHABLE)


def _qualifier_test(company: Company, qualifier: Qualifier) -> Predicate:
    test = _positive_test(company, qualifier)
    if qualifier.negated:
        return lambda item: not test(item)
    return test


def _positive_test(company: Company, qualifier: Qualifier) -> Predicate:
    name, value = qualifier.name, qualifier.value
    if name == "repo":
        return lambda item: item.repo.lower() == value
    if name in ("org", "user"):
        return lambda item: item.repo.split("/")[0].lower() == value
    if name in ("is", "type", "state"):
        return STATE_TESTS[value]
    if name == "label":
        wanted = {label.strip().lower() for label in value.split(",")}
        return lambda item: bool(wanted & {label.lower() for label in item.labels})
    if name == "milestone":
        return _milestone_test(company, value)
    if name == "no":
        return NO_TESTS[value]
    if name == "author":
        return lambda item: item.user.lower() == value
    if name in DATE_QUALIFIERS:
        return _date_test(name, value)
    return _always


def _milestone_test(company: Company, title: str) -> Predicate:
    numbers = {
        (milestone.repo, milestone.number)
        for milestone in company.milestones
        if milestone.title.lower() == title.lower()
    }
    return lambda item: (item.repo, item.milestone_number) in numbers


def _always(item: GitHubIssue) -> bool:
    return True


STATE_TESTS: dict[str, Predicate] = {
    "issue": lambda item: not item.is_pull_request,
    "pr": lambda item: item.is_pull_request,
    "pull-request": lambda item: item.is_pull_request,
    "open": lambda item: item.state == "open",
    "closed": lambda item: item.state == "closed",
    "merged": lambda item: item.merged,
    "unmerged": lambda item: item.is_pull_request and not item.merged,
}

NO_TESTS: dict[str, Predicate] = {
    "label": lambda item: not item.labels,
    "milestone": lambda item: item.milestone_number is None,
    "assignee": _always,
}

DATE_GETTERS: dict[str, Callable[[GitHubIssue], datetime | None]] = {
    "created": lambda item: item.created_at,
    "updated": lambda item: item.updated_at,
    "closed": lambda item: item.closed_at,
    "merged": lambda item: item.merged_at,
}


def _date_test(name: str, value: str) -> Predicate:
    low, high = date_range(name, value)
    getter = DATE_GETTERS[name]

    def test(item: GitHubIssue) -> bool:
        moment = getter(item)
        if moment is None:
            return False
        return (low is None or moment >= low) and (high is None or moment < high)

    return test


def date_range(name: str, value: str) -> tuple[datetime | None, datetime | None]:
    """The half-open span [low, high) a date qualifier value covers.

    Raises:
        SearchError: The value is not a date, a comparison or a range.
    """
    try:
        if ".." in value:
            first, last = value.split("..", 1)
            low = None if first == "*" else _instant(first)[0]
            high = None if last == "*" else _instant(last)[1]
            return low, high
        for prefix in (">=", "<=", ">", "<"):
            if value.startswith(prefix):
                start, end = _instant(value[len(prefix) :])
                return COMPARISON_SPANS[prefix](start, end)
        return _instant(value)
    except ValueError:
        raise SearchError(
            f"'{value}' is not a valid date or range for the '{name}' qualifier."
        ) from None


COMPARISON_SPANS: dict[
    str, Callable[[datetime, datetime], tuple[datetime | None, datetime | None]]
] = {
    ">=": lambda start, end: (start, None),
    ">": lambda start, end: (end, None),
    "<=": lambda start, end: (None, end),
    "<": lambda start, end: (None, start),
}


def _instant(text: str) -> tuple[datetime, datetime]:
    """A day covers the whole day; a time covers that second."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        return day, day + timedelta(days=1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, moment + timedelta(seconds=1)


def sort_items(
    items: Sequence[GitHubIssue], sort: str | None, order: str = "desc"
) -> list[GitHubIssue]:
    """Items by `sort` ("created" or "updated"), or newest first (best match)."""
    descending = order != "asc"
    if sort == "updated":
        return sorted(items, key=lambda item: item.updated_at, reverse=descending)
    if sort == "created":
        return sorted(items, key=lambda item: item.created_at, reverse=descending)
    return sorted(items, key=lambda item: item.created_at, reverse=True)
