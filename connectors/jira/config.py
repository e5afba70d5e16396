"""Settings of a Jira source block and of the Jira metrics' `params:` blocks."""

from __future__ import annotations

from typing import Literal, Self

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from connectors.base import SourceConfig


class JiraConfig(SourceConfig):
    """A Jira Cloud site or a Jira Data Center / Server instance."""

    # Validation errors would otherwise echo the whole block, token included.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["jira"] = Field(description="Selects the Jira connector.")
    url: str = Field(
        description=(
            "Base URL of the Jira site, with any path prefix, e.g. "
            "https://acme.atlassian.net or https://jira.example.com/jira."
        )
    )
    deployment: Literal["cloud", "datacenter"] = Field(
        default="cloud",
        description="Jira Cloud, or Jira Data Center / Server (self-hosted).",
    )
    email: str | None = Field(
        default=None,
        description=(
            "Cloud: the Atlassian account e-mail the API token belongs to. "
            "Data Center: the username for basic auth; leave it out to send "
            "the token as a personal access token (Bearer)."
        ),
    )
    token: SecretStr | None = Field(
        default=None,
        description=(
            "Cloud: an API token. Data Center: a personal access token, or the "
            "password when `email` holds a username. Leave out for open sites."
        ),
    )
    page_size: int = Field(
        default=100, ge=1, le=1000, description="Issues asked for per search page."
    )
    max_pages: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="Most search pages read for one reading; more is an error.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"Jira url {value!r} is not a valid URL.") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"Jira url {value!r} must start with http:// or https:// "
                "and name a host."
            )
        if url.userinfo:
            raise ValueError(
                "Jira url must not carry credentials; set `email` and `token` instead."
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_credentials(self) -> Self:
        if self.email and self.token is None:
            raise ValueError(
                "Jira source has an `email` but no `token`; "
                "add the token or remove the email."
            )
        if self.deployment == "cloud" and self.token is not None and not self.email:
            raise ValueError(
                "Jira Cloud source has a `token` but no `email`; Cloud API tokens "
                "need the e-mail of the account they belong to."
            )
        return self


class FieldSumParams(BaseModel):
    """Parameters of `field_sum`: which numeric field to add up."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        min_length=1,
        description=(
            "The field to sum, by its name as shown in Jira (e.g. 'Story Points') "
            "or by its id (e.g. 'customfield_10016')."
        ),
    )
    done_only: bool = Field(
        default=False,
        description="Sum only issues whose status category is done.",
    )
