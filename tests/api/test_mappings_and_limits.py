"""Reloading and checking mappings at run time; body size and CORS limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.service import Service
from tests.helpers import api_client

GOOD = """\
version: 1
objectives:
  - id: obj
    title: Objective
    period: 2026-Q4
    key_results:
      - {id: a, title: A, target: 10}
"""


@pytest.fixture
def configured(
    service: Service, write_mapping: Callable[..., Path]
) -> Callable[[str], Path]:
    """Point the service at one mapping file and return a writer for it."""
    path = write_mapping(GOOD)
    service.settings = service.settings.model_copy(update={"mappings": [path]})

    def rewrite(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        return path

    return rewrite


class TestReload:
    async def test_valid_files_are_swapped_in(
        self, service: Service, configured: Callable[[str], Path]
    ) -> None:
        await service.reload_mappings()
        configured(
            GOOD.replace(
                "target: 10}", "target: 10}\n      - {id: b, title: B, target: 5}"
            )
        )

        async with api_client(service) as client:
            response = await client.post("/api/v1/mappings/reload")
            listed = (await client.get("/api/v1/objectives/obj")).json()

        assert response.status_code == 200
        assert response.json()["key_results"] == 2
        assert [kr["id"] for kr in listed["key_results"]] == ["a", "b"]

    async def test_an_invalid_file_changes_nothing_and_names_every_problem(
        self, service: Service, configured: Callable[[str], Path]
    ) -> None:
        await service.reload_mappings()
        path = configured(GOOD.replace("target: 10", "target: lots") + "colour: red\n")

        async with api_client(service) as client:
            response = await client.post("/api/v1/mappings/reload")
            still = await client.get("/api/v1/key-results/a")

        assert response.status_code == 422
        body = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert "running configuration was kept" in body["detail"]
        assert {(e["file"], e["line"], e["field"]) for e in body["errors"]} == {
            (str(path), 7, "objectives[0].key_results[0].target"),
            (str(path), 8, "colour"),
        }
        assert still.json()["target"] == 10
        assert "a" in service.mappings.key_results


class TestValidate:
    async def test_a_posted_file_is_checked_without_loading(
        self, service: Service
    ) -> None:
        async with api_client(service) as client:
            good = await client.post(
                "/api/v1/mappings/validate", json={"text": GOOD, "name": "new.yaml"}
            )
            bad = await client.post(
                "/api/v1/mappings/validate",
                json={"text": GOOD.replace("2026-Q4", "2026-Q9"), "name": "new.yaml"},
            )

        assert good.status_code == 200
        assert good.json() == {"files": ["new.yaml"], "objectives": 1, "key_results": 1}
        assert bad.status_code == 422
        [error] = bad.json()["errors"]
        assert (error["file"], error["line"], error["field"]) == (
            "new.yaml",
            5,
            "objectives[0].period",
        )
        assert service.mappings.key_results == {}


class TestLimits:
    async def test_a_body_over_the_limit_gets_413(self, service: Service) -> None:
        big = {"text": "#" * (service.settings.max_body_bytes + 1)}

        async with api_client(service) as client:
            response = await client.post("/api/v1/mappings/validate", json=big)

        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    async def test_cors_answers_only_configured_origins(self, service: Service) -> None:
        allowed = "https://dash.example.com"
        service.settings = service.settings.model_copy(
            update={"cors_origins": [allowed]}
        )
        preflight: dict[str, Any] = {"Access-Control-Request-Method": "GET"}

        async with api_client(service) as client:
            ok = await client.options(
                "/api/v1/objectives", headers={**preflight, "Origin": allowed}
            )
            other = await client.options(
                "/api/v1/objectives",
                headers={**preflight, "Origin": "https://evil.example.com"},
            )

        assert ok.headers["access-control-allow-origin"] == allowed
        assert "access-control-allow-origin" not in other.headers
