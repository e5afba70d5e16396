"""Settings of a GitHub source and parameters of its milestone and project metrics."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)

from connectors.base import SourceConfig

DEFAULT_API_URL = "https://api.github.com"

OWNER_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
NAME_PATTERN = r"[A-Za-z0-9._-]{1,100}"
REPO_RE = re.compile(rf"^({OWNER_PATTERN})/({NAME_PATTERN})$")
LOGIN_RE = re.compile(rf"^{OWNER_PATTERN}$")

ItemType = Literal["ISSUE", "PULL_REQUEST", "DRAFT_ISSUE"]
"""Kinds of project item a `project_percent` reading can be limited to."""


class GitHubConfig(SourceConfig):
    """A github.com or GitHub Enterprise Server source block."""

    type: Literal["github"] = Field(description="Always `github` for this connector.")
    url: str = Field(
        default=DEFAULT_API_URL,
        description=(
            "REST API base URL: https://api.github.com for github.com, "
            "https://HOST/api/v3 for GitHub Enterprise Server."
        ),
    )
    token: SecretStr | None = Field(
        default=None,
        description=(
            "Personal access or app token, sent as a Bearer token. Optional: "
            "without one GitHub allows far fewer requests per hour."
        ),
    )
    per_page: int = Field(
        default=100, ge=1, le=100, description="Items asked for per page (1-100)."
    )
    max_pages: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Most pages read for one reading before giving up.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"the GitHub API URL {value!r} must start with http:// or "
                "https:// and name a host, e.g. https://api.github.com"
            )
        if parts.username or parts.password:
            raise ValueError(
                "the GitHub API URL must not carry credentials; put the token "
                "in `token:` instead"
            )
        if parts.query or parts.fragment:
            raise ValueError(
                f"the GitHub API URL {value!r} must not carry a query or "
                "fragment; give only the base, e.g. https://HOST/api/v3"
            )
        return value.rstrip("/")

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # A token read from a file or an env var often ends in a newline,
        # which is not valid in a header.
        token = value.get_secret_value().strip()
        if not token:
            raise ValueError(
                "the GitHub token is empty; set the environment variable it "
                "refers to, or remove `token:` to go unauthenticated"
            )
        return SecretStr(token)


class MilestoneParams(BaseModel):
    """Which milestone `milestone_percent` measures.

    A number (or a string of digits) is the milestone number; any other
    string is its exact title.
    """

    model_config = ConfigDict(extra="forbid")

    repo: str = Field(description="The repository as owner/name, e.g. acme/app.")
    milestone: int | str = Field(
        description="The milestone number, or its exact title."
    )

    @field_validator("repo")
    @classmethod
    def _check_repo(cls, value: str) -> str:
        value = value.strip()
        match = REPO_RE.match(value)
        if match is None or set(match.group(2)) <= {"."}:
            raise ValueError(
                f"repo {value!r} is not of the form owner/name, e.g. acme/app"
            )
        return value

    @field_validator("milestone", mode="before")
    @classmethod
    def _check_milestone(cls, value: object) -> object:
        # bool is an int subclass: `milestone: true` is a typo, not milestone 1.
        if isinstance(value, bool):
            raise ValueError("milestone must be a number or a title, not true/false")
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and value < 1:
            raise ValueError(f"milestone number {value} must be 1 or more")
        if isinstance(value, str) and not value.strip():
            raise ValueError("milestone title must not be empty")
        return value

    @property
    def owner(self) -> str:
        """The repository's owner (user or organisation)."""
        return self.repo.split("/", 1)[0]

    @property
    def name(self) -> str:
        """The repository's name without its owner."""
        return self.repo.split("/", 1)[1]


class ProjectParams(BaseModel):
    """Which Projects (v2) board `project_percent` measures, and what counts as done.

    Option names in `done` are compared exactly (case and spelling), after
    trimming spaces at either end: they are names a project admin chose and
    the board shows, so "Done" and "done" may well be different columns.
    """

    model_config = ConfigDict(extra="forbid")

    owner: str = Field(description="The organization or user login, e.g. acme.")
    owner_type: Literal["organization", "user"] = Field(
        default="organization",
        description="Whether `owner` is an organization or a user.",
    )
    project: int = Field(
        ge=1, description="The project number, as in /orgs/acme/projects/5."
    )
    field: str = Field(
        default="Status", description="The single-select field holding the status."
    )
    done: list[str] = Field(
        default_factory=lambda: ["Done"],
        description="The field's option names that count as done (exact names).",
    )
    include_archived: bool = Field(
        default=False, description="Count archived items too."
    )
    item_types: list[ItemType] | None = Field(
        default=None,
        description=(
            "Count only these kinds of item (ISSUE, PULL_REQUEST, DRAFT_ISSUE); "
            "all kinds when left out."
        ),
    )

    @field_validator("owner")
    @classmethod
    def _check_owner(cls, value: str) -> str:
        value = value.strip()
        if not LOGIN_RE.match(value):
            raise ValueError(
                f"owner {value!r} is not a GitHub login; give the organization or "
                "user name as in the project's URL, e.g. acme"
            )
        return value

    @field_validator("project", mode="before")
    @classmethod
    def _check_project(cls, value: object) -> object:
        # bool is an int subclass: `project: true` is a typo, not project 1.
        if isinstance(value, bool):
            raise ValueError("project must be the project's number, not true/false")
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value

    @field_validator("field")
    @classmethod
    def _check_field(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("field must name the project's status field, e.g. Status")
        return value

    @field_validator("done")
    @classmethod
    def _check_done(cls, value: list[str]) -> list[str]:
        names = list(dict.fromkeys(name.strip() for name in value))
        if not names or "" in names:
            raise ValueError(
                "done must list at least one option name of the field, e.g. [Done]"
            )
        return names

    @field_validator("item_types", mode="before")
    @classmethod
    def _check_item_types(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            # Accept the spelling people write (pull_request, draft issue) and
            # hand GitHub's enum names on to the Literal check.
            value = [
                str(kind).strip().upper().replace(" ", "_").replace("-", "_")
                for kind in value
            ]
            if not value:
                raise ValueError(
                    "item_types must name at least one of ISSUE, PULL_REQUEST, "
                    "DRAFT_ISSUE, or be left out to count every kind"
                )
            return list(dict.fromkeys(value))
        return value
