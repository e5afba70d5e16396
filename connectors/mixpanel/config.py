"""Settings of a Mixpanel source block and parameters of its metric."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import SourceConfig

REGION_URLS = {
    "us": "https://mixpanel.com",
    "eu": "https://eu.mixpanel.com",
    "in": "https://in.mixpanel.com",
}
"""Query API hosts by data residency; the API lives under /api/query."""


def _digits(value: object, what: str) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError(
                f"Mixpanel {what} {value!r} must be a number, as shown in the "
                "project settings, e.g. 2195193"
            )
    return value


class MixpanelConfig(SourceConfig):
    """A Mixpanel project read through the Query API with a service account."""

    # Validation errors would otherwise echo the block, secret included.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["mixpanel"] = Field(description="Selects the Mixpanel connector.")
    project_id: str = Field(description="The project's numeric id, e.g. 2195193.")
    username: str = Field(
        description=(
            "The service account's username, e.g. okrs.1a2b3c.mp-service-account."
        )
    )
    secret: SecretStr = Field(description="The service account's secret.")
    region: Literal["us", "eu", "in"] = Field(
        default="us",
        description=(
            "Where the project's data resides: us (mixpanel.com), eu "
            "(eu.mixpanel.com) or in (in.mixpanel.com)."
        ),
    )
    workspace_id: str | None = Field(
        default=None,
        description=(
            "For projects with Data Views: the global data view's workspace id."
        ),
    )
    url: str | None = Field(
        default=None,
        description=(
            "Overrides the region's host, e.g. for a sandbox; the connector adds "
            "/api/query/segmentation."
        ),
    )

    @field_validator("project_id", mode="before")
    @classmethod
    def _check_project_id(cls, value: object) -> object:
        return _digits(value, "project_id")

    @field_validator("workspace_id", mode="before")
    @classmethod
    def _check_workspace_id(cls, value: object) -> object:
        return None if value is None else _digits(value, "workspace_id")

    @field_validator("username")
    @classmethod
    def _check_username(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(
                "the Mixpanel username is empty; give the service account's "
                "username from Organization Settings > Service Accounts"
            )
        return value

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: SecretStr) -> SecretStr:
        # A secret read from a file or an env var often ends in a newline.
        secret = value.get_secret_value().strip()
        if not secret:
            raise ValueError(
                "the Mixpanel secret is empty; set the environment variable or "
                "file it refers to"
            )
        return SecretStr(secret)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL:
            raise ValueError(f"the Mixpanel url {value!r} is not a valid URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"the Mixpanel url {value!r} must start with http:// or https:// "
                "and name a host, e.g. https://eu.mixpanel.com"
            )
        if url.userinfo or url.query or url.fragment:
            raise ValueError(
                "the Mixpanel url must not carry credentials, a query or a "
                "fragment; put the service account in username and secret"
            )
        return value.rstrip("/")

    @property
    def base_url(self) -> str:
        """The host requests go to: `url` if set, else the region's."""
        return self.url or REGION_URLS[self.region]


class EventCountParams(BaseModel):
    """Which event to count, and how."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="The event's name as Mixpanel shows it.")
    type: Literal["general", "unique"] = Field(
        default="general",
        description="general: every time it happened; unique: distinct users.",
    )

    @field_validator("event")
    @classmethod
    def _check_event(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("event must name a Mixpanel event, e.g. Signed up")
        return value
