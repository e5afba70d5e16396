"""Settings of a PostHog source and parameters of its `insight` metric."""

from __future__ import annotations

import re
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import SourceConfig

DEFAULT_URL = "https://us.posthog.com"
"""PostHog US Cloud; EU Cloud is https://eu.posthog.com."""

PROJECT_KEY_PREFIX = "phc_"
"""Project API keys only send events; the query and insight APIs refuse them."""

SHORT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DIGITS = re.compile(r"[0-9]+")


class PostHogConfig(SourceConfig):
    """A PostHog project on PostHog Cloud (US or EU) or a self-hosted instance."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["posthog"] = Field(description="Selects the PostHog connector.")
    url: str = Field(
        default=DEFAULT_URL,
        description=(
            "The PostHog app URL: https://us.posthog.com (US Cloud), "
            "https://eu.posthog.com (EU Cloud) or a self-hosted instance's URL."
        ),
    )
    project_id: str = Field(
        description="The numeric project id, from the project's settings page."
    )
    token: SecretStr = Field(
        description=(
            "A personal API key (phx_...) with the query:read and "
            "insight:read scopes, sent as a Bearer token."
        )
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"PostHog url {value!r} is not a valid URL") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"PostHog url {value!r} must start with http:// or https:// and "
                f"name a host, e.g. {DEFAULT_URL}"
            )
        if url.userinfo or url.query or url.fragment:
            raise ValueError(
                f"PostHog url must be a plain base URL such as {DEFAULT_URL}, "
                "without credentials, query or fragment"
            )
        if url.host.endswith(".i.posthog.com"):
            # The capture host of the JavaScript snippet does not serve the
            # private API, and admins copy it from there.
            region = "eu" if url.host.startswith("eu.") else "us"
            raise ValueError(
                f"PostHog url {value!r} is the event ingestion host; the API "
                f"is at https://{region}.posthog.com"
            )
        return value.rstrip("/")

    @field_validator("project_id", mode="before")
    @classmethod
    def _check_project_id(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("PostHog project_id must be a number, not true/false")
        text = str(value).strip()
        if not DIGITS.fullmatch(text):
            raise ValueError(
                f"PostHog project_id {text!r} must be the numeric project id "
                "shown in the project's settings, e.g. 12345"
            )
        return text

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        # A key read from a file or an env var often ends in a newline.
        token = value.get_secret_value().strip()
        if not token:
            raise ValueError(
                "PostHog token is empty; set the environment variable or file "
                "it refers to"
            )
        if token.startswith(PROJECT_KEY_PREFIX):
            raise ValueError(
                "PostHog token is a project API key (phc_...), which can only "
                "send events; create a personal API key (phx_...) with the "
                "query:read and insight:read scopes"
            )
        return SecretStr(token)


class InsightParams(BaseModel):
    """Which saved insight `insight` reads, and which of its series."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    insight: int | str = Field(
        description=(
            "The insight's numeric id, or its short id from the insight's URL "
            "(/insights/<short id>)."
        )
    )
    series: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Which series to read when the insight has several (0 = first); "
            "required then."
        ),
    )

    @field_validator("insight", mode="before")
    @classmethod
    def _check_insight(cls, value: Any) -> Any:
        # bool is an int subclass: `insight: true` is a typo, not insight 1.
        if isinstance(value, bool):
            raise ValueError("insight must be an id or a short id, not true/false")
        if isinstance(value, str):
            value = value.strip()
            if DIGITS.fullmatch(value):
                value = int(value)
            elif not SHORT_ID.fullmatch(value):
                raise ValueError(
                    f"insight {value!r} is neither a numeric id nor a short id "
                    "such as sJslPafh (the part after /insights/ in its URL)"
                )
        if isinstance(value, int) and value < 1:
            raise ValueError(f"insight id {value} must be 1 or more")
        return value

    @field_validator("series", mode="before")
    @classmethod
    def _series_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("series must be an index such as 0, not true/false")
        if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
            return int(value.strip())
        return value
