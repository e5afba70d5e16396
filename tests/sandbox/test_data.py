"""The made-up company: deterministic, realistic, and useful for the demo."""

from __future__ import annotations

from collections import Counter

import pytest

from app.sandbox.data import STATUS_CATEGORIES, Company, JiraIssue, build_company
from app.sandbox.github_search import search as github_search
from app.sandbox.jql import search as jql_search


def test_the_same_seed_gives_the_same_company() -> None:
    assert build_company(7) == build_company(7)
    assert build_company(11) == build_company(11)


def test_another_seed_gives_another_company() -> None:
    first, second = build_company(7), build_company(8)

    assert first.jira_issues != second.jira_issues
    assert first.github_issues != second.github_issues


def test_company_has_the_expected_size_and_projects(company: Company) -> None:
    projects = Counter(issue.project for issue in company.jira_issues)
    repos = Counter(item.repo for item in company.github_issues)

    assert company.jira_projects == {"MOB": "Mobile", "WEB": "Web", "PLAT": "Platform"}
    assert sum(projects.values()) == 300
    assert set(projects) == {"MOB", "WEB", "PLAT"}
    assert sum(repos.values()) == 250
    assert company.repos == ["acme/app", "acme/api", "acme/web"]
    assert company.story_points_field == {
        "cloud": "customfield_10016",
        "datacenter": "customfield_10002",
    }


def test_issue_keys_count_up_per_project_in_creation_order(company: Company) -> None:
    for project in company.jira_projects:
        issues = [i for i in company.jira_issues if i.project == project]
        numbers = [issue.number for issue in issues]
        created = [issue.created for issue in issues]

        assert numbers == list(range(1, len(issues) + 1))
        assert created == sorted(created)
    assert len({issue.id for issue in company.jira_issues}) == 300


def test_github_numbers_count_up_per_repository(company: Company) -> None:
    for repo in company.repos:
        numbers = [item.number for item in company.github_issues if item.repo == repo]

        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_status_categories_are_jiras_real_ones() -> None:
    by_key = {key: (c.id, c.name) for key, c in STATUS_CATEGORIES.items()}

    assert by_key == {
        "undefined": (1, "No Category"),
        "new": (2, "To Do"),
        "indeterminate": (4, "In Progress"),
        "done": (3, "Done"),
    }


def test_done_statuses_include_localized_and_custom_names(company: Company) -> None:
    done_names = {s.name for s in company.jira_statuses if s.category_key == "done"}
    used = {issue.status.name for issue in company.jira_issues}

    assert {"Done", "Live", "Won't Do", "Готово", "Erledigt"} <= done_names
    assert {"Live", "Won't Do", "Готово", "Erledigt"} <= used


def test_story_points_use_the_usual_scale_and_are_sometimes_missing(
    company: Company,
) -> None:
    stories = [i for i in company.jira_issues if i.issuetype == "Story"]
    points = {i.story_points for i in stories if i.story_points is not None}

    assert points <= {1.0, 2.0, 3.0, 5.0, 8.0, 13.0}
    assert any(story.story_points is None for story in stories)
    assert sum(story.story_points is not None for story in stories) > len(stories) / 2


def test_fix_versions_belong_to_their_projects(company: Company) -> None:
    versions = {
        (issue.project, version)
        for issue in company.jira_issues
        for version in issue.fix_versions
    }

    assert versions == {("MOB", "2.0"), ("MOB", "2.1"), ("WEB", "Q4")}


def test_milestone_counts_are_derived_from_issues_and_pull_requests(
    company: Company,
) -> None:
    in_v20 = [
        item
        for item in company.github_issues
        if item.repo == "acme/app" and item.milestone_number == 1
    ]
    closed = sum(item.state == "closed" for item in in_v20)

    assert company.milestone_counts("acme/app", 1) == (len(in_v20) - closed, closed)
    assert any(item.is_pull_request for item in in_v20)
    assert closed > 2 * (len(in_v20) - closed) > 0


def test_the_planning_milestone_has_no_items(company: Company) -> None:
    milestone = company.milestone("acme/app", 3)

    assert milestone is not None
    assert milestone.title == "v3.0 planning"
    assert company.milestone_counts("acme/app", 3) == (0, 0)


def test_pull_requests_are_merged_closed_unmerged_or_open(company: Company) -> None:
    kinds = Counter(
        (item.state, item.merged)
        for item in company.github_issues
        if item.is_pull_request
    )

    assert kinds[("closed", True)] > 0
    assert kinds[("closed", False)] > 0
    assert kinds[("open", False)] > 0
    assert not any(
        item.merged for item in company.github_issues if not item.is_pull_request
    )


def _done_and_open(issues: list[JiraIssue]) -> tuple[int, int]:
    done = sum(issue.done for issue in issues)
    return done, len(issues) - done


@pytest.mark.parametrize("seed", [7, 1, 2, 3, 42])
def test_demo_jira_queries_match_done_and_open_issues_for_any_seed(seed: int) -> None:
    company = build_company(seed)
    queries = [
        'project = MOB AND fixVersion = "2.0"',
        "project = WEB AND issuetype = Bug",
        "project = PLAT AND labels = reliability",
    ]

    for jql in queries:
        done, still_open = _done_and_open(jql_search(company, jql))
        assert done >= 3, jql
        assert still_open >= 3, jql
    open_bugs = jql_search(
        company, "project = WEB AND issuetype = Bug AND statusCategory != Done"
    )
    assert len(open_bugs) >= 3


@pytest.mark.parametrize("seed", [7, 1, 2, 3, 42])
def test_mob_2_0_story_points_are_partly_done_for_any_seed(seed: int) -> None:
    issues = jql_search(build_company(seed), 'project = MOB AND fixVersion = "2.0"')
    done_points = sum(i.story_points or 0 for i in issues if i.done)
    open_points = sum(i.story_points or 0 for i in issues if not i.done)

    assert done_points > 0
    assert open_points > 0


@pytest.mark.parametrize("seed", [7, 1, 2, 3, 42])
def test_demo_github_queries_match_several_items_for_any_seed(seed: int) -> None:
    company = build_company(seed)

    assert len(github_search(company, "repo:acme/app is:issue is:open label:P1")) >= 3
    assert len(github_search(company, "repo:acme/api is:pr is:merged label:perf")) >= 3
    opened, closed = company.milestone_counts("acme/api", 1)
    assert opened > 0
    assert closed > 0
