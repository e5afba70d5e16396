"""The sandbox's JQL: matches computed independently with plain filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from app.sandbox.data import Company, JiraIssue
from app.sandbox.jql import JqlEngine, JqlError, parse, search

Filter = Callable[[JiraIssue], bool]

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)

CASES: list[tuple[str, Filter]] = [
    (
        'project = MOB AND fixVersion = "2.0"',
        lambda i: i.project == "MOB" and "2.0" in i.fix_versions,
    ),
    (
        "project = WEB AND issuetype = Bug AND statusCategory != Done",
        lambda i: i.project == "WEB" and i.issuetype == "Bug" and not i.done,
    ),
    (
        "project = PLAT AND labels = reliability",
        lambda i: i.project == "PLAT" and "reliability" in i.labels,
    ),
    ("statusCategory = done", lambda i: i.status.category_key == "done"),
    ("statusCategory = 3", lambda i: i.status.category_key == "done"),
    (
        'statusCategory = "In Progress"',
        lambda i: i.status.category_key == "indeterminate",
    ),
    ("statusCategory in (new, 4)", lambda i: i.status.category_key != "done"),
    ('status = "Won\'t Do"', lambda i: i.status.name == "Won't Do"),
    ("status in (Готово, Erledigt)", lambda i: i.status.name in ("Готово", "Erledigt")),
    ("status = 10004", lambda i: i.status.name == "Live"),
    ("status = 'in review'", lambda i: i.status.name == "In Review"),
    (
        'project in (MOB, "Web") AND priority in (Highest, High)',
        lambda i: i.project in ("MOB", "WEB") and i.priority in ("Highest", "High"),
    ),
    ("project = Platform", lambda i: i.project == "PLAT"),
    (
        "labels not in (perf, security)",
        lambda i: bool(i.labels) and not {"perf", "security"} & set(i.labels),
    ),
    ("labels is EMPTY", lambda i: not i.labels),
    ("labels = EMPTY", lambda i: not i.labels),
    (
        'fixVersion != "2.0"',
        lambda i: bool(i.fix_versions) and "2.0" not in i.fix_versions,
    ),
    (
        "fixVersion is not EMPTY AND NOT project = MOB",
        lambda i: bool(i.fix_versions) and i.project != "MOB",
    ),
    (
        '"Story Points" >= 5',
        lambda i: i.story_points is not None and i.story_points >= 5,
    ),
    ("cf[10016] is EMPTY", lambda i: i.story_points is None),
    ("customfield_10016 = 8", lambda i: i.story_points == 8),
    ('"Story Points[Number]" = 8', lambda i: i.story_points == 8),
    (
        '"story points" in (1, 2) AND type = Story',
        lambda i: i.story_points in (1, 2) and i.issuetype == "Story",
    ),
    ('summary ~ "cache"', lambda i: "cache" in i.summary.lower()),
    ("summary !~ crash", lambda i: "crash" not in i.summary.lower()),
    (
        'text ~ "log*"',
        lambda i: any(w.startswith("log") for w in i.summary.lower().split()),
    ),
    (
        "(project = MOB OR project = PLAT) AND type = Epic",
        lambda i: i.project in ("MOB", "PLAT") and i.issuetype == "Epic",
    ),
    (
        'PROJECT = mob and STATUSCATEGORY = "In Progress"',
        lambda i: i.project == "MOB" and i.status.category_key == "indeterminate",
    ),
    ("resolution = Unresolved", lambda i: not i.done),
    ("resolution is not EMPTY", lambda i: i.done),
    ('resolution = "Won\'t Do"', lambda i: i.status.name == "Won't Do"),
    ('created >= "2026-11-01"', lambda i: i.created >= NOV_1),
    ('created < "2026/11/01 00:00"', lambda i: i.created < NOV_1),
    (
        "project = MOB && labels = perf || project = WEB",
        lambda i: (i.project == "MOB" and "perf" in i.labels) or i.project == "WEB",
    ),
    (
        "NOT statusCategory = Done AND project = PLAT",
        lambda i: not i.done and i.project == "PLAT",
    ),
    ("! (project = MOB)", lambda i: i.project != "MOB"),
    ("key in (MOB-1, mob-2)", lambda i: i.key in ("MOB-1", "MOB-2")),
    ("issuekey = PLAT-3", lambda i: i.key == "PLAT-3"),
]


@pytest.mark.parametrize(("jql", "expected"), CASES, ids=[case[0] for case in CASES])
def test_query_matches_exactly_the_issues_a_plain_filter_finds(
    company: Company, jql: str, expected: Filter
) -> None:
    wanted = {issue.key for issue in company.jira_issues if expected(issue)}

    found = [issue.key for issue in search(company, jql)]

    assert wanted, "the case should match something"
    assert sorted(found) == sorted(wanted)


def test_data_center_knows_story_points_by_its_own_field_id(company: Company) -> None:
    expected = {i.key for i in company.jira_issues if (i.story_points or 0) > 3}

    found = search(company, "cf[10002] > 3", deployment="datacenter")

    assert {issue.key for issue in found} == expected
    with pytest.raises(JqlError, match=r"Field 'cf\[10002\]' does not exist"):
        search(company, "cf[10002] > 3", deployment="cloud")


def test_decoy_number_field_exists_but_is_always_empty(company: Company) -> None:
    assert search(company, '"Story point estimate" is not EMPTY') == []
    assert len(search(company, '"Story point estimate" is EMPTY')) == 300


def test_relative_dates_count_back_from_now(company: Company) -> None:
    now = datetime(2026, 11, 10, tzinfo=UTC)
    engine = JqlEngine(company, now=now)
    expected = {
        i.key
        for i in company.jira_issues
        if (now - i.created).total_seconds() <= 7 * 86400
    }

    found = engine.search("created >= -1w")

    assert expected
    assert {issue.key for issue in found} == expected


def test_order_by_key_sorts_by_project_then_number(company: Company) -> None:
    found = search(company, "project in (WEB, MOB) ORDER BY key ASC")
    keys = [(issue.project, issue.number) for issue in found]

    assert keys == sorted(keys)
    assert found[0].key == "MOB-1"


def test_order_by_created_desc_puts_the_newest_first(company: Company) -> None:
    found = search(company, "project = MOB ORDER BY created DESC")
    created = [issue.created for issue in found]

    assert created == sorted(created, reverse=True)
    assert len(found) == 110


def test_order_by_several_fields_applies_them_in_order(company: Company) -> None:
    found = search(company, "project = PLAT ORDER BY priority ASC, key DESC")
    ranks = {"Highest": 1, "High": 2, "Medium": 3, "Low": 4, "Lowest": 5}
    keys = [(ranks[issue.priority], -issue.number) for issue in found]

    assert keys == sorted(keys)


def test_an_unbounded_query_is_recognised() -> None:
    assert not parse("").bounded
    assert not parse("ORDER BY created DESC").bounded
    assert parse("project = MOB ORDER BY created").bounded


ERRORS = [
    (
        "foo = bar",
        "Field 'foo' does not exist or you do not have permission to view it.",
    ),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("status = Shipped", "The value 'Shipped' does not exist for the field 'status'."),
    ("fixVersion = 9.9", "The value '9.9' does not exist for the field 'fixVersion'."),
    ("key = MOB-999", "An issue with key 'MOB-999' does not exist for field 'key'."),
    ("summary = login", "The operator '=' is not supported by the 'summary' field."),
    ("project > MOB", "The operator '>' is not supported by the 'project' field."),
    (
        "project MOB",
        "Error in the JQL Query: Expecting operator but got 'MOB'. The valid "
        "operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
        "'IS' and 'IS NOT'. (line 1, character 9)",
    ),
    (
        "project = ",
        "Error in the JQL Query: Expecting either a value, list or function but got "
        "'EOF'. (line 1, character 11)",
    ),
    (
        "project = MOB bar",
        "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'bar'. "
        "(line 1, character 15)",
    ),
    (
        'project = "MOB',
        "Error in the JQL Query: The quoted string 'MOB' has not been completed. "
        "(line 1, character 11)",
    ),
    ("(project = MOB", "Error in the JQL Query: Expecting ')' but got 'EOF'."),
    (
        "project = MOB AND",
        "Error in the JQL Query: Expecting a field name but got 'EOF'.",
    ),
    (
        "labels = a%b",
        "Error in the JQL Query: The character '%' is a reserved JQL character. You "
        "must enclose it in a string or use the escape '\\u0025' instead. "
        "(line 1, character 11)",
    ),
    ("labels is perf", "Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got"),
    ("assignee = currentUser()", "Unable to find JQL function 'currentUser()'."),
    ('"Story Points" = lots', "The value 'lots' is not a valid number"),
    ("created > yesterday", "Date value 'yesterday' for field 'created' is invalid."),
    ("project = MOB ORDER BY colour", "Field 'colour' does not exist"),
    ("project = MOB\nAND foo bar", "(line 2, character 9)"),
]


@pytest.mark.parametrize(("jql", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_invalid_query_raises_with_jiras_wording(
    company: Company, jql: str, message: str
) -> None:
    with pytest.raises(JqlError) as raised:
        search(company, jql)

    assert message in raised.value.message
