"""The sync engine: one fetch per distinct query, failures isolated, values kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from app.mapping import MappingError, MappingSet, load_mapping_set
from app.service import Service
from app.store import repository
from connectors.base import ConfigurationError, RateLimitedError, TransientError

THREE = """\
      - {id: a, title: A, source: fake, metric: count, query: q1, target: 100}
      - {id: b, title: B, source: fake, metric: count, query: q1, target: 50}
      - {id: c, title: C, source: fake, metric: count, query: q2, target: 10}
"""


async def kr(service: Service, kr_id: str):  # type: ignore[no-untyped-def]
    async with service.database.session() as session:
        return await repository.get_key_result(session, kr_id)


async def measurements(service: Service, kr_id: str) -> int:
    async with service.database.session() as session:
        return await repository.count_measurements(session, kr_id)


class TestDedupe:
    async def test_identical_queries_are_fetched_once(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        fake_connector.answers = {"q1": 25.0, "q2": 5.0}
        await service.use_mappings(fake_mapping(THREE))

        report = await service.sync()

        assert sorted(fake_connector.calls) == ["q1", "q2"]
        stats = report.stats["fake"]
        assert (stats.queries, stats.key_results, stats.saved_by_dedupe) == (2, 3, 1)
        assert (await kr(service, "a")).progress == pytest.approx(0.25)
        assert (await kr(service, "b")).progress == pytest.approx(0.5)


class TestFailures:
    async def test_one_failing_query_leaves_the_others_updated(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        fake_connector.answers = {"q1": 10.0, "q2": TransientError("HTTP 503")}
        await service.use_mappings(fake_mapping(THREE))

        report = await service.sync()

        assert report.state == "partial"
        assert [o.key_result_id for o in report.failed] == ["c"]
        assert (await kr(service, "a")).value == 10.0
        failed = await kr(service, "c")
        assert (failed.value, failed.stale, failed.last_error) == (
            None,
            True,
            "HTTP 503",
        )

    async def test_failure_keeps_last_good_value_and_stores_nothing(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        await service.use_mappings(fake_mapping(THREE))
        fake_connector.answers = {"q1": 10.0, "q2": 4.0}
        await service.sync()

        fake_connector.answers["q2"] = ConfigurationError("HTTP 410: endpoint removed")
        report = await service.sync()

        row = await kr(service, "c")
        assert (row.value, row.stale, row.error_kind) == (4.0, True, "configuration")
        assert row.progress == pytest.approx(0.4)
        assert await measurements(service, "c") == 1
        assert {o.key_result_id: o.outcome for o in report.outcomes}["c"] == (
            "misconfigured"
        )

    async def test_recovery_clears_stale_without_a_new_measurement(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        await service.use_mappings(fake_mapping(THREE))
        fake_connector.answers = {"q1": 10.0, "q2": 4.0}
        await service.sync()
        fake_connector.answers["q2"] = TransientError("timeout")
        await service.sync()

        fake_connector.answers["q2"] = 4.0
        await service.sync()
        row = await kr(service, "c")
        assert (row.stale, row.last_error) == (False, None)
        assert await measurements(service, "c") == 1

        fake_connector.answers["q2"] = 6.0
        await service.sync()
        assert await measurements(service, "c") == 2

    async def test_a_connector_bug_fails_only_its_key_results(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        fake_connector.answers = {"q1": 1.0, "q2": ZeroDivisionError("oops")}
        await service.use_mappings(fake_mapping(THREE))

        await service.sync()

        row = await kr(service, "c")
        assert row.stale
        assert "internal error" in (row.last_error or "")
        assert (await kr(service, "a")).value == 1.0


class TestScope:
    async def test_no_scope_means_no_progress(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        fake_connector.answers = {"q1": None, "q2": 10.0}
        await service.use_mappings(fake_mapping(THREE))

        await service.sync()

        row = await kr(service, "a")
        assert (row.value, row.progress, row.status) == (None, None, "no_data")
        async with service.database.session() as session:
            found = await repository.get_objective(session, "obj")
        assert found is not None
        # Only c has progress (1.0), so the roll-up ignores a and b.
        assert found[0].progress == pytest.approx(1.0)


class TestArchive:
    async def test_removed_key_results_are_archived_with_history(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        fake_connector.answers = {"q1": 10.0, "q2": 4.0}
        await service.use_mappings(fake_mapping(THREE))
        await service.sync()

        await service.use_mappings(fake_mapping(THREE.split("\n", 1)[1]))

        row = await kr(service, "a")
        assert row.archived
        assert await measurements(service, "a") == 1
        async with service.database.session() as session:
            _, key_results = await repository.list_objectives(session)
        assert [k.id for k in key_results["obj"]] == ["b", "c"]


class TestWindows:
    async def test_windowed_metrics_get_their_window_and_group_by_it(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        krs = """\
      - {id: w1, title: W1, source: fake, metric: days, target: 100, window: 7d}
      - {id: w2, title: W2, source: fake, metric: days, target: 100, window: 7d}
      - {id: w3, title: W3, source: fake, metric: days, target: 100, window: period}
      - {id: w4, title: W4, source: fake, metric: days, target: 100}
"""
        await service.use_mappings(fake_mapping(krs))

        report = await service.sync()

        assert report.stats["fake"].queries == 3
        values = {
            kr_id: (await kr(service, kr_id)).value for kr_id in ("w1", "w3", "w4")
        }
        # The clock stands at 2026-11-15 12:00 UTC; the mapping's zone is UTC.
        assert values == {"w1": 7, "w3": 92, "w4": 46}

    def test_window_on_an_unwindowed_metric_is_a_problem(
        self, fake_mapping: Callable[[str], MappingSet]
    ) -> None:
        krs = (
            "      - {id: a, title: A, source: fake, metric: count, query: q,\n"
            "         target: 1, window: 7d}\n"
        )

        with pytest.raises(MappingError, match="not measured over a time window"):
            fake_mapping(krs)


TWO_SOURCES = """\
version: 1
sources:
  slow:
    type: fake
    concurrency: 1
  other:
    type: fake
    timeout: 10
objectives:
  - id: obj
    title: Objective
    period: 2026-Q4
    key_results:
      - {id: s1, title: S1, source: slow, metric: count, query: limited, target: 9}
      - {id: s2, title: S2, source: slow, metric: count, query: never-sent, target: 9}
      - {id: o1, title: O1, source: other, metric: count, query: fine, target: 9}
"""


class TestRateLimitDeferral:
    async def test_a_source_throttled_for_an_hour_is_deferred_and_others_go_on(
        self,
        service: Service,
        fake_connector: type[Any],
        clock: Any,
        write_mapping: Callable[..., Any],
    ) -> None:
        fake_connector.answers = {
            "limited": RateLimitedError("HTTP 429", retry_after=3600),
            "never-sent": 1.0,
            "fine": 3.0,
        }
        await service.use_mappings(
            load_mapping_set([write_mapping(TWO_SOURCES)], env={})
        )

        report = await service.sync()

        assert "never-sent" not in fake_connector.calls
        assert (await kr(service, "o1")).value == 3.0
        expected_retry = clock() + timedelta(hours=1)
        for kr_id in ("s1", "s2"):
            row = await kr(service, kr_id)
            assert (row.stale, row.error_kind) == (True, "rate_limited")
            assert row.next_try_at == expected_retry
            assert "next try at" in (row.last_error or "")
        assert report.stats["slow"].deferred_until == expected_retry

        fake_connector.calls.clear()
        clock.now += timedelta(minutes=30)
        await service.sync()
        assert fake_connector.calls == ["fine"]

        fake_connector.answers["limited"] = 5.0
        clock.now += timedelta(minutes=31)
        await service.sync()
        row = await kr(service, "s1")
        assert (row.value, row.stale, row.next_try_at) == (5.0, False, None)

    async def test_a_short_rate_limit_does_not_defer_the_source(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
    ) -> None:
        fake_connector.answers = {
            "q1": RateLimitedError("HTTP 429", retry_after=30),
            "q2": 1.0,
        }
        await service.use_mappings(fake_mapping(THREE))

        await service.sync()

        row = await kr(service, "a")
        assert (row.stale, row.next_try_at) == (True, None)


class TestScoreChanges:
    async def test_refresh_reports_what_moved_and_nothing_else(
        self,
        service: Service,
        fake_connector: type[Any],
        fake_mapping: Callable[[str], MappingSet],
        clock: Any,
    ) -> None:
        fake_connector.answers = {"q1": 10.0, "q2": 4.0}
        mappings = fake_mapping(THREE)
        await service.use_mappings(mappings)
        await service.sync()
        fake_connector.answers["q2"] = 6.0
        await service.sync()

        async with service.database.session() as session:
            _, previous = await repository.apply_updates(
                session,
                [repository.KeyResultUpdate("c", ok=True, value=8.0)],
                sync_id="manual",
                now=clock(),
            )
            changes = await repository.refresh_scores(
                session, mappings, clock(), previous
            )
            again = await repository.refresh_scores(session, mappings, clock())

        moved = {(c.subject, c.id): c for c in changes}
        assert set(moved) == {("key_result", "c"), ("objective", "obj")}
        kr_change = moved[("key_result", "c")]
        assert kr_change.before == {"progress": 0.6, "status": "on_track", "value": 6.0}
        assert kr_change.after["value"] == 8.0
        assert kr_change.progress_changed
        assert again == []
