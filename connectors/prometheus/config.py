"""Settings of a Prometheus source block."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import (
    ConfigDict,
    Field,
    field_validator,
)

from connectors.base import BearerOrBasicAuth


class PrometheusConfig(BearerOrBasicAuth):
    """A Prometheus server, or anything serving its HTTP API (Thanos, Mimir...)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["prometheus"] = Field(description="Selects the Prometheus connector.")
    url: str = Field(
        description=(
            "Base URL of the server, with any path prefix but without "
            "/api/v1, e.g. http://prometheus:9090 or https://host/prometheus."
        )
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"Prometheus url {value!r} is not a valid URL") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"Prometheus url {value!r} must start with http:// or https:// "
                "and name a host, e.g. http://prometheus:9090"
            )
        if url.userinfo:
            raise ValueError(
                "Prometheus url must not carry credentials; set `username` and "
                "`password` or `token` instead"
            )
        if url.query or url.fragment:
            raise ValueError(
                f"Prometheus url {value!r} must not carry a query or fragment; "
                "give only the base, e.g. http://prometheus:9090"
            )
        value = value.rstrip("/")
        if value.endswith("/api/v1"):
            raise ValueError(
                f"Prometheus url {value!r} must not end in /api/v1; the "
                "connector adds it, so give only the base"
            )
        return value
