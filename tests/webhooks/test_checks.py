"""The pure checks behind incoming webhooks: signatures, body size, matching."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.api.problems import Problem
from app.webhooks.jql import projects_of
from app.webhooks.match import GitHubEvent, JiraEvent, search_may_cover
from app.webhooks.receive import read_limited
from app.webhooks.signatures import sign, signature_ok

DOCS_EXAMPLE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "webhooks"
    / "github"
    / "delivery-headers.docs-example.txt"
)


def documented_vector() -> dict[str, str]:
    """GitHub's published HMAC test vector, read from the docs example."""
    text = DOCS_EXAMPLE.read_text(encoding="utf-8")
    vector = text.split("HMAC-SHA256 test vector", 1)[1]
    return {
        name: value.strip()
        for name, value in re.findall(r"^([\w-]+):\s+(.+)$", vector, re.MULTILINE)
    }


class TestSignatures:
    def test_githubs_published_test_vector_verifies(self) -> None:
        vector = documented_vector()

        header = vector["X-Hub-Signature-256"]

        assert vector["secret"] == "It's a Secret to Everybody"
        assert sign(vector["secret"], vector["payload"].encode()) == header
        assert signature_ok(vector["secret"], b"Hello, World!", header)

    def test_upper_case_hex_is_accepted(self) -> None:
        header = sign("s3cret", b"{}")

        assert signature_ok("s3cret", b"{}", "sha256=" + header[7:].upper())

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "sha256=",
            "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6",
            "sha256=zzzz",
            "sha256=" + "0" * 64,
            "sha256=é" + "0" * 63,
        ],
    )
    def test_missing_malformed_or_wrong_signatures_fail(
        self, header: str | None
    ) -> None:
        assert not signature_ok("s3cret", b"{}", header)

    def test_another_secret_or_body_fails(self) -> None:
        header = sign("s3cret", b'{"a": 1}')

        assert not signature_ok("other", b'{"a": 1}', header)
        assert not signature_ok("s3cret", b'{"a": 2}', header)


class TestBodyLimit:
    async def test_declared_length_over_the_limit_is_refused_before_reading(
        self,
    ) -> None:
        read: list[bytes] = []

        async def stream() -> AsyncIterator[bytes]:
            read.append(b"x")
            yield b"x"

        with pytest.raises(Problem) as caught:
            await read_limited({"content-length": "2048"}, stream(), 1024)

        assert caught.value.status == 413
        assert read == []

    async def test_undeclared_body_stops_being_read_once_over_the_limit(
        self,
    ) -> None:
        served: list[int] = []

        async def stream() -> AsyncIterator[bytes]:
            for index in range(100):
                served.append(index)
                yield b"x" * 512

        with pytest.raises(Problem):
            await read_limited({}, stream(), 1024)

        assert served == [0, 1, 2]

    async def test_body_at_the_limit_is_read_whole(self) -> None:
        async def stream() -> AsyncIterator[bytes]:
            yield b"a" * 1000
            yield b"b" * 24

        body = await read_limited({"content-length": "1024"}, stream(), 1024)

        assert body == b"a" * 1000 + b"b" * 24


class TestGitHubSearchScope:
    @pytest.mark.parametrize(
        ("query", "covers"),
        [
            ("repo:acme/app is:open", True),
            ("REPO:Acme/App is:open", True),
            ("repo:acme/api is:open", False),
            ("repo:acme/api repo:acme/app is:open", True),
            ('repo:"acme/app" is:open', True),
            ("org:acme is:pr", True),
            ("user:acme is:pr", True),
            ("org:other is:pr", False),
            ("is:issue is:open label:P1", True),
            ("is:open -repo:acme/app", False),
            ("is:open -repo:acme/api", True),
            ("is:open NOT repo:acme/app", False),
            ("org:acme -repo:acme/app", False),
            ("repo:acme/api OR label:bug", True),
            ("(repo:acme/api is:open)", True),
            ("", True),
        ],
    )
    def test_qualifiers_decide_whether_a_repository_is_covered(
        self, query: str, covers: bool
    ) -> None:
        assert search_may_cover(query, "acme/app") is covers


class TestJqlProjects:
    @pytest.mark.parametrize(
        ("jql", "projects"),
        [
            ("project = TES", {"tes"}),
            ("project=TES AND statusCategory != Done", {"tes"}),
            ('PROJECT = "Test Project" ORDER BY created DESC', {"test project"}),
            ("project in (ABC, tes)", {"abc", "tes"}),
            ("project = A OR project = B", {"a", "b"}),
            ("(project = A OR project = B) AND status = Done", {"a", "b"}),
            ("project in (A, B) AND project = B", {"b"}),
            ("project = A && labels = x", {"a"}),
            ("key = TES-41", {"tes"}),
            ("issuekey in (TES-1, ABC-2)", {"abc", "tes"}),
            (
                'status CHANGED FROM "To Do" TO Done DURING ("2026/01/01", '
                '"2026/02/01") AND project = X',
                {"x"},
            ),
            ("project = 10000", {"10000"}),
        ],
    )
    def test_queries_limited_to_projects(self, jql: str, projects: set[str]) -> None:
        assert projects_of(jql) == frozenset(projects)

    @pytest.mark.parametrize(
        "jql",
        [
            "",
            "assignee = currentUser()",
            "project = MOB OR labels = urgent",
            "project != TES",
            "project not in (TES)",
            "NOT project = TES",
            "project in projectsLeadByUser()",
            'project = "unterminated',
            "project = A OR",
            "project = A)",
        ],
    )
    def test_queries_that_may_match_any_project(self, jql: str) -> None:
        assert projects_of(jql) is None


class TestEvents:
    def test_github_event_takes_the_milestone_of_the_issue_when_it_has_none(
        self,
    ) -> None:
        payload = {
            "repository": {"full_name": "acme/app"},
            "issue": {"milestone": {"number": 3, "title": "v3"}},
        }

        event = GitHubEvent.of("issues", payload)

        assert (event.repository, event.owner) == ("acme/app", "acme")
        assert (event.milestone_number, event.milestone_title) == (3, "v3")

    def test_jira_event_without_an_issue_has_no_project(self) -> None:
        event = JiraEvent.of({"webhookEvent": "jira:version_released"})

        assert (event.name, event.project_names) == ("jira:version_released", None)


class TestDocumentedReceiver:
    SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    HEADERS = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    BODY = b'{"test": 2432232314}'

    def test_it_accepts_the_specifications_vector(
        self, documented: dict[str, Any]
    ) -> None:
        verify = documented["verify_webhook"]

        assert verify(self.SECRET, self.HEADERS, self.BODY, now=1614265330 + 299)

    def test_it_accepts_any_of_several_signatures(
        self, documented: dict[str, Any]
    ) -> None:
        rotated = {
            **self.HEADERS,
            "webhook-signature": "v1,bm9wZQ== " + self.HEADERS["webhook-signature"],
        }

        assert documented["verify_webhook"](
            self.SECRET, rotated, self.BODY, now=1614265330
        )

    @pytest.mark.parametrize(
        ("change", "now"),
        [
            ({}, 1614265330 + 301),
            ({}, 1614265330 - 301),
            ({"webhook-id": "msg_other"}, 1614265330),
            ({"webhook-timestamp": "1614265331"}, 1614265330),
            ({"webhook-timestamp": "soon"}, 1614265330),
            ({"webhook-signature": "v1,ü"}, 1614265330),
        ],
    )
    def test_it_refuses_stale_or_altered_deliveries(
        self, documented: dict[str, Any], change: dict[str, str], now: int
    ) -> None:
        headers = {**self.HEADERS, **change}

        assert not documented["verify_webhook"](self.SECRET, headers, self.BODY, now)

    def test_it_refuses_another_body_or_missing_headers(
        self, documented: dict[str, Any]
    ) -> None:
        verify = documented["verify_webhook"]

        assert not verify(self.SECRET, self.HEADERS, b'{"test": 1}', 1614265330)
        assert not verify(self.SECRET, {}, self.BODY, 1614265330)
