"""Cheap, correct polling: ETags, 304s, pagination, updated_since, check-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.caching import matches
from app.mapping import load_mapping_set
from app.service import Service
from tests.helpers import api_client

MAPPING = (
    """\
version: 1
sources:
  fake:
    type: fake
objectives:
"""
    + "".join(
        f"""\
  - id: obj-{n}
    title: Objective {n}
    period: 2026-Q4
    team: {"red" if n % 2 else "blue"}
    key_results:
      - {{id: kr-{n}, title: KR {n}, source: fake, metric: count, query: q{n},
         target: 100}}
"""
        for n in range(5)
    )
    + """\
  - id: manual
    title: Hand-tracked
    period: 2026-Q4
    key_results:
      - {id: by-hand, title: Interviews done, target: 20}
"""
)


@pytest.fixture
async def client(
    service: Service, fake_connector: type[Any], write_mapping: Callable[..., Path]
) -> AsyncIterator[httpx.AsyncClient]:
    fake_connector.answers = {f"q{n}": float(10 * n) for n in range(5)}
    await service.use_mappings(load_mapping_set([write_mapping(MAPPING)], env={}))
    await service.sync()
    async with api_client(service) as c:
        yield c


@pytest.mark.parametrize(
    ("header", "matched"),
    [
        ('W/"abc"', True),
        ('"abc"', True),
        ('"x", W/"abc"', True),
        ("*", True),
        ('W/"abd"', False),
        ("", False),
    ],
)
def test_if_none_match_is_compared_weakly(header: str, matched: bool) -> None:
    assert matches(header, 'W/"abc"') is matched


class TestConditionalReads:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/objectives",
            "/api/v1/objectives?team=red",
            "/api/v1/objectives/obj-1",
            "/api/v1/key-results/kr-1",
            "/api/v1/key-results/kr-1/history",
        ],
    )
    async def test_same_data_answers_304_with_the_same_headers(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        first = await client.get(path)
        etag = first.headers["etag"]

        second = await client.get(path, headers={"If-None-Match": etag})

        assert first.status_code == 200
        assert etag.startswith('W/"')
        assert second.status_code == 304
        assert second.content == b""
        assert second.headers["etag"] == etag
        assert second.headers["cache-control"] == first.headers["cache-control"]

    async def test_a_change_gives_a_new_etag(
        self, client: httpx.AsyncClient, service: Service, fake_connector: type[Any]
    ) -> None:
        before = (await client.get("/api/v1/objectives")).headers["etag"]
        fake_connector.answers["q3"] = 55.0
        await service.sync()

        response = await client.get(
            "/api/v1/objectives", headers={"If-None-Match": before}
        )

        assert response.status_code == 200
        assert response.headers["etag"] != before

    async def test_the_etag_is_the_same_in_another_app_instance(
        self, client: httpx.AsyncClient, service: Service
    ) -> None:
        etag = (await client.get("/api/v1/objectives")).headers["etag"]
        async with api_client(service) as c:
            again = await c.get("/api/v1/objectives")

        assert again.headers["etag"] == etag


class TestPages:
    async def test_cursor_walks_every_objective_once_in_order(
        self, client: httpx.AsyncClient
    ) -> None:
        seen: list[str] = []
        url = "/api/v1/objectives?limit=2"
        while url:
            body = (await client.get(url)).json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            url = f"/api/v1/objectives?limit=2&cursor={cursor}" if cursor else ""

        assert seen == [f"obj-{n}" for n in range(5)] + ["manual"]

    async def test_a_made_up_cursor_is_a_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/objectives?cursor=bm9wZQ")

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"

    async def test_updated_since_lists_only_what_changed(
        self,
        client: httpx.AsyncClient,
        service: Service,
        fake_connector: type[Any],
        clock: Any,
    ) -> None:
        mark = clock()
        clock.now += timedelta(minutes=5)
        fake_connector.answers["q2"] = 77.0
        await service.sync()
        since = (mark + timedelta(minutes=1)).isoformat()

        body = (
            await client.get("/api/v1/objectives", params={"updated_since": since})
        ).json()

        # Every sourced key result was read again (synced_at moved); the
        # hand-tracked one was not.
        assert "manual" not in [item["id"] for item in body["items"]]
        assert "obj-2" in [item["id"] for item in body["items"]]


class TestCheckIns:
    async def test_check_in_is_recorded_and_scored(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/key-results/by-hand/check-ins",
            json={"value": 5, "note": "5 of 20 interviews", "confidence": 0.8},
        )

        assert response.status_code == 201
        assert response.json()["source"] == "check-in"
        kr = (await client.get("/api/v1/key-results/by-hand")).json()
        assert (kr["value"], kr["progress"]) == (5, 0.25)
        history = (await client.get("/api/v1/key-results/by-hand/history")).json()
        [entry] = history["measurements"]
        assert (entry["note"], entry["confidence"]) == ("5 of 20 interviews", 0.8)

    async def test_the_same_value_twice_is_two_check_ins(
        self, client: httpx.AsyncClient
    ) -> None:
        for _ in range(2):
            await client.post(
                "/api/v1/key-results/by-hand/check-ins", json={"value": 5}
            )

        history = (await client.get("/api/v1/key-results/by-hand/history")).json()
        assert len(history["measurements"]) == 2

    async def test_a_key_result_fed_by_a_source_refuses_check_ins(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/key-results/kr-1/check-ins", json={"value": 5}
        )

        assert response.status_code == 409
        assert "fed by source 'fake'" in response.json()["detail"]

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"value": "lots"},
            {"value": 1, "confidence": 1.5},
            {"value": 1, "colour": "red"},
        ],
    )
    async def test_bad_check_ins_are_422(
        self, client: httpx.AsyncClient, body: dict[str, Any]
    ) -> None:
        response = await client.post("/api/v1/key-results/by-hand/check-ins", json=body)

        assert response.status_code == 422

    async def test_unknown_key_result(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/key-results/nope/check-ins", json={"value": 1}
        )

        assert response.status_code == 404


async def test_a_check_in_tells_subscribers(
    client: httpx.AsyncClient, service: Service
) -> None:
    service.settings = service.settings.model_copy(
        update={"webhook_allow_private_targets": True}
    )
    created = await client.post(
        "/api/v1/subscriptions",
        json={
            "url": "http://127.0.0.1:9/hook",
            "events": ["key_result.progress_changed"],
        },
    )
    assert created.status_code == 201, created.text

    await client.post("/api/v1/key-results/by-hand/check-ins", json={"value": 5})

    subscription = created.json()["id"]
    deliveries = (
        await client.get(f"/api/v1/subscriptions/{subscription}/deliveries")
    ).json()
    [delivery] = deliveries["items"]
    assert delivery["event_type"] == "key_result.progress_changed"
