"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.clock import FrozenClock
from app.service import Service
from app.settings import Settings

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
"""A fixed 'now' inside 2026-Q4 (about half of the quarter has passed)."""


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[..., Path]:
    """Write mapping text to a file and return its path."""

    def write(text: str, name: str = "okrs.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
async def service(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Service]:
    """A service on a fresh SQLite file, schema created, no mappings."""

    async def no_sleep(_seconds: float) -> None:
        return None

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'test.db'}", mappings=[], sync_interval=0
    )
    service = Service(settings, clock=clock, sleep=no_sleep)
    await service.database.create_schema()
    yield service
    await service.close()
