"""A third-party connector package, installed for real, used from a mapping."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from app.mapping import load_mapping_set
from app.service import Service
from app.store import repository
from connectors import registry
from connectors.base import Window
from connectors.testing import ConnectorContract, MetricCase

PACKAGE = Path(__file__).resolve().parents[2] / "examples" / "okrsync-npm-downloads"
NPM = "https://api.npmjs.org"

MAPPING = """\
version: 1
sources:
  npm:
    type: npm
objectives:
  - id: adoption
    title: More teams use our UI kit
    period: 2026-Q4
    key_results:
      - id: ui-kit-downloads
        title: 50k downloads of @acme/ui in the last 30 days
        source: npm
        metric: downloads
        params: {package: "@acme/ui"}
        window: 30d
        target: 50000
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """pip-install the example package into a folder on sys.path."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PACKAGE),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    registry.available.cache_clear()
    try:
        yield importlib.import_module("okrsync_npm")
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("okrsync_npm", None)
        registry.available.cache_clear()


def test_entry_point_makes_it_available(installed: Any) -> None:
    assert registry.get("npm") is installed.NpmDownloadsConnector


async def test_a_mapping_syncs_through_it(
    installed: Any, service: Service, write_mapping: Callable[..., Path]
) -> None:
    mappings = load_mapping_set([write_mapping(MAPPING)], env={})
    await service.use_mappings(mappings)
    # The test clock stands at 2026-11-15 12:00 UTC: 30 days back is 17 October.
    url = f"{NPM}/downloads/point/2026-10-17:2026-11-15/@acme/ui"
    answer = {
        "downloads": 20000,
        "start": "2026-10-17",
        "end": "2026-11-15",
        "package": "@acme/ui",
    }

    with respx.mock(assert_all_called=True) as upstream:
        upstream.get(url).mock(return_value=httpx.Response(200, json=answer))
        report = await service.sync()

    assert report.state == "succeeded"
    async with service.database.session() as session:
        row = await repository.get_key_result(session, "ui-kit-downloads")
    assert row is not None
    assert (row.value, row.progress) == (20000, pytest.approx(0.4))


def test_its_config_errors_are_located(
    installed: Any, write_mapping: Callable[..., Path]
) -> None:
    text = MAPPING.replace('{package: "@acme/ui"}', "{package: NOT VALID}")

    with pytest.raises(Exception, match=r"params.package: .*not an npm package name"):
        load_mapping_set([write_mapping(text)], env={})


WINDOW = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC))


def npm_answer(body: Any, status: int = 200) -> Callable[[Any], None]:
    def routes(router: Any) -> None:
        router.get(f"{NPM}/downloads/point/2026-11-01:2026-11-07/left-pad").mock(
            return_value=httpx.Response(status, json=body)
        )

    return routes


@pytest.mark.usefixtures("installed")
class TestNpmContract(ConnectorContract):
    config = {"type": "npm"}
    bad_configs = [({"type": "npm", "url": 5}, "url")]

    @pytest.fixture(autouse=True)
    def _bind(self, installed: Any) -> None:
        type(self).connector = installed.NpmDownloadsConnector
        params = {"package": "left-pad"}
        type(self).cases = [
            MetricCase(
                "downloads",
                npm_answer({"downloads": 7}),
                params=params,
                window=WINDOW,
                value=7,
            ),
        ]
        type(self).upstream_error = MetricCase(
            "downloads",
            npm_answer({"error": "not found"}, 404),
            params=params,
            window=WINDOW,
        )
        type(self).malformed = MetricCase(
            "downloads",
            npm_answer({"downloads": "many"}),
            params=params,
            window=WINDOW,
        )
