"""Fixtures shared by the whole suite, including a scriptable fake connector."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import psycopg
import pytest
from sqlmodel import SQLModel

from app.clock import FrozenClock
from app.mapping import MappingSet, load_mapping_set
from app.service import Service
from app.settings import Settings
from app.store.db import Database
from connectors import registry
from connectors.base import (
    Connector,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    SourceConfig,
    metric_table,
)

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session.

    Uses OKRSYNC_TEST_POSTGRES_URL as it is when set (CI creates and drops
    that database); otherwise creates one on the local server and drops it
    afterwards. Skips when no server answers.
    """
    given = os.environ.get("OKRSYNC_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    try:
        admin = psycopg.connect(LOCAL_POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {LOCAL_POSTGRES}: {exc}")
    name = f"okrsync_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield LOCAL_POSTGRES.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def _fresh_schema(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.drop_all)
        await connection.run_sync(SQLModel.metadata.create_all)


@pytest.fixture
async def service(database_url: str, clock: FrozenClock) -> AsyncIterator[Service]:
    """A service on an empty database (SQLite, then PostgreSQL), no mappings."""

    async def no_sleep(_seconds: float) -> None:
        return None

    settings = Settings(database_url=database_url, mappings=[], sync_interval=0)
    service = Service(settings, clock=clock, sleep=no_sleep)
    await _fresh_schema(service.database)
    yield service
    await service.close()


class FakeConfig(SourceConfig):
    type: Literal["fake"]


class FakeConnector(Connector[FakeConfig]):
    """Answers each query from `answers`.

    An answer is a number, None, an exception to raise, or (number, item keys).
    """

    type = "fake"
    config_model = FakeConfig
    metrics = metric_table(
        Metric("count", "A scripted number."),
        Metric("days", "Days in the window.", needs_query=False, windowed=True),
    )

    answers: ClassVar[dict[str, Any]] = {}
    calls: ClassVar[list[str]] = []

    async def fetch(self, request: FetchRequest) -> Reading:
        if request.window is not None:
            days = (request.window.last_day - request.window.first_day).days + 1
            self.calls.append(f"days {request.window.first_day}")
            return Reading(value=days, evidence=Evidence(request="FAKE days"))
        query = request.query or ""
        self.calls.append(query)
        self._sent = getattr(self, "_sent", 0) + 1
        answer = self.answers[query]
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, tuple):
            value, items = answer
            evidence = Evidence(request=f"FAKE {query}", items=items)
            evidence.items_total = len(items)
            return Reading(value=value, evidence=evidence)
        return Reading(value=answer, evidence=Evidence(request=f"FAKE {query}"))

    @property
    def request_count(self) -> int:
        return getattr(self, "_sent", 0)


@pytest.fixture
def fake_connector(monkeypatch: pytest.MonkeyPatch) -> type[FakeConnector]:
    installed = {**registry.available(), "fake": FakeConnector}
    monkeypatch.setattr(registry, "available", lambda: installed)
    FakeConnector.answers = {}
    FakeConnector.calls = []
    return FakeConnector


@pytest.fixture
def fake_mapping(
    fake_connector: type[FakeConnector], write_mapping: Callable[..., Path]
) -> Callable[[str], MappingSet]:
    """Load key results (YAML list items) under one objective and a fake source."""

    def load(key_results: str) -> MappingSet:
        text = (
            "version: 1\nsources:\n  fake:\n    type: fake\nobjectives:\n"
            "  - id: obj\n    title: Objective\n    period: 2026-Q4\n"
            "    key_results:\n" + key_results
        )
        return load_mapping_set([write_mapping(text)], env={})

    return load
