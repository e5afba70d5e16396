"""Three `okrsync serve` processes on one PostgreSQL database, one killed mid-sync.

Real processes on free ports of 127.0.0.1, the sandbox (in this process) as
their upstream, a two-second sync interval and a three-second lease. The
test lets scheduled syncs run, sends a burst of signed GitHub webhooks to
different replicas (one delivery id to two of them), kills the replica that
holds the schedule with SIGKILL while its sync waits on a slow upstream,
changes the upstream's data, and then checks the database:

- scheduled syncs: each starts at least 0.9 x interval after the previous
  one started, and only once the previous one has finished (or was marked
  abandoned); the killed replica's sync is `abandoned` with an error naming
  it, and nothing else is left unfinished;
- measurements: per key result, the values recorded are exactly the distinct
  values the upstream had, in order, each once (none lost, none twice), and
  none comes from the abandoned sync;
- incoming webhooks: one row per delivery id, every one handled;
- outbox: every delivery `delivered`, and the subscriber got every event's
  `webhook-id` exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.events.outbox import EVENT_TYPES
from app.sandbox.data import GitHubIssue
from app.sandbox.server import SandboxServer
from app.webhooks.signatures import sign

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
INTERVAL = 2.0
LEASE_TTL = 3.0
SLOW_UPSTREAM = 1.5
"""Seconds each GitHub answer takes while the holder is to be killed."""
GH_SECRET = "replicas-test-secret"
DEADLINE = 50.0
"""Seconds the whole test may take, start-up included."""

MAPPING = """\
version: 1
sources:
  github:
    type: github
    url: ${OKRSYNC_SANDBOX_URL}/github
    webhook_secret: ${REPLICAS_GH_SECRET}
  jira:
    type: jira
    url: ${OKRSYNC_SANDBOX_URL}/jira-cloud
    deployment: cloud
objectives:
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
      - id: app-v2-milestone
        title: Close the v2.0 milestone
        source: github
        metric: milestone_percent
        params: {repo: acme/app, milestone: v2.0}
        target: 100
      - id: mobile-done
        title: All 2.0 issues done
        source: jira
        metric: done_percent
        query: project = MOB AND fixVersion = "2.0"
        target: 100
"""

T = TypeVar("T")


def okrsync_command() -> list[str]:
    """The console script the image runs, from this interpreter's environment."""
    script = Path(sys.executable).with_name("okrsync")
    if script.exists():
        return [str(script)]
    found = shutil.which("okrsync")
    return [found] if found else [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def until(
    check: Callable[[], Awaitable[T | None]], what: str, timeout: float = 15.0
) -> T:
    """Poll `check` every 50 ms until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def replica_database() -> Iterator[str]:
    """A database of its own on the test PostgreSQL server, dropped afterwards."""
    given = os.environ.get("OKRSYNC_TEST_POSTGRES_URL") or LOCAL_POSTGRES
    server = make_url(given)
    admin_url = server.set(database="postgres").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {server.host}:{server.port}: {exc}")
    name = f"okrsync_replicas_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Subscriber:
    """An HTTP endpoint on 127.0.0.1 that records each `webhook-id` and says 204."""

    webhook_ids: list[str] = field(default_factory=list)
    port: int = 0
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        headers = {}
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        await reader.readexactly(int(headers.get("content-length", "0")))
        self.webhook_ids.append(headers["webhook-id"])
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest.fixture
async def subscriber() -> AsyncIterator[Subscriber]:
    receiver = Subscriber()
    await receiver.start()
    yield receiver
    assert receiver.server is not None
    receiver.server.close()


@dataclass
class Replica:
    """One `okrsync serve` process."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Cluster:
    """The replicas, their shared settings, and SQL on their database."""

    def __init__(self, database_url: str, sandbox_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        mapping = folder / "okrs.yaml"
        mapping.write_text(MAPPING, encoding="utf-8")
        # Only what the test sets: no OKRSYNC_* of the caller leaks in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("OKRSYNC_")}
        self.env = {
            **env,
            "OKRSYNC_DATABASE_URL": database_url,
            "OKRSYNC_MAPPINGS": str(mapping),
            "OKRSYNC_SANDBOX_URL": sandbox_url,
            "REPLICAS_GH_SECRET": GH_SECRET,
            "OKRSYNC_HOST": "127.0.0.1",
            "OKRSYNC_SYNC_INTERVAL": str(INTERVAL),
            "OKRSYNC_SCHEDULE_LEASE_TTL": str(LEASE_TTL),
            "OKRSYNC_SCHEDULE_POLL_INTERVAL": "0.2",
            "OKRSYNC_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "OKRSYNC_WEBHOOK_DEBOUNCE_SECONDS": "0.2",
            "OKRSYNC_WEBHOOK_POLL_INTERVAL": "0.2",
            "OKRSYNC_DB_POOL_SIZE": "3",
            "OKRSYNC_DB_MAX_OVERFLOW": "2",
        }
        self.replicas: list[Replica] = []

    def command(self, *args: str) -> str:
        done = subprocess.run(
            [*okrsync_command(), *args],
            env=self.env,
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def start(self, count: int) -> None:
        for _ in range(count):
            port = free_port()
            log = self.folder / f"replica-{len(self.replicas)}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*okrsync_command(), "serve"],
                    env={**self.env, "OKRSYNC_PORT": str(port)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            self.replicas.append(Replica(process, port, log))

    def stop(self) -> None:
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.replicas:
            try:
                replica.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {r.log.name} ---\n{r.log.read_text(errors='replace')[-3000:]}"
            for r in self.replicas
        )

    async def healthy(self, client: httpx.AsyncClient) -> bool:
        for replica in self.replicas:
            if replica.process.poll() is not None:
                raise AssertionError(f"{replica.log.name} exited:\n{self.logs()}")
            try:
                answer = await client.get(f"{replica.url}/healthz")
            except httpx.TransportError:
                return False
            if answer.status_code != 200:
                return False
        return True

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self.rows, sql, *params)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def cluster(
    replica_database: str, sandbox: SandboxServer, tmp_path: Path
) -> Iterator[Cluster]:
    made = Cluster(replica_database, sandbox.url, tmp_path)
    try:
        yield made
    finally:
        made.stop()


def github_delivery(delivery_id: str) -> tuple[bytes, dict[str, str]]:
    """A signed `issues` delivery about acme/app, as GitHub sends it."""
    body = json.dumps(
        {
            "action": "labeled",
            "issue": {"number": 7, "title": "Crash on start", "state": "open"},
            "label": {"name": "P1"},
            "repository": {"full_name": "acme/app", "owner": {"login": "acme"}},
            "sender": {"login": "octocat"},
        }
    ).encode()
    headers = {
        "content-type": "application/json",
        "x-github-event": "issues",
        "x-github-delivery": delivery_id,
        "x-hub-signature-256": sign(GH_SECRET, body),
    }
    return body, headers


async def test_three_replicas_sync_once_per_interval_and_survive_a_kill(
    cluster: Cluster, sandbox: SandboxServer, subscriber: Subscriber
) -> None:
    began = time.monotonic()
    output = cluster.command("tokens", "create", "--scope", "admin", "--name", "t")
    token = next(word for word in output.split() if word.startswith("okr_"))
    auth = {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(timeout=10) as client:
        # The first replica stores the mapping's objectives; replicas that
        # start together on a database without them collide inserting them.
        cluster.start(1)
        await until(lambda: cluster.healthy(client), "the first replica", 30)
        cluster.start(2)
        await until(lambda: cluster.healthy(client), "three healthy replicas", 30)
        first, second, _ = cluster.replicas
        answer = await client.post(
            f"{first.url}/api/v1/subscriptions",
            json={"url": subscriber.url, "events": list(EVENT_TYPES)},
            headers=auth,
        )
        assert answer.status_code == 201, answer.text

        # Several intervals of scheduled syncs, all replicas polling.
        await until(lambda: finished_schedule_syncs(cluster, 2), "two scheduled syncs")

        # A burst of webhooks to every replica; one delivery to two of them.
        sent = [(f"burst-{n}", cluster.replicas[n % 3]) for n in range(9)]
        sent += [("twice", first), ("twice", second)]
        answers = await asyncio.gather(
            *(deliver(client, replica, delivery) for delivery, replica in sent)
        )
        assert answers.count(202) == 10, answers
        assert answers.count(200) == 1, answers
        await until(lambda: incoming_all_handled(cluster, 10), "webhooks handled")
        await until(lambda: no_pending_deliveries(cluster), "deliveries sent")

        # Kill -9 the replica that holds the schedule while its sync waits on
        # a slow upstream, so the sync is surely unfinished.
        slow_since = datetime.now(UTC)
        sandbox.faults.set_latency("/github", SLOW_UPSTREAM)
        holder, killed_sync = await until(
            lambda: running_schedule_sync(cluster, slow_since), "a slow sync"
        )
        victim = next(
            r for r in cluster.replicas if holder_pid(holder) == r.process.pid
        )
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=5)
        sandbox.faults.set_latency("/github", 0)
        await until(lambda: abandoned(cluster, killed_sync), "the sync abandoned")

        # The upstream changes: one more open P1 issue.
        [[p1_before]] = await cluster.query(
            "SELECT value FROM key_result WHERE id = 'p1-bugs'"
        )
        sandbox.company.github_issues.append(open_p1_issue())
        await until(lambda: p1_bugs_is(cluster, p1_before + 1), "the new value", 15)
        await until(lambda: no_pending_deliveries(cluster), "deliveries sent")
        changed = datetime.now(UTC)
        await until(lambda: finished_schedule_syncs(cluster, 1, changed), "a sync")

    cluster.stop()
    survivors = [r for r in cluster.replicas if r is not victim]
    # uvicorn shuts down cleanly on SIGTERM, then exits by that signal.
    for replica in survivors:
        assert replica.process.returncode in (0, -signal.SIGTERM), cluster.logs()
        assert "Application shutdown complete" in replica.log.read_text()

    check_schedule(cluster, killed_sync, victim)
    check_measurements(cluster, killed_sync, p1_before)
    check_incoming(cluster, {delivery for delivery, _ in sent})
    check_outbox(cluster, subscriber)
    assert time.monotonic() - began < DEADLINE


async def deliver(client: httpx.AsyncClient, replica: Replica, delivery: str) -> int:
    body, headers = github_delivery(delivery)
    answer = await client.post(
        f"{replica.url}/api/v1/webhooks/github/github", content=body, headers=headers
    )
    return answer.status_code


def holder_pid(holder: str) -> int:
    """The process id in a lease holder, `host:pid/claim`."""
    return int(holder.split("/", 1)[0].rsplit(":", 1)[1])


def open_p1_issue() -> GitHubIssue:
    moment = datetime.now(UTC)
    return GitHubIssue(
        repo="acme/app",
        number=90001,
        title="Checkout button does nothing",
        state="open",
        is_pull_request=False,
        merged=False,
        labels=["bug", "P1"],
        milestone_number=None,
        created_at=moment,
        closed_at=None,
    )


# Conditions polled while the replicas run.


async def finished_schedule_syncs(
    cluster: Cluster, count: int, since: datetime | None = None
) -> bool:
    """At least `count` scheduled syncs succeeded (and finished after `since`)."""
    since = since or datetime(2000, 1, 1, tzinfo=UTC)
    rows = await cluster.query(
        "SELECT count(*) FROM sync WHERE trigger = 'schedule' "
        "AND state = 'succeeded' AND finished_at > %s",
        since.replace(tzinfo=None),
    )
    return bool(rows[0][0] >= count)


async def incoming_all_handled(cluster: Cluster, count: int) -> bool:
    rows = await cluster.query("SELECT state FROM incoming_webhook")
    return len(rows) == count and all(state != "queued" for (state,) in rows)


async def no_pending_deliveries(cluster: Cluster) -> bool:
    rows = await cluster.query(
        "SELECT count(*) FROM webhook_delivery WHERE status = 'pending'"
    )
    return bool(rows[0][0] == 0)


async def running_schedule_sync(
    cluster: Cluster, since: datetime
) -> tuple[str, str] | None:
    rows = await cluster.query(
        "SELECT l.holder, s.id FROM schedule_lease l JOIN sync s ON s.id = l.sync_id "
        "WHERE s.state = 'running' AND s.created_at >= %s",
        since.replace(tzinfo=None),
    )
    return rows[0] if rows else None


async def abandoned(cluster: Cluster, sync_id: str) -> bool:
    rows = await cluster.query("SELECT state FROM sync WHERE id = %s", sync_id)
    return rows == [("abandoned",)]


async def p1_bugs_is(cluster: Cluster, value: float) -> bool:
    rows = await cluster.query("SELECT value FROM key_result WHERE id = 'p1-bugs'")
    return rows == [(value,)]


# What the database must say afterwards.


def check_schedule(cluster: Cluster, killed_sync: str, victim: Replica) -> None:
    rows = cluster.rows(
        "SELECT id, state, created_at, finished_at, error FROM sync "
        "WHERE trigger = 'schedule' ORDER BY created_at, id"
    )
    assert len(rows) >= 5, rows
    for (_, _, began, ended, _), (_, _, next_began, _, _) in zip(
        rows, rows[1:], strict=False
    ):
        # Each interval's sync once, and never two at once.
        assert next_began - began >= timedelta(seconds=INTERVAL * 0.9), rows
        assert ended is not None, rows
        assert next_began >= ended, rows

    states = Counter(state for _, state, _, _, _ in rows)
    assert set(states) <= {"succeeded", "abandoned"}, states
    killed = [row for row in rows if row[0] == killed_sync]
    [(_, state, _, _, error)] = killed
    assert state == "abandoned"
    assert f":{victim.process.pid}/" in error
    # Only the replicas' own shutdown may abandon another, the last one.
    others = [row for row in rows if row[1] == "abandoned" and row[0] != killed_sync]
    assert all(row is rows[-1] for row in others), rows
    leftover = cluster.rows("SELECT count(*) FROM sync WHERE state = 'running'")
    assert leftover == [(0,)]


def check_measurements(cluster: Cluster, killed_sync: str, p1_before: float) -> None:
    rows = cluster.rows(
        "SELECT m.key_result_id, m.value, m.sync_id, s.state FROM measurement m "
        "JOIN sync s ON s.id = m.sync_id ORDER BY m.key_result_id, m.measured_at, m.id"
    )
    by_key_result: dict[str, list[float]] = {}
    for kr_id, value, sync_id, state in rows:
        assert sync_id != killed_sync
        assert state in ("succeeded", "partial"), rows
        by_key_result.setdefault(kr_id, []).append(value)

    # The upstream's values, each recorded once in order: only p1-bugs moved.
    assert by_key_result["p1-bugs"] == [p1_before, p1_before + 1]
    assert len(by_key_result["app-v2-milestone"]) == 1
    assert len(by_key_result["mobile-done"]) == 1
    current = dict(cluster.rows("SELECT id, value FROM key_result"))
    assert {kr: values[-1] for kr, values in by_key_result.items()} == current


def check_incoming(cluster: Cluster, delivery_ids: set[str]) -> None:
    rows = cluster.rows("SELECT delivery_id, state FROM incoming_webhook")
    assert Counter(delivery for delivery, _ in rows) == Counter(delivery_ids)
    assert {state for _, state in rows} == {"handled"}


def check_outbox(cluster: Cluster, subscriber: Subscriber) -> None:
    rows = cluster.rows(
        "SELECT d.status, e.id FROM webhook_delivery d "
        "JOIN webhook_event e ON e.id = d.event_id"
    )
    assert rows, "the changed value made no events"
    assert {status for status, _ in rows} == {"delivered"}
    received = Counter(subscriber.webhook_ids)
    assert set(received.values()) == {1}, received
    assert set(received) == {event_id for _, event_id in rows}
