"""POST /api/v1/webhooks/{github,jira}/{source} with recorded deliveries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.api.problems import MEDIA_TYPE
from app.service import Service
from app.settings import Settings
from tests.helpers import api_client

GITHUB_EXPECTED = {
    "issues.closed": ["gh-anywhere", "gh-test-repo"],
    "issues.milestoned": [
        "gh-anywhere",
        "gh-codertocat",
        "gh-milestone-1",
        "gh-milestone-v1",
    ],
    "milestone.closed": [
        "gh-anywhere",
        "gh-codertocat",
        "gh-milestone-1",
        "gh-milestone-v1",
    ],
    "pull_request.closed.merged": ["gh-anywhere"],
    "projects_v2_item.edited": ["gh-board"],
}
"""Key results of source `gh` each recorded GitHub delivery can affect."""

JIRA_EXPECTED = ["jira-anywhere", "jira-mob-or-label", "jira-tes", "jira-tes-by-name"]
"""Key results a recorded Jira delivery about issue TES-41 can affect."""


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


class TestRecordedDeliveries:
    @pytest.mark.parametrize("name", sorted(GITHUB_EXPECTED))
    async def test_signed_github_delivery_is_accepted_and_selects_its_key_results(
        self, hooks: Any, name: str
    ) -> None:
        response = await hooks.github(name)

        assert response.status_code == 202
        assert response.json() == {
            "status": "accepted",
            "key_results": GITHUB_EXPECTED[name],
        }
        await hooks.service.resyncs.wait_idle()
        assert hooks.engine.runs == [set(GITHUB_EXPECTED[name])]
        assert hooks.engine.triggers == ["webhook"]

    @pytest.mark.parametrize(
        "name", ["issue_updated.resolved-done", "issue_updated.to-in-progress"]
    )
    async def test_signed_jira_delivery_selects_queries_naming_its_project(
        self, hooks: Any, name: str
    ) -> None:
        response = await hooks.jira(name)

        assert response.status_code == 202
        assert response.json()["key_results"] == JIRA_EXPECTED
        await hooks.service.resyncs.wait_idle()
        assert hooks.engine.runs == [set(JIRA_EXPECTED)]

    async def test_delivery_is_stored_then_marked_handled_after_the_resync(
        self, hooks: Any
    ) -> None:
        await hooks.github("issues.closed")

        [queued] = await hooks.incoming()
        assert (queued.source, queued.event, queued.state) == (
            "gh",
            "issues.closed",
            "queued",
        )
        assert queued.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
        await hooks.service.resyncs.wait_idle()
        [handled] = await hooks.incoming()
        assert handled.state == "handled"
        assert handled.handled_at == hooks.service.clock()
        assert handled.sync_id == "sync-1"
        assert handled.key_results == GITHUB_EXPECTED["issues.closed"]

    async def test_a_failed_resync_marks_the_delivery_failed_with_the_error(
        self, hooks: Any
    ) -> None:
        hooks.engine.error = RuntimeError("database is locked")

        await hooks.github("issues.closed")
        await hooks.service.resyncs.wait_idle()

        [row] = await hooks.incoming()
        assert (row.state, row.error) == ("failed", "database is locked")

    async def test_github_ping_is_answered_and_nothing_else_is_done(
        self, hooks: Any
    ) -> None:
        response = await hooks.github("ping")

        assert response.status_code == 200
        assert response.json() == {"status": "ignored", "event": "ping"}
        await hooks.service.resyncs.wait_idle()
        assert hooks.engine.runs == []
        [row] = await hooks.incoming()
        assert (row.event, row.state, row.key_results) == ("ping", "handled", [])

    async def test_only_key_results_of_the_named_source_are_selected(
        self, hooks: Any
    ) -> None:
        response = await hooks.github("issues.closed", source="gh-twin")

        assert response.json()["key_results"] == ["twin-test-repo"]

    async def test_delivery_affecting_nothing_is_accepted_and_syncs_nothing(
        self, hooks: Any
    ) -> None:
        payload = json.loads(hooks.body("github/projects_v2_item.edited.json"))
        payload["organization"]["login"] = "someone-else"
        body = json.dumps(payload).encode()

        response = await hooks.post(
            "github/gh", body, hooks.github_headers(body, "projects_v2_item")
        )

        assert response.status_code == 202
        assert response.json()["key_results"] == []
        await hooks.service.resyncs.wait_idle()
        assert hooks.engine.runs == []
        [row] = await hooks.incoming()
        assert row.state == "handled"


class TestRefusals:
    async def test_wrong_signature_is_refused_and_nothing_is_stored(
        self, hooks: Any
    ) -> None:
        body = hooks.body("github/issues.closed.json")
        headers = hooks.github_headers(body, "issues", secret="not-the-secret")

        response = await hooks.post("github/gh", body, headers)

        problem = assert_problem(response, 401)
        assert "does not match" in problem["detail"]
        assert hooks.github_secret not in response.text
        assert await hooks.incoming() == []
        await hooks.service.resyncs.wait_idle()
        assert hooks.engine.runs == []

    async def test_body_changed_after_signing_is_refused(self, hooks: Any) -> None:
        body = hooks.body("github/issues.closed.json")
        headers = hooks.github_headers(body, "issues")

        response = await hooks.post(
            "github/gh", body.replace(b"closed", b"opened"), headers
        )

        assert_problem(response, 401)
        assert await hooks.incoming() == []

    @pytest.mark.parametrize("kind", ["github", "jira"])
    async def test_missing_signature_is_refused(self, hooks: Any, kind: str) -> None:
        body = hooks.body("jira/issue_updated.resolved-done.json")

        response = await hooks.post(
            f"{kind}/{'gh' if kind == 'github' else 'jira'}",
            body,
            {"content-type": "application/json", "x-github-event": "issues"},
        )

        problem = assert_problem(response, 401)
        header = "X-Hub-Signature-256" if kind == "github" else "X-Hub-Signature"
        assert header in problem["detail"]
        assert await hooks.incoming() == []

    async def test_github_signature_in_jiras_header_does_not_count(
        self, hooks: Any
    ) -> None:
        body = hooks.body("github/issues.closed.json")
        headers = hooks.github_headers(body, "issues")
        headers["x-hub-signature"] = headers.pop("x-hub-signature-256")

        response = await hooks.post("github/gh", body, headers)

        assert_problem(response, 401)

    async def test_repeated_delivery_answers_duplicate_and_does_nothing(
        self, hooks: Any
    ) -> None:
        first = await hooks.github("issues.closed")
        await hooks.service.resyncs.wait_idle()

        again = await hooks.github("issues.closed")

        assert first.status_code == 202
        assert again.status_code == 200
        assert again.json()["status"] == "duplicate"
        await hooks.service.resyncs.wait_idle()
        assert len(hooks.engine.runs) == 1
        assert len(await hooks.incoming()) == 1

    async def test_same_delivery_id_for_another_source_is_a_new_delivery(
        self, hooks: Any
    ) -> None:
        await hooks.github("issues.closed")

        response = await hooks.github("issues.closed", source="gh-twin")

        assert response.status_code == 202

    async def test_jira_delivery_without_identifier_is_deduplicated_by_its_body(
        self, hooks: Any
    ) -> None:
        first = await hooks.jira("issue_updated.resolved-done", delivery=None)
        again = await hooks.jira("issue_updated.resolved-done", delivery=None)
        other = await hooks.jira("issue_updated.to-in-progress", delivery=None)

        assert [r.status_code for r in (first, again, other)] == [202, 200, 202]
        rows = await hooks.incoming()
        assert all(row.derived_id for row in rows)
        assert rows[0].delivery_id.startswith("sha256:")

    async def test_oversized_body_is_refused_from_its_content_length(
        self, hooks: Any
    ) -> None:
        hooks.service.settings.webhook_max_bytes = 4096
        body = hooks.body("github/issues.closed.json")
        assert len(body) > 4096

        response = await hooks.post(
            "github/gh", body, hooks.github_headers(body, "issues")
        )

        problem = assert_problem(response, 413)
        assert "4096 bytes" in problem["detail"]
        assert await hooks.incoming() == []

    async def test_oversized_body_without_content_length_is_cut_off(
        self, hooks: Any
    ) -> None:
        hooks.service.settings.webhook_max_bytes = 4096
        body = hooks.body("github/issues.closed.json")

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1024):
                yield body[start : start + 1024]

        response = await hooks.client.post(
            "/api/v1/webhooks/github/gh",
            content=chunks(),
            headers=hooks.github_headers(body, "issues"),
        )

        assert "content-length" not in response.request.headers
        assert_problem(response, 413)
        assert await hooks.incoming() == []

    @pytest.mark.parametrize("body", [b"not json at all", b"[1, 2, 3]", b"\xff\xfe"])
    async def test_signed_body_that_is_not_a_json_object_is_a_bad_request(
        self, hooks: Any, body: bytes
    ) -> None:
        response = await hooks.post(
            "github/gh", body, hooks.github_headers(body, "issues")
        )

        assert_problem(response, 400)
        assert await hooks.incoming() == []

    @pytest.mark.parametrize(
        ("path", "words"),
        [
            ("github/nope", "No source named 'nope'"),
            ("jira/gh", "is a github source, not jira"),
            ("github/jira", "is a jira source, not github"),
            ("github/gh-unsigned", "accepts no webhooks because it has no secret"),
        ],
    )
    async def test_unknown_wrong_type_or_unsigned_source_is_not_found(
        self, hooks: Any, path: str, words: str
    ) -> None:
        body = hooks.body("github/issues.closed.json")

        response = await hooks.post(path, body, hooks.github_headers(body, "issues"))

        problem = assert_problem(response, 404)
        assert words in problem["detail"]
        assert await hooks.incoming() == []


class TestDebounce:
    async def test_a_burst_of_fifty_deliveries_costs_one_resync_of_the_union(
        self, hooks: Any
    ) -> None:
        names = ["issues.closed", "milestone.closed", "pull_request.closed.merged"]
        # The window stays open until every delivery is in, however slow the
        # database is; its closing is then real.
        window_open = asyncio.Event()

        async def window(_seconds: float) -> None:
            await window_open.wait()

        hooks.service.resyncs.sleep = window

        answers = await asyncio.gather(
            *(hooks.github(names[i % 3], delivery=f"burst-{i}") for i in range(50))
        )
        window_open.set()

        assert {answer.status_code for answer in answers} == {202}
        await hooks.service.resyncs.wait_idle()
        union = set().union(*(GITHUB_EXPECTED[name] for name in names))
        assert hooks.engine.runs == [union]
        rows = await hooks.incoming()
        assert len(rows) == 50
        assert {row.state for row in rows} == {"handled"}
        assert {row.sync_id for row in rows} == {"sync-1"}

    async def test_delivery_after_the_window_closed_gets_its_own_resync(
        self, hooks: Any
    ) -> None:
        await hooks.github("issues.closed", delivery="one")
        await hooks.service.resyncs.wait_idle()

        await hooks.github("projects_v2_item.edited", delivery="two")
        await hooks.service.resyncs.wait_idle()

        assert hooks.engine.runs == [
            set(GITHUB_EXPECTED["issues.closed"]),
            set(GITHUB_EXPECTED["projects_v2_item.edited"]),
        ]


async def test_duplicate_is_recognised_by_a_new_service_on_the_same_database(
    hooks: Any, database_url: str, clock: Any, write_mapping: Any
) -> None:
    await hooks.github("issues.closed")
    await hooks.service.resyncs.wait_idle()

    restarted = Service(
        Settings(database_url=database_url, mappings=[], sync_interval=0), clock=clock
    )
    await restarted.use_mappings(hooks.service.mappings)
    try:
        async with api_client(restarted) as client:
            body = hooks.body("github/issues.closed.json")
            response = await client.post(
                "/api/v1/webhooks/github/gh",
                content=body,
                headers=hooks.github_headers(body, "issues"),
            )
    finally:
        await restarted.close()

    assert response.json()["status"] == "duplicate"
