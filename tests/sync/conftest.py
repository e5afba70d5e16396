"""A scriptable fake connector, registered for the tests in this folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from app.mapping import MappingSet, load_mapping_set
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


class FakeConfig(SourceConfig):
    type: Literal["fake"]


class FakeConnector(Connector[FakeConfig]):
    """Answers each query from `answers`: a number, None, or an exception."""

    type = "fake"
    config_model = FakeConfig
    metrics = metric_table(Metric("count", "A scripted number."))

    answers: ClassVar[dict[str, Any]] = {}
    calls: ClassVar[list[str]] = []

    async def fetch(self, request: FetchRequest) -> Reading:
        query = request.query or ""
        self.calls.append(query)
        answer = self.answers[query]
        if isinstance(answer, BaseException):
            raise answer
        return Reading(value=answer, evidence=Evidence(request=f"FAKE {query}"))

    @property
    def request_count(self) -> int:
        return 1


@pytest.fixture
def fake_connector(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeConnector]]:
    installed = {**registry.available(), "fake": FakeConnector}
    monkeypatch.setattr(registry, "available", lambda: installed)
    FakeConnector.answers = {}
    FakeConnector.calls = []
    yield FakeConnector


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
