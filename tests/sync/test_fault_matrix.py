"""Upstream faults against a full sync: what is retried, waited, kept and marked.

One sandbox serves the whole module. Each test first syncs the example
mapping cleanly (the baseline), moves the clock on a minute, injects one
fault and syncs again. Then it checks how often the faulted route was asked,
which waits the retries recorded (nothing really sleeps), that the failing key
results kept their last value and say why they are stale, and that every
other key result was updated with the value it had before.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.clock import FrozenClock
from app.mapping import load_mapping_set
from app.sandbox.faults import Faults
from app.sandbox.server import SandboxServer
from app.service import Service
from app.settings import Settings
from app.store import repository
from app.sync.engine import SyncReport

DC_SEARCH = "/jira-dc/rest/api/2/search"
CLOUD_SEARCH = "/jira-cloud/rest/api/3/search/jql"
MILESTONE = "/github/repos/acme/api/milestones/1"

RELIABILITY = "reliability-work"
"""The one key result read through DC_SEARCH."""
HARDENING = "hardening-milestone"
"""The one key result read through MILESTONE."""

JIRA_KRS = {"mobile-v2-issues", "mobile-v2-points", "web-open-bugs", RELIABILITY}
GITHUB_KRS = {"app-v2-milestone", "p1-bugs", "perf-prs", HARDENING, "v3-planning"}

HOLD = 1.0
"""Seconds the sandbox holds a timed-out request; well past SHORT_TIMEOUT."""
SHORT_TIMEOUT = 0.2

MAPPING = """\
version: 1
timezone: Europe/Oslo
sources:
  jira:
    type: jira
    url: {url}/jira-cloud
    deployment: cloud
    timeout: {timeouts[jira]}
  jira-dc:
    type: jira
    url: {url}/jira-dc
    deployment: datacenter
    timeout: {timeouts[jira-dc]}
  github:
    type: github
    url: {url}/github
    timeout: {timeouts[github]}
objectives:
  - id: mobile-v2
    title: Ship the new mobile app
    period: 2026-Q4
    key_results:
      - id: mobile-v2-issues
        title: All 2.0 issues done
        source: jira
        metric: done_percent
        query: project = MOB AND fixVersion = "2.0"
        target: 100
      - id: mobile-v2-points
        title: Deliver 150 story points of 2.0
        source: jira
        metric: field_sum
        query: project = MOB AND fixVersion = "2.0"
        params:
          field: Story Points
          done_only: true
        target: 150
      - id: app-v2-milestone
        title: Close the v2.0 milestone on GitHub
        source: github
        metric: milestone_percent
        params:
          repo: acme/app
          milestone: v2.0
        target: 100
  - id: quality
    title: Fewer bugs reach our users
    period: 2026-Q4
    key_results:
      - id: p1-bugs
        title: Open P1 issues down to 5
        source: github
        metric: issue_count
        query: repo:acme/app is:issue is:open label:P1
        start: 40
        target: 5
      - id: web-open-bugs
        title: Open web bugs down to 10
        source: jira
        metric: issue_count
        query: project = WEB AND issuetype = Bug AND statusCategory != Done
        start: 60
        target: 10
  - id: platform
    title: A platform that stays up
    period: 2026-Q4
    key_results:
      - id: reliability-work
        title: Finish the reliability work
        source: jira-dc
        metric: done_percent
        query: project = PLAT AND labels = reliability
        target: 100
      - id: perf-prs
        title: Merge 20 performance pull requests
        source: github
        metric: issue_count
        query: repo:acme/api is:pr is:merged label:perf
        target: 20
      - id: hardening-milestone
        title: Close the Q4 hardening milestone
        source: github
        metric: milestone_percent
        params:
          repo: acme/api
          milestone: 1
        target: 100
      - id: v3-planning
        title: Plan v3 (no issues filed yet)
        source: github
        metric: milestone_percent
        params:
          repo: acme/app
          milestone: v3.0 planning
        target: 100
"""


class Waits(list[float]):
    """Stands in for asyncio.sleep in the service: notes each wait, waits for
    nothing."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class Baseline:
    """What the clean sync stored, and when."""

    values: dict[str, float | None]
    history: dict[str, int]
    synced_at: datetime


@dataclass(repr=False)
class Harness:
    """A service that has synced cleanly once, and the sandbox it reads."""

    service: Service
    sandbox: SandboxServer
    clock: FrozenClock
    waits: Waits
    baseline: Baseline

    @property
    def faults(self) -> Faults:
        return self.sandbox.faults

    def asked(self, route: str) -> int:
        """Requests the sandbox saw for exactly this path since the baseline."""
        return sum(entry.path == route for entry in self.sandbox.log.entries)

    async def sync(self) -> SyncReport:
        return await self.service.sync()

    async def rows(self) -> dict[str, repository.KeyResultRow]:
        async with self.service.database.session() as session:
            found = {
                kr_id: await repository.get_key_result(session, kr_id)
                for kr_id in self.baseline.values
            }
        return {kr_id: row for kr_id, row in found.items() if row is not None}

    async def history(self) -> dict[str, int]:
        async with self.service.database.session() as session:
            return {
                kr_id: await repository.count_measurements(session, kr_id)
                for kr_id in self.baseline.values
            }


Start = Callable[..., Awaitable[Harness]]


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(
    module_sandbox: SandboxServer, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> SandboxServer:
    """The module's sandbox, cleared, its faults on the test's clock."""
    module_sandbox.faults.reset()
    module_sandbox.log.clear()
    module_sandbox.rate_limits.reset()
    monkeypatch.setattr(module_sandbox.faults, "clock", lambda: clock().timestamp())
    return module_sandbox


@pytest.fixture
async def start(
    sandbox: SandboxServer, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[Start]:
    """Sync cleanly once, then hand over with the clock a minute later."""
    services: list[Service] = []

    async def started(**timeouts: float) -> Harness:
        limits = {"jira": 10.0, "jira-dc": 10.0, "github": 10.0, **timeouts}
        path = tmp_path / "okrs.yaml"
        path.write_text(MAPPING.format(url=sandbox.url, timeouts=limits), "utf-8")
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'faults.db'}", mappings=[]
        )
        waits = Waits()
        service = Service(settings, clock=clock, sleep=waits)
        services.append(service)
        await service.database.create_schema()
        await service.use_mappings(load_mapping_set([path], env={}))

        report = await service.sync()
        assert report.state == "succeeded", report.failed
        assert waits == [], "the clean sync should not have retried"
        baseline = await _baseline(service, clock())
        harness = Harness(service, sandbox, clock, waits, baseline)

        sandbox.log.clear()
        clock.now += timedelta(minutes=1)
        return harness

    yield started
    for service in services:
        await service.close()


async def _baseline(service: Service, now: datetime) -> Baseline:
    ids = sorted(JIRA_KRS | GITHUB_KRS)
    async with service.database.session() as session:
        rows = {kr_id: await repository.get_key_result(session, kr_id) for kr_id in ids}
        history = {
            kr_id: await repository.count_measurements(session, kr_id) for kr_id in ids
        }
    values = {kr_id: row.value for kr_id, row in rows.items() if row is not None}
    assert set(values) == set(ids)
    return Baseline(values, history, now)


@dataclass(frozen=True)
class Case:
    """One fault, where it is injected, and what the sync should make of it.

    Attributes:
        inject: Sets the fault on the sandbox's switches.
        route: The exact path whose requests are counted.
        attempts: Requests that path should see in the faulted sync.
        waits: Checks the waits the retries recorded.
        failing: Key results that should end up stale.
        error_kind: The stale key results' `error_kind`.
        error_has: Text their `last_error` should contain.
        timeouts: Source timeouts (seconds) to set, by source name.
    """

    inject: Callable[[Faults], None]
    route: str
    attempts: int
    waits: Callable[[list[float]], bool]
    failing: frozenset[str] = frozenset()
    error_kind: str | None = None
    error_has: str | None = None
    timeouts: dict[str, float] = field(default_factory=dict)


def backoff(count: int) -> Callable[[list[float]], bool]:
    """`count` exponential backoff waits: 0.5 s, 1 s, 2 s ... plus < 1 s jitter."""

    def check(waits: list[float]) -> bool:
        expected = [0.5 * 2**step for step in range(count)]
        return len(waits) == count and all(
            low <= wait <= low + 1.0 for wait, low in zip(waits, expected, strict=True)
        )

    return check


def one_wait(low: float, high: float = math.inf) -> Callable[[list[float]], bool]:
    """Exactly one wait, between `low` and `high` seconds."""
    return lambda waits: len(waits) == 1 and low <= waits[0] <= high


def jira_reset_wait(now: datetime, retry_after: int) -> float:
    """The wait Jira's minute-precision reset time asks for, rounded up."""
    moment = now + timedelta(seconds=retry_after)
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return (moment - now).total_seconds()


AFTER_BASELINE = datetime(2026, 11, 15, 12, 1, tzinfo=UTC)
"""The clock during the faulted sync (conftest's NOW plus a minute)."""

FORBIDDEN = {
    "message": "Resource not accessible by personal access token",
    "documentation_url": "https://docs.github.com/rest/issues/milestones",
}

CASES = {
    "503 burst shorter than max_attempts: retried with backoff, then served": Case(
        inject=lambda f: f.add(DC_SEARCH, status=503, times=2),
        route=DC_SEARCH,
        attempts=3,
        waits=backoff(2),
    ),
    "503 burst longer than max_attempts: 3 attempts, then stale": Case(
        inject=lambda f: f.add(DC_SEARCH, status=503, times=5),
        route=DC_SEARCH,
        attempts=3,
        waits=backoff(2),
        failing=frozenset({RELIABILITY}),
        error_kind="transient",
        error_has="HTTP 503",
    ),
    "502 once on GitHub: retried and served": Case(
        inject=lambda f: f.add(MILESTONE, status=502),
        route=MILESTONE,
        attempts=2,
        waits=backoff(1),
    ),
    "429 Retry-After 7: waits at least 7 s, then served": Case(
        inject=lambda f: f.rate_limit(DC_SEARCH, retry_after=7),
        route=DC_SEARCH,
        attempts=2,
        waits=one_wait(7.0),
    ),
    "429 Retry-After 0: retried after a short wait": Case(
        inject=lambda f: f.rate_limit(DC_SEARCH, retry_after=0),
        route=DC_SEARCH,
        attempts=2,
        waits=one_wait(0.0, 2.0),
    ),
    "429 Retry-After as an HTTP date: waits until that date": Case(
        inject=lambda f: f.rate_limit(DC_SEARCH, retry_after=30, form="http-date"),
        route=DC_SEARCH,
        attempts=2,
        waits=one_wait(29.0, 31.0),
    ),
    "429 without Retry-After: retried after a wait": Case(
        inject=lambda f: f.rate_limit(DC_SEARCH, form="none"),
        route=DC_SEARCH,
        attempts=2,
        waits=one_wait(0.5),
    ),
    "Jira Cloud 429 with X-RateLimit-Reset: waits until the reset": Case(
        inject=lambda f: f.rate_limit(CLOUD_SEARCH, retry_after=30, form="jira-reset"),
        route=CLOUD_SEARCH,
        attempts=3 + 1,
        waits=one_wait(
            jira_reset_wait(AFTER_BASELINE, 30) - 1,
            jira_reset_wait(AFTER_BASELINE, 30) + 1,
        ),
    ),
    "GitHub secondary limit, 403 with retry-after: waits as asked": Case(
        inject=lambda f: f.github_secondary_limit(MILESTONE, retry_after=5),
        route=MILESTONE,
        attempts=2,
        waits=one_wait(5.0),
    ),
    "GitHub secondary limit, 403 without retry-after: waits a minute": Case(
        inject=lambda f: f.github_secondary_limit(MILESTONE),
        route=MILESTONE,
        attempts=2,
        waits=one_wait(60.0),
    ),
    "GitHub secondary limit, 429 with retry-after: waits as asked": Case(
        inject=lambda f: f.github_secondary_limit(MILESTONE, retry_after=5, status=429),
        route=MILESTONE,
        attempts=2,
        waits=one_wait(5.0),
    ),
    "GitHub secondary limit, 429 without retry-after: waits a minute": Case(
        inject=lambda f: f.github_secondary_limit(MILESTONE, status=429),
        route=MILESTONE,
        attempts=2,
        waits=one_wait(60.0),
    ),
    "403 permission denied: not retried, misconfigured": Case(
        inject=lambda f: f.add(MILESTONE, status=403, body=FORBIDDEN),
        route=MILESTONE,
        attempts=1,
        waits=lambda waits: waits == [],
        failing=frozenset({HARDENING}),
        error_kind="configuration",
        error_has="HTTP 403",
    ),
    "410 on the Jira DC search: not retried, misconfigured": Case(
        inject=lambda f: f.add(DC_SEARCH, status=410),
        route=DC_SEARCH,
        attempts=1,
        waits=lambda waits: waits == [],
        failing=frozenset({RELIABILITY}),
        error_kind="configuration",
        error_has="HTTP 410",
    ),
    "malformed JSON with 200: retried, then stale": Case(
        inject=lambda f: f.malformed_json(DC_SEARCH, times=3),
        route=DC_SEARCH,
        attempts=3,
        waits=backoff(2),
        failing=frozenset({RELIABILITY}),
        error_kind="transient",
        error_has="not JSON",
    ),
    "HTML page with 200: retried, then stale": Case(
        inject=lambda f: f.html_page(MILESTONE, times=3),
        route=MILESTONE,
        attempts=3,
        waits=backoff(2),
        failing=frozenset({HARDENING}),
        error_kind="transient",
        error_has="HTML",
    ),
    "one timeout: retried and served": Case(
        inject=lambda f: f.timeout(DC_SEARCH, hold=HOLD),
        route=DC_SEARCH,
        attempts=2,
        waits=backoff(1),
        timeouts={"jira-dc": SHORT_TIMEOUT},
    ),
    "timeouts on every attempt: stale, timed out": Case(
        inject=lambda f: f.timeout(DC_SEARCH, hold=HOLD, times=3),
        route=DC_SEARCH,
        attempts=3,
        waits=backoff(2),
        failing=frozenset({RELIABILITY}),
        error_kind="transient",
        error_has="timed out",
        timeouts={"jira-dc": SHORT_TIMEOUT},
    ),
    "one connection reset: retried and served": Case(
        inject=lambda f: f.connection_reset(MILESTONE),
        route=MILESTONE,
        attempts=2,
        waits=backoff(1),
    ),
    "connection resets on every attempt: stale": Case(
        inject=lambda f: f.connection_reset(MILESTONE, times=3),
        route=MILESTONE,
        attempts=3,
        waits=backoff(2),
        failing=frozenset({HARDENING}),
        error_kind="transient",
        error_has="failed",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_fault_is_retried_waited_or_reported_and_no_value_is_lost(
    start: Start, case: Case
) -> None:
    harness = await start(**case.timeouts)
    case.inject(harness.faults)

    report = await harness.sync()

    assert harness.asked(case.route) == case.attempts
    assert case.waits(harness.waits), f"waits recorded: {harness.waits}"
    assert {o.key_result_id for o in report.failed} == case.failing
    await _assert_stale_only(harness, case.failing, case.error_kind, case.error_has)
    await _assert_nothing_lost(harness)


@dataclass(frozen=True)
class Deferral:
    """A rate limit that asks for longer than a sync should wait.

    Attributes:
        inject: Sets the limit on the sandbox's switches.
        prefix: The upstream the deferred source talks to.
        source: The source's name in the mapping.
        key_results: The key results that source feeds.
        seconds: How long the limit lasts.
        error_has: Text the key results' `last_error` should contain.
    """

    inject: Callable[[Faults], None]
    prefix: str
    source: str
    key_results: frozenset[str]
    seconds: int
    error_has: str


DEFERRALS = {
    "GitHub primary limit for an hour": Deferral(
        inject=lambda f: f.github_primary_limit("/github", reset_in=3600),
        prefix="/github",
        source="github",
        key_results=frozenset(GITHUB_KRS),
        seconds=3600,
        error_has="HTTP 403",
    ),
    "Jira DC 429 asking for five minutes": Deferral(
        inject=lambda f: f.rate_limit(DC_SEARCH, retry_after=300),
        prefix="/jira-dc",
        source="jira-dc",
        key_results=frozenset({RELIABILITY}),
        seconds=300,
        error_has="HTTP 429",
    ),
}


@pytest.mark.parametrize("case", DEFERRALS.values(), ids=DEFERRALS.keys())
async def test_a_long_rate_limit_defers_only_its_source_until_the_reset(
    start: Start, case: Deferral
) -> None:
    harness = await start()
    case.inject(harness.faults)
    reset_at = harness.clock() + timedelta(seconds=case.seconds)

    await harness.sync()

    rows = await harness.rows()
    for kr_id in case.key_results:
        next_try = _utc(rows[kr_id].next_try_at)
        assert next_try is not None, (kr_id, rows[kr_id].last_error)
        assert abs((next_try - reset_at).total_seconds()) <= 1, kr_id
    sent = harness.sandbox.log.count(case.prefix)
    assert 1 <= sent <= min(len(case.key_results), 4), "one try per slot, no retry"
    assert harness.waits == []
    await _assert_stale_only(harness, case.key_results, "rate_limited", case.error_has)
    await _assert_nothing_lost(harness)


@pytest.mark.parametrize("case", DEFERRALS.values(), ids=DEFERRALS.keys())
async def test_a_deferred_source_is_not_asked_again_before_its_reset(
    start: Start, case: Deferral
) -> None:
    harness = await start()
    case.inject(harness.faults)
    await harness.sync()
    harness.sandbox.log.clear()
    harness.clock.now += timedelta(seconds=case.seconds - 60)

    report = await harness.sync()

    assert harness.sandbox.log.count(case.prefix) == 0
    assert len(harness.sandbox.log) > 0, "the other sources were asked"
    assert report.stats[case.source].requests == 0
    assert report.stats[case.source].deferred_until is not None
    await _assert_stale_only(harness, case.key_results, "rate_limited", None)
    await _assert_nothing_lost(harness)


async def _assert_stale_only(
    harness: Harness,
    failing: set[str] | frozenset[str],
    error_kind: str | None,
    error_has: str | None,
) -> None:
    """The failing key results are stale and say why; the others are fresh."""
    now = harness.clock()
    for kr_id, row in (await harness.rows()).items():
        synced_at = _utc(row.synced_at)
        if kr_id in failing:
            assert row.stale, kr_id
            assert row.error_kind == error_kind, (kr_id, row.last_error)
            assert row.last_error, kr_id
            if error_has is not None:
                assert error_has in row.last_error, (kr_id, row.last_error)
            assert synced_at == harness.baseline.synced_at, kr_id
        else:
            assert not row.stale, (kr_id, row.last_error)
            assert row.last_error is None, kr_id
            assert synced_at == now, kr_id


async def _assert_nothing_lost(harness: Harness) -> None:
    """Every value is the clean sync's, and no measurement was added."""
    values = {kr_id: row.value for kr_id, row in (await harness.rows()).items()}
    assert values == harness.baseline.values
    assert await harness.history() == harness.baseline.history


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive times; they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
