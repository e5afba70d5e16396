"""The committed OpenAPI document matches the app."""

from __future__ import annotations

from app.cli import OPENAPI_FILE, openapi_text


def test_committed_openapi_is_up_to_date() -> None:
    committed = OPENAPI_FILE.read_text(encoding="utf-8")

    assert committed == openapi_text(), (
        "openapi/openapi.json is stale: run `okrsync openapi`"
    )
