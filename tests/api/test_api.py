"""The REST API over a synced service: reads, syncs and problem answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.problems import MEDIA_TYPE
from app.mapping import MappingSet, load_mapping_set
from app.service import Service
from tests.helpers import api_client

KRS = """\
      - {id: a, title: A, source: fake, metric: count, query: q1, target: 100}
      - {id: b, title: B, source: fake, metric: count, query: q2, start: 40, target: 5}
"""


@pytest.fixture
async def client(
    service: Service,
    fake_connector: type[Any],
    fake_mapping: Callable[[str], MappingSet],
) -> AsyncIterator[httpx.AsyncClient]:
    fake_connector.answers = {"q1": 50.0, "q2": 12.0}
    await service.use_mappings(fake_mapping(KRS))
    await service.sync()
    async with api_client(service) as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:okrsync:problem:")
    assert body["title"]
    assert body["detail"]
    return body


class TestReads:
    async def test_objectives_list_carries_progress(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/objectives")

        assert response.status_code == 200
        [objective] = response.json()["items"]
        progress = {kr["id"]: kr["progress"] for kr in objective["key_results"]}
        assert progress == {"a": pytest.approx(0.5), "b": pytest.approx(0.8)}
        assert objective["progress"] == pytest.approx(0.65)
        assert objective["period"] == {
            "label": "2026-Q4",
            "start": "2026-10-01",
            "end": "2026-12-31",
        }

    @pytest.mark.parametrize(
        ("query", "count"),
        [("team=nobody", 0), ("period=2026-Q4", 1), ("period=2026-Q3", 0)],
    )
    async def test_objective_filters(
        self, client: httpx.AsyncClient, query: str, count: int
    ) -> None:
        response = await client.get(f"/api/v1/objectives?{query}")

        assert len(response.json()["items"]) == count

    async def test_key_result_shows_value_and_freshness(
        self, client: httpx.AsyncClient
    ) -> None:
        body = (await client.get("/api/v1/key-results/b")).json()

        assert body["value"] == 12.0
        assert body["direction"] == "decrease"
        assert body["stale"] is False
        assert body["synced_at"].startswith("2026-11-15T12:00:00")
        assert body["status"] in {"on_track", "at_risk", "off_track"}

    async def test_history_filters_by_time(self, client: httpx.AsyncClient) -> None:
        url = "/api/v1/key-results/a/history"

        everything = (await client.get(url)).json()["measurements"]
        before = (await client.get(url, params={"until": "2026-11-01T00:00Z"})).json()

        assert [m["value"] for m in everything] == [50.0]
        assert before["measurements"] == []


class TestSyncs:
    async def test_post_starts_a_sync_that_can_be_polled(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/api/v1/syncs")

        assert response.status_code == 202
        sync_url = response.headers["location"]
        body: dict[str, Any] = {}
        for _ in range(200):
            body = (await client.get(sync_url)).json()
            if body["state"] not in ("queued", "running"):
                break
            await asyncio.sleep(0.01)
        assert body["state"] == "succeeded"
        assert body["requests"] == 2
        assert body["sources"]["fake"]["queries"] == 2
        assert {o["key_result_id"] for o in body["key_results"]} == {"a", "b"}


class TestProblems:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/objectives/nope",
            "/api/v1/key-results/nope",
            "/api/v1/key-results/nope/history",
            "/api/v1/syncs/nope",
            "/api/v1/unknown",
        ],
    )
    async def test_unknown_ids_and_routes_answer_404(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        assert_problem(await client.get(path), 404)

    async def test_wrong_method_answers_405(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.delete("/api/v1/objectives"), 405)

    @pytest.mark.parametrize(
        "query",
        [
            "status=great",
            "since=yesterday",
            "since=2026-11-01T00:00:00",
            "since=2026-12-01T00:00Z&until=2026-11-01T00:00Z",
        ],
    )
    async def test_bad_parameters_answer_422(
        self, client: httpx.AsyncClient, query: str
    ) -> None:
        path = (
            "/api/v1/objectives"
            if query.startswith("status")
            else ("/api/v1/key-results/a/history")
        )

        assert_problem(await client.get(f"{path}?{query}"), 422)


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.json() == {"status": "ok"}


class TestEvidence:
    async def test_evidence_shows_the_latest_reading(
        self, client: httpx.AsyncClient, service: Service, fake_connector: type[Any]
    ) -> None:
        fake_connector.answers = {"q1": (2.0, ["A-1", "A-2"]), "q2": 12.0}
        await service.sync()
        fake_connector.answers = {"q1": (2.0, ["A-2", "A-3"]), "q2": 12.0}
        await service.sync()

        body = (await client.get("/api/v1/key-results/a/evidence")).json()

        assert body["value"] == 2.0
        assert body["evidence"]["request"] == "FAKE q1"
        assert body["evidence"]["items"] == ["A-2", "A-3"]
        # The previous measurement (50) came from a reading without item keys.
        assert body["previous"]["value"] == 50.0
        assert (body["entered"], body["left"]) == ([], [])
        assert body["items_compared"] is False

    async def test_items_compared_when_both_lists_are_whole(
        self, client: httpx.AsyncClient, service: Service, fake_connector: type[Any]
    ) -> None:
        fake_connector.answers = {"q1": (2.0, ["A-1", "A-2"]), "q2": 12.0}
        await service.sync()
        fake_connector.answers = {"q1": (3.0, ["A-2", "A-3", "A-4"]), "q2": 12.0}
        await service.sync()

        body = (await client.get("/api/v1/key-results/a/evidence")).json()

        assert body["items_compared"] is True
        assert (body["entered"], body["left"]) == (["A-3", "A-4"], ["A-1"])

    async def test_unknown_key_result(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/api/v1/key-results/nope/evidence"), 404)


async def test_substituted_values_are_never_stored_or_served(
    service: Service,
    fake_connector: type[Any],
    write_mapping: Callable[..., Path],
) -> None:
    text = """\
version: 1
sources:
  fake:
    type: fake
objectives:
  - id: obj
    title: Objective
    period: 2026-Q4
    key_results:
      - id: a
        title: A
        source: fake
        metric: count
        query: q ${QUERY_SECRET}
        target: 100
"""
    env = {"QUERY_SECRET": "s3cr3t-in-query"}
    fake_connector.answers = {"q s3cr3t-in-query": 1.0}
    await service.use_mappings(load_mapping_set([write_mapping(text)], env=env))
    await service.sync()
    async with api_client(service) as c:
        body = (await c.get("/api/v1/key-results/a")).text

    assert fake_connector.calls == ["q s3cr3t-in-query"]
    assert "s3cr3t" not in body
    assert "q ${QUERY_SECRET}" in body
