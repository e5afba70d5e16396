"""Starting and stopping the sandbox, and the app it serves."""

from __future__ import annotations

import time

import httpx
import pytest

from app.sandbox import Faults, SandboxServer, build_company, create_app
from app.sandbox.state import SandboxState


def test_server_listens_on_loopback_until_stopped() -> None:
    server = SandboxServer()

    with server:
        url = server.url
        response = httpx.get(f"{url}/")
        assert server.running

    assert url.startswith("http://127.0.0.1:")
    assert response.json()["upstreams"]["github"] == f"{url}/github"
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/", timeout=2)


def test_url_before_start_says_how_to_start() -> None:
    with pytest.raises(RuntimeError, match=r"call start\(\)"):
        _ = SandboxServer().url


def test_two_servers_get_different_ports() -> None:
    with SandboxServer() as first, SandboxServer() as second:
        assert first.url != second.url
        assert httpx.get(f"{second.url}/github/rate_limit").status_code == 200


def test_start_twice_keeps_the_same_server() -> None:
    server = SandboxServer()
    try:
        url = server.start().url
        assert server.start().url == url
    finally:
        server.stop()


def test_upstream_urls_share_the_base(sandbox: SandboxServer) -> None:
    assert sandbox.jira_cloud_url == f"{sandbox.url}/jira-cloud"
    assert sandbox.jira_dc_url == f"{sandbox.url}/jira-dc"
    assert sandbox.github_url == f"{sandbox.url}/github"


def test_answers_are_not_held_back_by_delayed_acks(client: httpx.Client) -> None:
    started = time.perf_counter()
    for _ in range(10):
        client.get("/github/rate_limit")

    assert time.perf_counter() - started < 0.3


def test_server_serves_the_company_it_was_given() -> None:
    company = build_company(3)

    with SandboxServer(company) as server:
        count = httpx.post(
            f"{server.jira_cloud_url}/rest/api/3/search/approximate-count",
            json={"jql": "statusCategory = Done"},
        ).json()["count"]

    assert server.company is company
    assert count == sum(issue.done for issue in company.jira_issues)


def test_create_app_exposes_its_state() -> None:
    faults = Faults()
    company = build_company(5)

    app = create_app(company, faults)

    state = app.state.sandbox
    assert isinstance(state, SandboxState)
    assert state.company is company
    assert state.faults is faults
    assert len(state.log) == 0


async def test_create_app_works_in_process_without_a_socket() -> None:
    app = create_app()
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox.test"
    ) as client:
        response = await client.get("/github/repos/acme/app/milestones/1")

    assert response.status_code == 200
    assert response.json()["url"] == (
        "http://sandbox.test/github/repos/acme/app/milestones/1"
    )
    assert app.state.sandbox.log.count("/github") == 1
