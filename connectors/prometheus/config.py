"""Settings of a Prometheus source block."""

from __future__ import annotations

from typing import Literal, Self

import httpx
from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connectors.base import SourceConfig


class PrometheusConfig(SourceConfig):
    """A Prometheus server, or anything serving its HTTP API (Thanos, Mimir...)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["prometheus"] = Field(description="Selects the Prometheus connector.")
    url: str = Field(
        description=(
            "Base URL of the server, with any path prefix but without "
            "/api/v1, e.g. http://prometheus:9090 or https://host/prometheus."
        )
    )
    token: SecretStr | None = Field(
        default=None, description="Sent as `Authorization: Bearer <token>`."
    )
    username: str | None = Field(default=None, description="User for basic auth.")
    password: SecretStr | None = Field(
        default=None, description="Password for basic auth."
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

    @field_validator("token", "password")
    @classmethod
    def _strip_secret(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None:
            return None
        # A secret read from a file or an env var often ends in a newline.
        secret = value.get_secret_value().strip()
        if not secret:
            raise ValueError(
                f"Prometheus {info.field_name} is empty; set the environment "
                "variable or file it refers to, or remove the setting"
            )
        return SecretStr(secret)

    @model_validator(mode="after")
    def _check_credentials(self) -> Self:
        if self.token is not None and (self.username or self.password):
            raise ValueError(
                "Prometheus source sets both `token` (bearer) and basic auth "
                "(`username`/`password`); keep one"
            )
        if self.username and self.password is None:
            raise ValueError(
                "Prometheus source has a `username` but no `password`; add the "
                "password or remove the username"
            )
        if self.password is not None and not self.username:
            raise ValueError(
                "Prometheus source has a `password` but no `username`; add the "
                "username or remove the password"
            )
        return self
