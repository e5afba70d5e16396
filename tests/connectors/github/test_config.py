"""Validation of the GitHub source block and the milestone params."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors import registry
from connectors.base import NoParams
from connectors.github import (
    GitHubConfig,
    GitHubConnector,
    MilestoneParams,
    ProjectParams,
)


def config(**settings: Any) -> GitHubConfig:
    return GitHubConfig.model_validate({"type": "github", **settings})


def test_defaults_point_at_github_com_with_full_pages() -> None:
    made = config()

    assert made.url == "https://api.github.com"
    assert made.token is None
    assert made.per_page == 100
    assert made.max_pages == 100


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://ghe.example.test/api/v3/", "https://ghe.example.test/api/v3"),
        ("http://127.0.0.1:8930/github", "http://127.0.0.1:8930/github"),
        (" https://api.github.com/ ", "https://api.github.com"),
    ],
)
def test_url_keeps_its_path_prefix_without_trailing_slash(
    given: str, kept: str
) -> None:
    assert config(url=given).url == kept


@pytest.mark.parametrize(
    "bad",
    [
        "api.github.com",
        "ftp://api.github.com",
        "https://",
        "https://user:pw@ghe.example.test/api/v3",
        "https://api.github.com/?per_page=5",
    ],
)
def test_url_without_http_scheme_and_host_or_with_extras_is_refused(
    bad: str,
) -> None:
    with pytest.raises(ValidationError, match="GitHub API URL"):
        config(url=bad)


@pytest.mark.parametrize("per_page", [0, 101])
def test_per_page_outside_github_limits_is_refused(per_page: int) -> None:
    with pytest.raises(ValidationError, match="per_page"):
        config(per_page=per_page)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        config(page_size=10)


def test_token_is_stripped_and_hidden_in_repr() -> None:
    made = config(token="  ghp_secret123\n")

    assert made.token is not None
    assert made.token.get_secret_value() == "ghp_secret123"
    assert "ghp_secret123" not in repr(made)


def test_empty_token_is_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="token is empty"):
        config(token="  ")


@pytest.mark.parametrize(
    ("given", "number"), [(7, 7), ("7", 7), (" 12 ", 12), ("007", 7)]
)
def test_milestone_given_as_digits_is_a_number(given: object, number: int) -> None:
    params = MilestoneParams.model_validate({"repo": "acme/app", "milestone": given})

    assert params.milestone == number


def test_milestone_given_as_text_is_a_title_kept_exactly() -> None:
    params = MilestoneParams.model_validate({"repo": "acme/app", "milestone": "v2.0 "})

    assert params.milestone == "v2.0 "
    assert (params.owner, params.name) == ("acme", "app")


@pytest.mark.parametrize("bad", [0, -1, True, "", "   "])
def test_milestone_zero_bool_or_blank_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError, match="milestone"):
        MilestoneParams.model_validate({"repo": "acme/app", "milestone": bad})


@pytest.mark.parametrize(
    "bad", ["acme", "acme/app/x", "/app", "acme/", "acme/..", "-acme/app", "a b/c"]
)
def test_repo_not_of_form_owner_name_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="owner/name"):
        MilestoneParams.model_validate({"repo": bad, "milestone": 1})


def test_connector_declares_its_metrics_and_config() -> None:
    metrics = GitHubConnector.metrics

    assert GitHubConnector.type == "github"
    assert GitHubConnector.config_model is GitHubConfig
    assert set(metrics) == {"issue_count", "milestone_percent", "project_percent"}
    assert metrics["issue_count"].needs_query
    assert metrics["issue_count"].params is NoParams
    assert not metrics["milestone_percent"].needs_query
    assert metrics["milestone_percent"].params is MilestoneParams
    assert not metrics["project_percent"].needs_query
    assert metrics["project_percent"].params is ProjectParams


def test_connector_is_found_through_its_entry_point() -> None:
    assert registry.get("github") is GitHubConnector
