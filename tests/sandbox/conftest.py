"""Shared fixtures: one live sandbox per module, reset before every test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxServer, build_company
from app.sandbox.data import Company

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def recorded() -> Callable[[str], Any]:
    """Loads a recorded response from tests/sandbox/fixtures/ by file name."""
    return _load


@pytest.fixture(scope="module")
def company() -> Company:
    """The default company (seed 7), as the sandbox serves it."""
    return build_company()


@pytest.fixture(scope="module")
def live_server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(live_server: SandboxServer) -> SandboxServer:
    """The module's running sandbox with no faults, log or rate use left over."""
    live_server.faults.reset()
    live_server.log.clear()
    live_server.rate_limits.reset()
    live_server.rate_limits.enforce = False
    return live_server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client for the running sandbox."""
    with httpx.Client(base_url=sandbox.url, timeout=10) as http:
        yield http
