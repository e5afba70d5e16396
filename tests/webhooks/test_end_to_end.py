"""End to end: a signed GitHub delivery re-syncs a key result against the
sandbox, and a subscriber on 127.0.0.1 hears about it, signed, exactly once,
even when it was down for the first attempt.

The sandbox serves `sandbox.company`, a plain mutable dataclass it reads on
every request, so closing an issue is replacing it in `github_issues`.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.clock import FrozenClock
from app.mapping import load_mapping_set
from app.sandbox.data import GitHubIssue
from app.sandbox.server import SandboxServer
from app.service import Service
from app.settings import Settings
from app.webhooks.signatures import sign
from tests.helpers import api_client

SECRET = "e2e-github-webhook-secret"
RECORDED = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "webhooks"
    / "github"
    / "issues.closed.json"
)

MAPPING = """\
version: 1
sources:
  github:
    type: github
    url: {github_url}
    webhook_secret: ${{GITHUB_WEBHOOK_SECRET}}
objectives:
  - id: quality
    title: Fewer bugs reach our users
    period: 2026-Q4
    team: mobile
    key_results:
      - id: p1-bugs
        title: Open P1 issues down to 5
        source: github
        metric: issue_count
        query: repo:acme/app is:issue is:open label:P1
        start: 40
        target: 5
  - id: mobile-v2
    title: Ship the new mobile app
    period: 2026-Q4
    team: mobile
    key_results:
      - id: app-v2-milestone
        title: Close the v2.0 milestone on GitHub
        source: github
        metric: milestone_percent
        params: {{repo: acme/app, milestone: v2.0}}
        target: 100
        unit: "%"
  - id: platform
    title: A platform that stays up
    period: 2026-Q4
    team: platform
    key_results:
      - id: perf-prs
        title: Merge 20 performance pull requests
        source: github
        metric: issue_count
        query: repo:acme/api is:pr is:merged label:perf
        target: 20
"""


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    # Its own sandbox: these tests change the company's data.
    with SandboxServer() as server:
        yield server


@pytest.fixture
async def live(
    sandbox: SandboxServer,
    tmp_path: Path,
    clock: FrozenClock,
    write_mapping: Callable[..., Path],
) -> AsyncIterator[Service]:
    """A service synced once against the sandbox, webhooks on, real sender."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'e2e.db'}",
        mappings=[],
        sync_interval=0,
        webhook_debounce_seconds=0.05,
        webhook_allow_private_targets=True,
        webhook_max_bytes=64 * 1024,
        webhook_retry_delays=[5, 30, 120],
    )
    service = Service(settings, clock=clock)
    await service.database.create_schema()
    text = MAPPING.format(github_url=sandbox.github_url)
    mappings = load_mapping_set(
        [write_mapping(text)], env={"GITHUB_WEBHOOK_SECRET": SECRET}
    )
    await service.use_mappings(mappings)
    report = await service.sync()
    assert report.state == "succeeded", report.failed
    yield service
    await service.close()


@pytest.fixture
async def api(live: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(live) as c:
        yield c


def open_p1_issues(sandbox: SandboxServer) -> list[GitHubIssue]:
    return [
        issue
        for issue in sandbox.company.github_issues
        if issue.repo == "acme/app"
        and not issue.is_pull_request
        and issue.state == "open"
        and "P1" in issue.labels
    ]


def close_in_sandbox(sandbox: SandboxServer, issue: GitHubIssue, when: Any) -> None:
    issues = sandbox.company.github_issues
    closed = dataclasses.replace(
        issue, state="closed", closed_at=when, state_reason="completed"
    )
    issues[issues.index(issue)] = closed


def delivery_about(issue: GitHubIssue) -> bytes:
    """The recorded `issues.closed` delivery, moved to the sandbox's issue."""
    payload = json.loads(RECORDED.read_text(encoding="utf-8"))
    payload = copy.deepcopy(payload)
    owner, name = issue.repo.split("/")
    payload["repository"].update({"full_name": issue.repo, "name": name})
    payload["repository"]["owner"]["login"] = owner
    payload["issue"].update(
        {"number": issue.number, "title": issue.title, "state": "closed"}
    )
    return json.dumps(payload).encode()


def github_headers(body: bytes, delivery: str, secret: str = SECRET) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-github-event": "issues",
        "x-github-delivery": delivery,
        "x-hub-signature-256": sign(secret, body),
    }


async def value_of(api: httpx.AsyncClient, kr_id: str) -> float:
    body = (await api.get(f"/api/v1/key-results/{kr_id}")).json()
    value: float = body["value"]
    return value


async def wait_for_value(
    api: httpx.AsyncClient, kr_id: str, expected: float, seconds: float = 10
) -> None:
    """Poll the API until the key result has `expected` (real time, short)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while await value_of(api, kr_id) != expected:
        assert asyncio.get_running_loop().time() < deadline, "no change in time"
        await asyncio.sleep(0.02)


async def test_signed_delivery_resyncs_and_subscriber_gets_one_signed_event(
    live: Service,
    api: httpx.AsyncClient,
    sandbox: SandboxServer,
    receiver: Any,
    documented: dict[str, Any],
    clock: FrozenClock,
) -> None:
    before = await value_of(api, "p1-bugs")
    assert before == len(open_p1_issues(sandbox))
    created = await api.post(
        "/api/v1/subscriptions",
        json={
            "url": receiver.url,
            "events": ["key_result.progress_changed"],
            "filter": {"objective": "quality"},
        },
    )
    secret = created.json()["secret"]
    issue = open_p1_issues(sandbox)[0]
    close_in_sandbox(sandbox, issue, clock())
    body = delivery_about(issue)
    seen = len(sandbox.log.entries)

    response = await api.post(
        "/api/v1/webhooks/github/github",
        content=body,
        headers=github_headers(body, "e2e-delivery-1"),
    )

    assert response.status_code == 202
    assert response.json() == {
        "status": "accepted",
        "key_results": ["app-v2-milestone", "p1-bugs"],
    }
    await wait_for_value(api, "p1-bugs", before - 1)
    await live.resyncs.wait_idle()
    resynced = sandbox.log.entries[seen:]
    assert resynced
    # perf-prs (acme/api) was not affected, so not asked for.
    assert all("acme/api" not in str(entry.query) for entry in resynced)

    assert await live.sender.run_once() == 1

    [received] = receiver.received
    assert received.request_line == "POST /okr-hook HTTP/1.1"
    now = clock().timestamp()
    assert documented["verify_webhook"](secret, received.headers, received.body, now)
    handle = documented["handle"]
    assert handle(secret, received.headers, received.body, now) == 204
    assert handle(secret, received.headers, received.body, now) == 200
    assert handle(secret, received.headers, received.body, now + 301) == 401
    event = received.json()
    assert event["type"] == "key_result.progress_changed"
    assert event["data"]["key_result"]["id"] == "p1-bugs"
    assert event["data"]["before"]["value"] == before
    assert event["data"]["after"]["value"] == before - 1
    assert await live.sender.run_once() == 0
    assert len(receiver.received) == 1


async def test_delivery_to_a_subscriber_that_was_down_arrives_once_when_back(
    live: Service,
    api: httpx.AsyncClient,
    sandbox: SandboxServer,
    receiver: Any,
    documented: dict[str, Any],
    clock: FrozenClock,
) -> None:
    created = await api.post(
        "/api/v1/subscriptions",
        json={"url": receiver.url, "events": ["key_result.progress_changed"]},
    )
    subscription = created.json()
    before = await value_of(api, "p1-bugs")
    await receiver.stop()
    issue = open_p1_issues(sandbox)[0]
    close_in_sandbox(sandbox, issue, clock())
    body = delivery_about(issue)
    await api.post(
        "/api/v1/webhooks/github/github",
        content=body,
        headers=github_headers(body, "e2e-delivery-2"),
    )
    await live.resyncs.wait_idle()
    assert await value_of(api, "p1-bugs") == before - 1

    assert await live.sender.run_once() == 1

    log = f"/api/v1/subscriptions/{subscription['id']}/deliveries"
    [pending] = (await api.get(log)).json()["items"]
    assert (pending["status"], pending["attempts"]) == ("pending", 1)
    assert pending["last_error"].startswith("ConnectError")
    await receiver.start()
    assert await live.sender.run_once() == 0
    assert receiver.received == []

    clock.now += timedelta(seconds=6)
    assert await live.sender.run_once() == 1
    assert await live.sender.run_once() == 0

    [received] = receiver.received
    assert received.headers["webhook-id"] == pending["webhook_id"]
    verify = documented["verify_webhook"]
    assert verify(
        subscription["secret"], received.headers, received.body, clock().timestamp()
    )
    assert received.json()["data"]["after"]["value"] == before - 1
    [delivered] = (await api.get(log)).json()["items"]
    assert (delivered["status"], delivered["attempts"]) == ("delivered", 2)


async def test_bad_signatures_duplicates_and_oversized_bodies_change_nothing(
    live: Service, api: httpx.AsyncClient, sandbox: SandboxServer, clock: FrozenClock
) -> None:
    issue = open_p1_issues(sandbox)[0]
    close_in_sandbox(sandbox, issue, clock())
    body = delivery_about(issue)
    requests_before = sandbox.log.count("/github")

    forged = await api.post(
        "/api/v1/webhooks/github/github",
        content=body,
        headers=github_headers(body, "forged", secret="guessed"),
    )
    huge = body + b" " * (64 * 1024)
    oversized = await api.post(
        "/api/v1/webhooks/github/github",
        content=huge,
        headers=github_headers(huge, "huge"),
    )
    await live.resyncs.wait_idle()

    assert (forged.status_code, oversized.status_code) == (401, 413)
    assert sandbox.log.count("/github") == requests_before
    assert await value_of(api, "p1-bugs") == len(open_p1_issues(sandbox)) + 1

    first = await api.post(
        "/api/v1/webhooks/github/github",
        content=body,
        headers=github_headers(body, "e2e-delivery-3"),
    )
    await live.resyncs.wait_idle()
    after_first = sandbox.log.count("/github")
    again = await api.post(
        "/api/v1/webhooks/github/github",
        content=body,
        headers=github_headers(body, "e2e-delivery-3"),
    )
    await live.resyncs.wait_idle()

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert after_first > requests_before
    assert sandbox.log.count("/github") == after_first
    assert await value_of(api, "p1-bugs") == len(open_p1_issues(sandbox))
