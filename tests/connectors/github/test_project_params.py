"""Validation of project_percent params, and where its queries go."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from connectors.base import ConfigurationError, FetchRequest
from connectors.github import GitHubConfig, GitHubConnector, ProjectParams
from connectors.github.projects import build_query, graphql_url, needs_token


def params(**values: Any) -> ProjectParams:
    return ProjectParams.model_validate({"owner": "acme", "project": 5, **values})


def test_defaults_count_done_in_the_status_field_of_an_org_board() -> None:
    made = params()

    assert made.owner_type == "organization"
    assert made.field == "Status"
    assert made.done == ["Done"]
    assert made.include_archived is False
    assert made.item_types is None


def test_names_are_trimmed_and_repeated_done_options_dropped() -> None:
    made = params(owner=" acme ", field=" Status ", done=[" Done", "Shipped ", "Done"])

    assert made.owner == "acme"
    assert made.field == "Status"
    assert made.done == ["Done", "Shipped"]


def test_done_names_keep_their_case() -> None:
    assert params(done=["done", "DONE"]).done == ["done", "DONE"]


def test_item_types_accept_lowercase_and_spaces() -> None:
    made = params(item_types=["issue", "pull request", "Draft-Issue", "ISSUE"])

    assert made.item_types == ["ISSUE", "PULL_REQUEST", "DRAFT_ISSUE"]


def test_project_number_may_be_written_as_digits() -> None:
    assert params(project="12").project == 12


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"owner": "acme/app"}, "not a GitHub login"),
        ({"owner": ""}, "not a GitHub login"),
        ({"project": True}, "not true/false"),
        ({"project": 0}, "greater than or equal to 1"),
        ({"field": "  "}, "status field"),
        ({"done": []}, "at least one option"),
        ({"done": ["Done", " "]}, "at least one option"),
        ({"item_types": []}, "at least one of ISSUE"),
        ({"item_types": ["EPIC"]}, "PULL_REQUEST"),
        ({"owner_type": "team"}, "organization"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_params_name_the_problem(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        params(**values)


async def test_params_given_as_another_model_are_checked_again() -> None:
    class Loose(BaseModel):
        owner: str = "acme"
        project: int = 0

    connector = GitHubConnector(
        "gh", GitHubConfig(type="github", url="http://127.0.0.1:9/github")
    )
    request = FetchRequest(metric="project_percent", query=None, params=Loose())

    with pytest.raises(ConfigurationError, match="project_percent params"):
        await connector.fetch(request)
    await connector.aclose()


@pytest.mark.parametrize(
    ("rest_url", "expected", "token_needed"),
    [
        ("https://api.github.com", "https://api.github.com/graphql", True),
        (
            "https://ghe.example.test/api/v3",
            "https://ghe.example.test/api/graphql",
            True,
        ),
        ("http://127.0.0.1:8930/github", "http://127.0.0.1:8930/github/graphql", False),
        (
            "https://proxy.example.test/gh",
            "https://proxy.example.test/gh/graphql",
            False,
        ),
    ],
)
def test_graphql_url_and_token_need_follow_the_rest_url(
    rest_url: str, expected: str, token_needed: bool
) -> None:
    assert graphql_url(rest_url) == expected
    assert needs_token(rest_url) is token_needed


def test_later_pages_ask_for_items_only() -> None:
    first = build_query(params(), first_page=True)
    later = build_query(params(), first_page=False)

    assert "fields(first: 100)" in first
    assert "fields(" not in later
    assert "fieldValueByName(name: $field)" in later
    assert "organization(login: $login)" in later
