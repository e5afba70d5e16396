"""All configuration, read from the environment with the `OKRSYNC_` prefix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./okrsync.db"

DEFAULT_RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)
"""5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h: about a day in all."""


class Settings(BaseSettings):
    """okrsync settings. Each field reads `OKRSYNC_<NAME>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="OKRSYNC_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite file by default, PostgreSQL in production.",
    )
    mappings: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Mapping files or folders of *.yaml, separated by commas or "
        f"{os.pathsep!r}.",
    )
    sync_interval: float = Field(
        default=900.0,
        ge=0,
        description="Seconds between scheduled syncs; 0 turns the schedule off.",
    )
    schedule_lease_ttl: float = Field(
        default=60.0,
        ge=3,
        description="Seconds a replica's claim on the schedule lasts without a "
        "heartbeat; it renews every third of that while syncing. After a crash "
        "another replica takes over within this time.",
    )
    schedule_poll_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds (jittered) between a replica's looks at whether the "
        "scheduled sync is due.",
    )
    db_pool_size: int = Field(
        default=5, ge=1, description="PostgreSQL connections each process keeps."
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Extra PostgreSQL connections each process may open under load.",
    )
    db_pool_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds to wait for a free PostgreSQL connection.",
    )
    db_pool_pre_ping: bool = Field(
        default=True,
        description="Test each PostgreSQL connection as it is taken from the pool.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` binds.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `serve` binds.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    # The API's callers; see README, "Who may do what".
    anonymous_read: bool = Field(
        default=False,
        description="Let callers without a token use read routes (a wall "
        "dashboard on a closed network).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API, separated by commas.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request body the API accepts (webhooks have their own).",
    )

    # Webhooks in (GitHub, Jira) and out (subscriptions); see docs/webhooks.md.
    webhook_max_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest incoming webhook body accepted, in bytes.",
    )
    webhook_debounce_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Seconds to gather incoming webhooks into one re-sync.",
    )
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Let subscriptions send to private, loopback, link-local and "
        "other non-public addresses (tests, closed networks).",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=120, description="Seconds to wait for a subscriber."
    )
    webhook_retry_delays: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [float(d) for d in DEFAULT_RETRY_DELAYS],
        description="Seconds before each retry of a failed delivery, separated by "
        "commas; when they are used up the delivery fails.",
    )
    webhook_disable_after: int = Field(
        default=20,
        ge=1,
        description="Consecutive failed attempts after which a subscription is "
        "disabled.",
    )
    webhook_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between looks for due deliveries."
    )

    @field_validator("mappings", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            parts = value.replace(os.pathsep, ",").split(",")
            return [Path(part.strip()) for part in parts if part.strip()]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_delays", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_delays")
    @classmethod
    def _check_delays(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays must be 0 seconds or more")
        return value
