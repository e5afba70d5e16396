"""Groups key results so that each distinct upstream question is asked once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from app.mapping.load import LoadedKeyResult, Source
from app.sync.windows import resolve_window
from connectors.base import FetchRequest, Window
from connectors.http import dumps


@dataclass(frozen=True)
class QueryKey:
    """What makes two key results ask the same thing of the same source."""

    source: str
    metric: str
    query: str | None
    params: str
    window: tuple[str, str] | None = None


@dataclass
class Query:
    """One upstream question and the key results waiting for its answer."""

    key: QueryKey
    request: FetchRequest
    key_results: list[LoadedKeyResult] = field(default_factory=list)


@dataclass
class SourcePlan:
    """Every question to ask one source in a sync."""

    source: Source
    queries: dict[QueryKey, Query] = field(default_factory=dict)

    @property
    def key_result_count(self) -> int:
        return sum(len(query.key_results) for query in self.queries.values())


def plan(key_results: Iterable[LoadedKeyResult], now: datetime) -> list[SourcePlan]:
    """Group key results by source, then by (metric, query, params, window)."""
    sources: dict[str, SourcePlan] = {}
    for kr in key_results:
        if kr.source is None or kr.params is None:
            continue
        source_plan = sources.setdefault(
            kr.source.fingerprint, SourcePlan(source=kr.source)
        )
        metric = kr.spec.metric or ""
        window = _window_of(kr, metric, now)
        key = QueryKey(
            source=kr.source.fingerprint,
            metric=metric,
            query=kr.spec.query,
            params=dumps(kr.params.model_dump(mode="json")),
            window=(window.start.isoformat(), window.end.isoformat())
            if window
            else None,
        )
        query = source_plan.queries.get(key)
        if query is None:
            request = FetchRequest(
                metric=metric, query=kr.spec.query, params=kr.params, window=window
            )
            query = source_plan.queries[key] = Query(key=key, request=request)
        query.key_results.append(kr)
    return list(sources.values())


def _window_of(kr: LoadedKeyResult, metric: str, now: datetime) -> Window | None:
    assert kr.source is not None
    declared = kr.source.connector.metrics.get(metric)
    if declared is None or not declared.windowed:
        return None
    period = kr.objective.period
    return resolve_window(kr.spec.window, period, kr.mapping.timezone, now)
