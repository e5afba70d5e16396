"""Secrets never appear in logs, API answers or error messages.

Syncs the example mapping against the sandbox with known credentials (some
sources failing on purpose), then searches everything captured for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.clock import FrozenClock
from app.mapping import MappingError, load_mapping_set
from app.sandbox.server import SandboxServer
from app.service import Service
from app.settings import Settings
from tests.helpers import api_client

SECRETS = {
    "JIRA_EMAIL": "leak-test@example.com",
    "JIRA_TOKEN": "jira-s3cret-token-Q1",
    "GITHUB_TOKEN": "ghp_s3cretGitHubToken42",
    "HOOK_SECRET": "hook-s3cret-77",
    "POSTHOG_TOKEN": "phx_s3cretPostHogKey",
}

MAPPING = """\
version: 1
sources:
  jira:
    type: jira
    url: ${SANDBOX}/jira-cloud
    email: ${JIRA_EMAIL}
    token: ${JIRA_TOKEN}
    webhook_secret: ${HOOK_SECRET}
  github:
    type: github
    url: ${SANDBOX}/github
    token: ${GITHUB_TOKEN}
    max_attempts: 1
  posthog:
    type: posthog
    url: ${SANDBOX}/posthog
    project_id: 1001
    token: ${POSTHOG_TOKEN}
objectives:
  - id: obj
    title: Objective
    period: 2026-Q4
    key_results:
      - {id: jira-ok, title: J, source: jira, metric: issue_count,
         query: project = MOB, target: 10}
      - {id: jira-bad, title: JB, source: jira, metric: issue_count,
         query: "nonsense = = =", target: 10}
      - {id: github-denied, title: G, source: github, metric: issue_count,
         query: "repo:acme/app is:issue", target: 10}
      - {id: posthog, title: P, source: posthog, metric: hogql,
         query: "SELECT count() FROM events WHERE event = 'signed_up'",
         target: 10}
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


def all_secrets() -> list[str]:
    return [value for value in SECRETS.values() if value]


async def test_no_secret_in_logs_answers_or_errors(
    sandbox: SandboxServer,
    tmp_path: Path,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    write_mapping: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    env = {**SECRETS, "SANDBOX": sandbox.url}
    sandbox.faults.add(
        "/github/search/issues",
        status=401,
        body={"message": f"Bad credentials for {SECRETS['GITHUB_TOKEN']}? no."},
    )
    mappings = load_mapping_set([write_mapping(MAPPING)], env=env)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", mappings=[])
    service = Service(settings, clock=clock)
    await service.database.create_schema()
    await service.use_mappings(mappings)

    report = await service.sync()

    assert {o.key_result_id for o in report.failed} == {"jira-bad", "github-denied"}
    seen: list[str] = [record.getMessage() for record in caplog.records]
    seen += [str(o.error) for o in report.outcomes]
    async with api_client(service) as client:
        for path in (
            "/api/v1/objectives",
            "/api/v1/objectives/obj",
            "/api/v1/key-results/jira-ok",
            "/api/v1/key-results/jira-bad",
            "/api/v1/key-results/github-denied",
            "/api/v1/key-results/jira-ok/evidence",
            "/api/v1/key-results/posthog/evidence",
            f"/api/v1/syncs/{report.sync_id}",
            "/api/v1/tokens",
            "/api/v1/subscriptions",
            "/openapi.json",
        ):
            response = await client.get(path)
            assert response.status_code == 200, path
            seen.append(response.text)
    await service.close()

    everything = "\n".join(seen)
    # The upstream echoed the token in its error message: okrsync masks it.
    leaked = [name for name, value in SECRETS.items() if value in everything]
    assert leaked == []
    assert "Bad credentials for ***" in everything


def test_a_bad_source_block_does_not_echo_its_secret(
    write_mapping: Any,
) -> None:
    text = MAPPING.replace("    email: ${JIRA_EMAIL}\n", "")
    env = {**SECRETS, "SANDBOX": "http://127.0.0.1:9"}

    with pytest.raises(MappingError) as caught:
        load_mapping_set([write_mapping(text)], env=env)

    message = str(caught.value)
    assert "email" in message
    assert not any(value in message for value in all_secrets())
