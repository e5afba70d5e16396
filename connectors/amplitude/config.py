"""Settings of an Amplitude source block and parameters of its metric."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import SourceConfig

REGION_URLS = {
    "us": "https://amplitude.com",
    "eu": "https://analytics.eu.amplitude.com",
}
"""Dashboard REST API hosts by data residency; the API lives under /api/2."""


class AmplitudeConfig(SourceConfig):
    """An Amplitude project read through the Dashboard REST API."""

    # Validation errors would otherwise echo the block, keys included.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["amplitude"] = Field(description="Selects the Amplitude connector.")
    api_key: SecretStr = Field(description="The project's API key.")
    secret_key: SecretStr = Field(description="The project's secret key.")
    region: Literal["us", "eu"] = Field(
        default="us",
        description=(
            "Where the project's data resides: us (amplitude.com) or eu "
            "(analytics.eu.amplitude.com)."
        ),
    )
    url: str | None = Field(
        default=None,
        description=(
            "Overrides the region's host, e.g. for a sandbox; the connector adds "
            "/api/2/events/segmentation."
        ),
    )

    @field_validator("api_key", "secret_key")
    @classmethod
    def _check_key(cls, value: SecretStr) -> SecretStr:
        # A key read from a file or an env var often ends in a newline.
        key = value.get_secret_value().strip()
        if not key:
            raise ValueError(
                "the Amplitude key is empty; set the environment variable or "
                "file it refers to (Settings > Projects > General)"
            )
        return SecretStr(key)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL:
            raise ValueError(
                f"the Amplitude url {value!r} is not a valid URL"
            ) from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"the Amplitude url {value!r} must start with http:// or "
                "https:// and name a host, e.g. https://analytics.eu.amplitude.com"
            )
        if url.userinfo or url.query or url.fragment:
            raise ValueError(
                "the Amplitude url must not carry credentials, a query or a "
                "fragment; put the keys in api_key and secret_key"
            )
        return value.rstrip("/")

    @property
    def base_url(self) -> str:
        """The host requests go to: `url` if set, else the region's."""
        return self.url or REGION_URLS[self.region]


class EventCountParams(BaseModel):
    """Which event to count, and how."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(
        description=(
            "The event type, e.g. Play Song; ce:NAME for a custom event, "
            "_active for any active event, _all for any event."
        )
    )
    measure: Literal["totals", "uniques"] = Field(
        default="totals",
        description="totals: every time it happened; uniques: distinct users.",
    )

    @field_validator("event")
    @classmethod
    def _check_event(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("event must name an Amplitude event type, e.g. Play Song")
        return value
