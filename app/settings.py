"""All configuration, read from the environment with the `OKRSYNC_` prefix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./okrsync.db"


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
    host: str = Field(default="127.0.0.1", description="Address `serve` binds.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `serve` binds.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    @field_validator("mappings", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            parts = value.replace(os.pathsep, ",").split(",")
            return [Path(part.strip()) for part in parts if part.strip()]
        return value
