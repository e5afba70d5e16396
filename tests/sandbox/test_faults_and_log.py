"""Injected faults, latency, and the request log."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from app.sandbox import Faults, SandboxServer, credential_fingerprint

SEARCH = "/github/search/issues"
P1_OPEN = {"q": "repo:acme/app is:issue is:open label:P1"}
CLOUD_SEARCH = "/jira-cloud/rest/api/3/search/jql"


class RecordingSleep:
    """Stands in for asyncio.sleep: notes the delay, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def recording_sleep(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> RecordingSleep:
    sleep = RecordingSleep()
    monkeypatch.setattr(sandbox.faults, "sleep", sleep)
    return sleep


def test_an_injected_503_is_served_once_then_answers_resume(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.add(SEARCH, status=503)

    failed = client.get(SEARCH, params=P1_OPEN)
    recovered = client.get(SEARCH, params=P1_OPEN)

    assert failed.status_code == 503
    assert failed.json()["message"] == "Service Unavailable"
    assert recovered.status_code == 200
    assert sandbox.faults.pending() == 0
    assert [entry.injected for entry in sandbox.log.entries] == [True, False]


def test_injected_answers_are_served_in_order_with_their_headers(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.add(CLOUD_SEARCH, status=429, headers={"Retry-After": "7"}, times=2)
    sandbox.faults.add(CLOUD_SEARCH, status=502, body="<html>Bad gateway</html>")
    body = {"jql": "project = MOB"}

    statuses = [client.post(CLOUD_SEARCH, json=body) for _ in range(4)]

    assert [r.status_code for r in statuses] == [429, 429, 502, 200]
    assert statuses[0].headers["retry-after"] == "7"
    assert statuses[0].json() == {"errorMessages": ["Too Many Requests"], "errors": {}}
    assert statuses[2].text == "<html>Bad gateway</html>"


def test_a_fault_applies_only_under_its_prefix(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.add("/jira-dc", status=500)

    github = client.get(SEARCH, params=P1_OPEN)
    jira = client.get("/jira-dc/rest/api/2/myself")

    assert github.status_code == 200
    assert jira.status_code == 500


def test_the_longest_matching_prefix_answers_first(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.add("/github", status=500)
    sandbox.faults.add(SEARCH, status=503)

    first = client.get(SEARCH, params=P1_OPEN)
    second = client.get(SEARCH, params=P1_OPEN)

    assert (first.status_code, second.status_code) == (503, 500)


def test_injected_answers_do_not_count_against_the_rate_limit(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.add(SEARCH, status=503)

    failed = client.get(SEARCH, params=P1_OPEN)
    served = client.get(SEARCH, params=P1_OPEN)

    assert failed.headers["x-ratelimit-used"] == "0"
    assert served.headers["x-ratelimit-used"] == "1"


def test_an_injected_rate_limit_keeps_its_own_headers(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1796400000"}
    sandbox.faults.add(SEARCH, status=403, headers=headers)

    response = client.get(SEARCH, params=P1_OPEN)

    assert response.status_code == 403
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == "1796400000"


def test_reset_drops_queued_faults_and_latency(
    client: httpx.Client, sandbox: SandboxServer, recording_sleep: RecordingSleep
) -> None:
    sandbox.faults.add(SEARCH, status=503, times=3)
    sandbox.faults.set_latency("/github", 2.0)

    sandbox.faults.reset()
    response = client.get(SEARCH, params=P1_OPEN)

    assert response.status_code == 200
    assert recording_sleep.delays == []


def test_fixed_latency_is_awaited_before_answering(
    client: httpx.Client, sandbox: SandboxServer, recording_sleep: RecordingSleep
) -> None:
    sandbox.faults.set_latency("/jira-cloud", 0.25)

    client.post(CLOUD_SEARCH, json={"jql": "project = MOB"})
    client.get(SEARCH, params=P1_OPEN)

    assert recording_sleep.delays == [0.25]


def test_random_latency_stays_within_its_range(
    client: httpx.Client, sandbox: SandboxServer, recording_sleep: RecordingSleep
) -> None:
    sandbox.faults.set_latency("/github", (0.1, 0.3))

    for _ in range(10):
        client.get("/github/rate_limit")

    assert len(recording_sleep.delays) == 10
    assert all(0.1 <= delay <= 0.3 for delay in recording_sleep.delays)
    assert len(set(recording_sleep.delays)) > 1


def test_real_latency_delays_the_answer(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.set_latency("/github/rate_limit", 0.05)

    response = client.get("/github/rate_limit")

    assert response.elapsed.total_seconds() >= 0.05


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.add("github", status=503), "must be a path starting with '/'"),
        (lambda f: f.add("/github", status=42), "not an HTTP status"),
        (lambda f: f.add("/github", times=0), "at least 1"),
        (lambda f: f.set_latency("/github", -1.0), "not valid"),
        (lambda f: f.set_latency("/github", (0.5, 0.1)), "not valid"),
    ],
)
def test_invalid_fault_settings_are_refused(
    call: Callable[[Faults], None], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call(Faults())


def test_the_log_records_method_path_query_body_and_status(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    client.post(CLOUD_SEARCH, json={"jql": "project = MOB", "maxResults": 5})
    client.get(SEARCH, params=P1_OPEN, headers={"X-GitHub-Api-Version": "2022-11-28"})

    cloud, github = sandbox.log.entries

    assert (cloud.method, cloud.path, cloud.status) == ("POST", CLOUD_SEARCH, 200)
    assert cloud.json == {"jql": "project = MOB", "maxResults": 5}
    assert cloud.upstream == "jira-cloud"
    assert github.param("q") == P1_OPEN["q"]
    assert github.headers["x-github-api-version"] == "2022-11-28"
    assert sandbox.log.count("/github") == 1
    assert sandbox.log.count("/jira-cloud", method="post") == 1
    assert sandbox.log.routes()[f"GET {SEARCH}"] == 1


def test_the_log_keeps_basic_user_and_a_fingerprint_never_the_secret(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    secret = "s3cr3t-api-token"

    client.get("/jira-cloud/rest/api/3/myself", auth=("ann@acme.example", secret))
    client.get("/github/rate_limit", headers={"Authorization": f"Bearer {secret}"})

    basic, bearer = sandbox.log.entries
    assert basic.headers["authorization"] == "Basic"
    assert basic.auth_user == "ann@acme.example"
    assert basic.auth_fingerprint == credential_fingerprint(secret)
    assert bearer.auth_scheme == "Bearer"
    assert bearer.auth_fingerprint == credential_fingerprint(secret)
    encoded = base64.b64encode(f"ann@acme.example:{secret}".encode()).decode()
    for entry in sandbox.log.entries:
        assert secret not in repr(entry)
        assert secret not in str(vars(entry))
        assert encoded not in str(vars(entry))


def test_requests_without_credentials_are_answered(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    response = client.post(CLOUD_SEARCH, json={"jql": "project = MOB"})

    assert response.status_code == 200
    assert sandbox.log.entries[0].auth_scheme is None


NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
DC_SEARCH = "/jira-dc/rest/api/2/search"
MILESTONE = "/github/repos/acme/api/milestones/1"


@pytest.fixture
def frozen(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Puts the faults on a clock standing at NOW; append to move it."""
    moments = [NOW.timestamp()]
    monkeypatch.setattr(sandbox.faults, "clock", lambda: moments[-1])
    return moments


def test_a_429_asks_for_a_pause_in_seconds(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.rate_limit(DC_SEARCH, retry_after=7)
    sandbox.faults.rate_limit(DC_SEARCH, retry_after=0)

    first = client.post(DC_SEARCH, json={"jql": "project = PLAT"})
    second = client.post(DC_SEARCH, json={"jql": "project = PLAT"})

    assert (first.status_code, first.headers["retry-after"]) == (429, "7")
    assert (second.status_code, second.headers["retry-after"]) == (429, "0")
    assert first.json() == {"errorMessages": ["Too Many Requests"], "errors": {}}


def test_a_429_can_name_the_moment_as_an_http_date_from_the_faults_clock(
    client: httpx.Client, sandbox: SandboxServer, frozen: list[float]
) -> None:
    sandbox.faults.rate_limit(DC_SEARCH, retry_after=30, form="http-date")

    response = client.post(DC_SEARCH, json={"jql": "project = PLAT"})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "Sun, 15 Nov 2026 12:00:30 GMT"


@pytest.mark.parametrize(
    ("retry_after", "reset"),
    [(30, "2026-11-15T12:01Z"), (60, "2026-11-15T12:01Z"), (61, "2026-11-15T12:02Z")],
)
def test_jira_cloud_says_when_the_limit_resets_to_the_minute_rounded_up(
    client: httpx.Client,
    sandbox: SandboxServer,
    frozen: list[float],
    retry_after: int,
    reset: str,
) -> None:
    sandbox.faults.rate_limit(CLOUD_SEARCH, retry_after=retry_after, form="jira-reset")

    response = client.post(CLOUD_SEARCH, json={"jql": "project = MOB"})

    assert response.status_code == 429
    assert response.headers["x-ratelimit-reset"] == reset
    assert "retry-after" not in response.headers


def test_a_429_without_any_pause_header(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.rate_limit(DC_SEARCH, form="none")

    response = client.post(DC_SEARCH, json={"jql": "project = PLAT"})

    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert "x-ratelimit-reset" not in response.headers


def test_github_primary_limit_refuses_everything_until_its_reset(
    client: httpx.Client, sandbox: SandboxServer, frozen: list[float]
) -> None:
    sandbox.faults.github_primary_limit("/github", reset_in=3600)
    reset = int(NOW.timestamp()) + 3600

    refused = [client.get(SEARCH, params=P1_OPEN), client.get(MILESTONE)]
    frozen.append(reset - 1)
    still = client.get(MILESTONE)
    frozen.append(reset)
    after = client.get(MILESTONE)

    for response in [*refused, still]:
        assert response.status_code == 403
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert response.headers["x-ratelimit-reset"] == str(reset)
        assert response.headers["x-ratelimit-resource"] == "core"
        assert response.json()["message"].startswith("API rate limit exceeded for ")
    assert after.status_code == 200
    assert [e.injected for e in sandbox.log.entries] == [True, True, True, False]
    assert sandbox.faults.pending() == 0


def test_queued_faults_go_before_a_standing_limit_on_the_same_prefix(
    client: httpx.Client, sandbox: SandboxServer, frozen: list[float]
) -> None:
    sandbox.faults.github_primary_limit("/github")
    sandbox.faults.add("/github", status=502)

    statuses = [client.get(MILESTONE).status_code for _ in range(3)]

    assert statuses == [502, 403, 403]


@pytest.mark.parametrize("status", [403, 429])
@pytest.mark.parametrize("retry_after", [None, 60])
def test_github_secondary_limit_has_its_message_and_an_optional_retry_after(
    client: httpx.Client,
    sandbox: SandboxServer,
    status: int,
    retry_after: int | None,
) -> None:
    sandbox.faults.github_secondary_limit(
        SEARCH, retry_after=retry_after, status=status
    )

    response = client.get(SEARCH, params=P1_OPEN)

    assert response.status_code == status
    assert response.json()["message"].startswith(
        "You have exceeded a secondary rate limit."
    )
    assert response.headers.get("retry-after") == (
        None if retry_after is None else str(retry_after)
    )
    # The primary limit is not what ran out: GitHub still reports requests left.
    assert response.headers["x-ratelimit-remaining"] != "0"


def test_malformed_json_comes_with_status_200_and_a_json_content_type(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.malformed_json(DC_SEARCH)

    response = client.post(DC_SEARCH, json={"jql": "project = PLAT"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"issues": [1,'
    with pytest.raises(ValueError, match="Expecting"):
        response.json()


def test_an_html_page_comes_with_status_200(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.html_page(MILESTONE, times=2)

    responses = [client.get(MILESTONE) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].headers["content-type"].startswith("text/html")
    assert responses[0].text.startswith("<!DOCTYPE html>")
    assert responses[2].json()["number"] == 1


def test_a_held_request_waits_through_the_faults_sleep_then_answers(
    client: httpx.Client, sandbox: SandboxServer, recording_sleep: RecordingSleep
) -> None:
    sandbox.faults.timeout(MILESTONE, hold=1.5)

    held = client.get(MILESTONE)
    free = client.get(MILESTONE)

    assert recording_sleep.delays == [1.5]
    assert (held.status_code, free.status_code) == (200, 200)
    assert [e.injected for e in sandbox.log.entries] == [True, False]


def test_a_client_with_a_shorter_timeout_gives_up_on_a_held_request(
    sandbox: SandboxServer,
) -> None:
    sandbox.faults.timeout(MILESTONE, hold=0.5)

    with httpx.Client(base_url=sandbox.url, timeout=0.1) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.get(MILESTONE)
        again = impatient.get(MILESTONE)

    assert again.status_code == 200


def test_a_reset_connection_gives_the_client_no_answer(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.connection_reset(MILESTONE)

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.get(MILESTONE)
    again = client.get(MILESTONE)

    assert again.status_code == 200
    dropped, served = sandbox.log.entries
    assert (dropped.injected, dropped.status) == (True, None)
    assert (served.injected, served.status) == (False, 200)


def test_reset_drops_standing_limits_and_queued_holds(
    client: httpx.Client, sandbox: SandboxServer, frozen: list[float]
) -> None:
    sandbox.faults.github_primary_limit("/github")
    sandbox.faults.timeout(MILESTONE)
    sandbox.faults.connection_reset(MILESTONE)

    sandbox.faults.reset()

    assert client.get(MILESTONE).status_code == 200
    assert sandbox.faults.pending() == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.rate_limit("/jira-dc", retry_after=-1), "is negative"),
        (lambda f: f.rate_limit("/jira-dc", form="minutes"), "form 'minutes'"),
        (lambda f: f.rate_limit("jira-dc"), "must be a path"),
        (lambda f: f.github_primary_limit("/github", reset_in=0), "positive"),
        (lambda f: f.github_primary_limit("/github", resource="x"), "resource"),
        (lambda f: f.github_secondary_limit("/github", status=503), "403 or 429"),
        (lambda f: f.github_secondary_limit("/github", retry_after=-5), "negative"),
        (lambda f: f.timeout("/github", hold=0), "positive"),
        (lambda f: f.connection_reset("/github", times=0), "at least 1"),
        (lambda f: f.add_until("github", 1.0), "must be a path"),
    ],
)
def test_invalid_fault_helpers_are_refused(
    call: Callable[[Faults], None], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call(Faults())
