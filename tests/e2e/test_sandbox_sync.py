"""End to end: mappings/example.yaml synced against the sandbox, read over the API.

Expected numbers are computed here straight from the sandbox's data, with
plain Python filters, independently of the connectors and the sandbox's own
query engines.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.clock import FrozenClock
from app.mapping import load_mapping_set
from app.progress import elapsed_share, status_of
from app.sandbox.analytics import Analytics, analytics_of
from app.sandbox.data import Company
from app.sandbox.server import SandboxServer
from app.service import Service
from app.settings import Settings
from tests.helpers import api_client

SANDBOX_SECRETS = {"OKRSYNC_SANDBOX_POSTHOG_TOKEN": "phx_sandbox"}
"""The example's PostHog source reads its key from here; any phx_ key will do."""

EXAMPLE = Path(__file__).resolve().parents[2] / "mappings" / "example.yaml"
ZONE = ZoneInfo("Europe/Oslo")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
async def api(
    sandbox: SandboxServer, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    mappings = load_mapping_set(
        [EXAMPLE], env={"OKRSYNC_SANDBOX_URL": sandbox.url, **SANDBOX_SECRETS}
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e2e.db'}", mappings=[])
    service = Service(settings, clock=clock)
    await service.database.create_schema()
    await service.use_mappings(mappings)
    report = await service.sync()
    assert report.state == "succeeded", report.failed
    async with api_client(service) as c:
        yield c
    await service.close()


def percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def expected_analytics(analytics: Analytics, now: datetime) -> dict[str, float]:
    """The growth key results, for the windows the mapping's zone gives `now`."""
    quarter_start = datetime(2026, 10, 1, tzinfo=ZONE)
    today = now.astimezone(ZONE).date()
    week_start = datetime.combine(today - timedelta(days=6), time.min, ZONE)

    def events(name: str, start: datetime) -> list[Any]:
        return [
            e
            for e in analytics.events
            if e.event == name and start <= e.timestamp < now
        ]

    def series(**labels: str) -> float:
        [value] = [s.value for s in analytics.series if dict(s.labels) == labels]
        return value

    return {
        "api-latency-p95": series(
            __name__="http_request_duration_seconds:p95", service="api"
        ),
        "api-availability": series(__name__="slo:availability:ratio30d", service="api"),
        "signups-quarter": len(events("signed_up", quarter_start)),
        "weekly-active-users": len(
            {e.person_id for e in events("$pageview", week_start)}
        ),
        "nps": analytics.kpis.nps,
        "open-incidents": sum(i.status == "open" for i in analytics.incidents),
    }


def expected_values(company: Company) -> dict[str, float | None]:
    jira = company.jira_issues
    github = company.github_issues

    mobile = [i for i in jira if i.project == "MOB" and "2.0" in i.fix_versions]
    board = [i for i in company.project("acme", 1).items if not i.archived]
    web_bugs = [
        i
        for i in jira
        if i.project == "WEB"
        and i.issuetype == "Bug"
        and i.status.category_key != "done"
    ]
    reliability = [i for i in jira if i.project == "PLAT" and "reliability" in i.labels]

    def milestone(repo: str, title: str | None = None, number: int | None = None):  # type: ignore[no-untyped-def]
        [found] = [
            m
            for m in company.milestones
            if m.repo == repo and (m.title == title or m.number == number)
        ]
        items = [
            g for g in github if g.repo == repo and g.milestone_number == found.number
        ]
        closed = sum(g.state == "closed" for g in items)
        return percent(closed, len(items))

    return {
        "mobile-v2-issues": percent(
            sum(i.status.category_key == "done" for i in mobile), len(mobile)
        ),
        "mobile-v2-points": sum(
            i.story_points or 0 for i in mobile if i.status.category_key == "done"
        ),
        "app-v2-milestone": milestone("acme/app", title="v2.0"),
        "p1-bugs": sum(
            g.repo == "acme/app"
            and not g.is_pull_request
            and g.state == "open"
            and "P1" in g.labels
            for g in github
        ),
        "web-open-bugs": len(web_bugs),
        "reliability-work": percent(
            sum(i.status.category_key == "done" for i in reliability), len(reliability)
        ),
        "perf-prs": sum(
            g.repo == "acme/api"
            and g.is_pull_request
            and g.merged
            and "perf" in g.labels
            for g in github
        ),
        "hardening-milestone": milestone("acme/api", number=1),
        "v3-planning": milestone("acme/app", title="v3.0 planning"),
        "q4-roadmap": percent(
            sum(i.status in ("Done", "Shipped") for i in board), len(board)
        ),
    }


async def test_api_serves_values_computed_from_the_sandbox_data(
    api: httpx.AsyncClient, sandbox: SandboxServer, clock: FrozenClock
) -> None:
    expected = {
        **expected_values(sandbox.company),
        **expected_analytics(analytics_of(sandbox.app), clock()),
    }

    served = {}
    for kr_id in expected:
        response = await api.get(f"/api/v1/key-results/{kr_id}")
        assert response.status_code == 200
        served[kr_id] = response.json()["value"]

    assert served == {
        k: pytest.approx(v) if v is not None else None for k, v in expected.items()
    }
    assert expected["v3-planning"] is None
    assert all(v not in (None, 0) for k, v in expected.items() if k != "v3-planning")


async def test_objective_progress_and_status_match_the_rule(
    api: httpx.AsyncClient, clock: FrozenClock
) -> None:
    mapping = load_mapping_set([EXAMPLE], env=SANDBOX_SECRETS)
    body = (await api.get("/api/v1/objectives")).json()

    for objective in body["items"]:
        spec = mapping.objectives[objective["id"]][0]
        weights = {kr.id: kr.weight for kr in spec.key_results}
        scored: list[tuple[float, float]] = []
        for kr in objective["key_results"]:
            if kr["value"] is None:
                assert (kr["progress"], kr["status"]) == (None, "no_data")
                continue
            spec_kr = next(k for k in spec.key_results if k.id == kr["id"])
            if spec_kr.stay_below is not None:
                raw = 1.0 if kr["value"] <= spec_kr.stay_below else 0.0
            elif spec_kr.stay_above is not None:
                raw = 1.0 if kr["value"] >= spec_kr.stay_above else 0.0
            else:
                raw = (kr["value"] - kr["start"]) / (kr["target"] - kr["start"])
            assert kr["progress"] == pytest.approx(min(1.0, max(0.0, raw)))
            scored.append((kr["progress"], weights[kr["id"]]))
        mean = sum(p * w for p, w in scored) / sum(w for _, w in scored)
        assert objective["progress"] == pytest.approx(mean)
        share = elapsed_share(
            spec.period.start, spec.period.end, clock(), "Europe/Oslo"
        )
        assert objective["status"] == status_of(mean, share).value


async def test_a_second_sync_of_unchanged_data_records_no_new_history(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/api/v1/syncs")
    sync_url = response.headers["location"]
    state = "queued"
    for _ in range(500):
        body: dict[str, Any] = (await api.get(sync_url)).json()
        state = body["state"]
        if state not in ("queued", "running"):
            break
        await asyncio.sleep(0.02)

    assert state == "succeeded"
    assert {o["outcome"] for o in body["key_results"]} == {"unchanged"}
    history = (await api.get("/api/v1/key-results/p1-bugs/history")).json()
    assert len(history["measurements"]) == 1


def test_cli_sync_prints_the_table(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OKRSYNC_SANDBOX_URL": sandbox.url,
        **SANDBOX_SECRETS,
        "OKRSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "COLUMNS": "160",
    }

    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "sync", "--mappings", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Open P1 issues down to 5" in result.stdout
    github_krs = [
        kr
        for kr in load_mapping_set([EXAMPLE], env=env).key_results.values()
        if kr.spec.source == "github"
    ]
    summary = re.search(r"github: (\d+) requests for (\d+) distinct", result.stdout)
    assert summary is not None
    assert int(summary.group(2)) == len(github_krs)


async def test_an_unchanged_second_sync_costs_no_counted_github_request(
    sandbox: SandboxServer, tmp_path: Path, clock: FrozenClock
) -> None:
    env = {"OKRSYNC_SANDBOX_URL": sandbox.url, **SANDBOX_SECRETS}
    mappings = load_mapping_set([EXAMPLE], env=env)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'etag.db'}", mappings=[])
    service = Service(settings, clock=clock)
    await service.database.create_schema()
    await service.use_mappings(mappings)
    await service.sync()
    before = len(sandbox.log.entries)

    report = await service.sync()
    await service.close()

    second = sandbox.log.entries[before:]
    github = [e for e in second if e.path.startswith("/github")]
    charged = [e for e in github if e.status != 304 and "graphql" not in e.path]
    assert github, "the second sync still asks GitHub (conditionally)"
    assert charged == []
    stats = report.stats["github"]
    assert stats.not_modified == stats.requests - _graphql_requests(github)
    assert {o.outcome for o in report.outcomes} == {"unchanged"}


def _graphql_requests(entries: list[Any]) -> int:
    return sum("graphql" in e.path for e in entries)
