"""Switches that make the sandbox misbehave on purpose.

Tests and benchmarks set them while the server runs (from another thread),
so every method takes a lock. A switch applies to every request whose path
starts with its prefix, e.g. "/github/search/issues" or just "/jira-cloud";
when several prefixes match, the longest wins.

    faults.add("/github/search/issues", status=503, times=5)   # a 5xx burst
    faults.rate_limit("/jira-cloud", retry_after=7)             # 429, wait 7 s
    faults.rate_limit("/jira-dc", retry_after=30, form="http-date")
    faults.github_primary_limit("/github", reset_in=3600)       # 403s for an hour
    faults.github_secondary_limit("/github/search", retry_after=60)
    faults.malformed_json("/jira-dc/rest/api/2/search")         # 200, broken JSON
    faults.html_page("/jira-cloud")                             # 200, an HTML page
    faults.timeout("/github", hold=1.0)                         # held past the timeout
    faults.connection_reset("/github")                          # no answer at all
    faults.set_latency("/jira-dc", (0.05, 0.2))                 # random delay
    faults.reset()

Absolute times in injected headers (an HTTP date, a reset moment) are taken
from `clock`, so a test on a fake clock sees values consistent with it.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
"""Returns the current time in seconds since the epoch, like `time.time`."""

Latency = float | tuple[float, float]
"""Fixed seconds, or a (min, max) range drawn from uniformly per request."""

RateLimitForm = Literal["seconds", "http-date", "jira-reset", "none"]
"""How a 429 says when to come back: `Retry-After: <seconds>`, `Retry-After:
<HTTP date>`, Jira Cloud's `X-RateLimit-Reset: <ISO time>`, or not at all."""

GITHUB_RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
GITHUB_PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID 1. If you reach out to GitHub Support "
    "for help, please include the request ID 0000:0000:0000000:0000000:00000000."
)
GITHUB_SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before "
    "you try again. If you reach out to GitHub Support for help, please include "
    "the request ID 0000:0000:0000000:0000000:00000000."
)
GITHUB_LIMITS = {"core": 5000, "search": 30, "graphql": 5000}
"""The limit each GitHub resource reports in `x-ratelimit-limit`."""

MALFORMED_JSON = b'{"issues": [1,'
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head>"
    "<body><h1>We'll be back soon</h1><p>The site is down for maintenance."
    "</p></body></html>\n"
)


@dataclass(frozen=True)
class InjectedAnswer:
    """An answer served instead of the real one.

    Attributes:
        status: The HTTP status.
        headers: Extra response headers (e.g. Retry-After).
        body: A dict or list is sent as JSON, str or bytes as they are, and
            None lets the server write the upstream's usual error body.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class HeldRequest:
    """Hold the request for `seconds`, then answer as usual.

    A client whose timeout is shorter gives up first and sees a timeout.
    """

    seconds: float


@dataclass(frozen=True)
class DroppedConnection:
    """Reset the connection instead of answering: the client gets no answer."""


Injected = InjectedAnswer | HeldRequest | DroppedConnection
"""Whatever a fault does to one request."""


@dataclass(frozen=True)
class _Standing:
    """An answer given to every request under a prefix until `until`."""

    until: float
    answer: InjectedAnswer


class Faults:
    """Per-route-prefix latency, queued faults and standing answers."""

    def __init__(
        self,
        *,
        seed: int = 0,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
    ) -> None:
        """Start with no faults.

        Args:
            seed: Seeds the random latency ranges, so runs repeat.
            sleep: What the server awaits to delay or hold an answer; tests
                may replace the attribute with a recorder.
            clock: Where absolute times in injected headers come from and
                when standing answers expire; tests may replace the attribute.
        """
        self.sleep = sleep
        self.clock = clock
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._answers: dict[str, deque[Injected]] = {}
        self._standing: dict[str, _Standing] = {}
        self._latency: dict[str, Latency] = {}

    def add(
        self,
        prefix: str,
        *,
        status: int = 503,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Queue an answer for the next `times` requests under `prefix`.

        Faults are served in the order they were queued, one per request.

        Raises:
            ValueError: The prefix does not start with "/", the status is not
                an HTTP status, or `times` is below 1.
        """
        self._queue(prefix, _answer(status, headers, body), times)

    def add_until(
        self,
        prefix: str,
        until: float,
        *,
        status: int = 503,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer every request under `prefix` this way until a given moment.

        The answer stands until `clock()` reaches `until` (epoch seconds);
        queued faults under the same prefix are served before it.

        Raises:
            ValueError: The prefix does not start with "/" or the status is
                not an HTTP status.
        """
        _check_prefix(prefix)
        standing = _Standing(until, _answer(status, headers, body))
        with self._lock:
            self._standing[prefix] = standing

    def rate_limit(
        self,
        prefix: str,
        *,
        retry_after: int = 1,
        form: RateLimitForm = "seconds",
        status: int = 429,
        times: int = 1,
    ) -> None:
        """Queue rate-limit refusals that ask for a pause of `retry_after` s.

        Args:
            prefix: The route prefix to refuse.
            retry_after: Whole seconds to wait, counted from `clock`.
            form: How the pause is said: "seconds" (`Retry-After: 7`),
                "http-date" (`Retry-After: <HTTP date>`), "jira-reset" (Jira
                Cloud's `X-RateLimit-Reset` in ISO 8601 to the minute, rounded
                up as a client must not come back early), or "none".
            status: 429, or the 403 some upstreams use.
            times: How many requests in a row are refused.

        Raises:
            ValueError: A negative `retry_after`, an unknown form, or what
                `add` refuses.
        """
        if retry_after < 0:
            raise ValueError(
                f"Rate-limit retry_after {retry_after} is negative; give seconds >= 0."
            )
        headers = self._pause_headers(form, retry_after)
        self.add(prefix, status=status, headers=headers, times=times)

    def github_primary_limit(
        self, prefix: str, *, reset_in: int = 3600, resource: str = "core"
    ) -> None:
        """Refuse every request under `prefix` as GitHub's primary limit does.

        The answer is 403 with GitHub's message, `x-ratelimit-remaining: 0`
        and `x-ratelimit-reset` in epoch seconds, and it stands until that
        time comes by `clock`.

        Raises:
            ValueError: `reset_in` is not positive, the resource is not one
                GitHub has, or the prefix does not start with "/".
        """
        if reset_in <= 0:
            raise ValueError(f"reset_in must be positive seconds, not {reset_in}.")
        if resource not in GITHUB_LIMITS:
            known = ", ".join(GITHUB_LIMITS)
            raise ValueError(
                f"GitHub has no rate-limit resource {resource!r}: {known}."
            )
        reset = math.ceil(self.clock() + reset_in)
        limit = str(GITHUB_LIMITS[resource])
        headers = {
            "x-ratelimit-limit": limit,
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-used": limit,
            "x-ratelimit-resource": resource,
        }
        body = {
            "message": GITHUB_PRIMARY_MESSAGE,
            "documentation_url": GITHUB_RATE_DOCS,
        }
        self.add_until(prefix, reset, status=403, headers=headers, body=body)

    def github_secondary_limit(
        self,
        prefix: str,
        *,
        retry_after: int | None = None,
        status: int = 403,
        times: int = 1,
    ) -> None:
        """Queue GitHub's secondary rate-limit refusal (403 or 429).

        It carries a `retry-after` header only when `retry_after` is given.

        Raises:
            ValueError: The status is neither 403 nor 429, a negative
                `retry_after`, or what `add` refuses.
        """
        if status not in (403, 429):
            raise ValueError(
                f"GitHub answers a secondary rate limit with 403 or 429, not {status}."
            )
        if retry_after is not None and retry_after < 0:
            raise ValueError(
                f"Rate-limit retry_after {retry_after} is negative; give seconds >= 0."
            )
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        body = {
            "message": GITHUB_SECONDARY_MESSAGE,
            "documentation_url": f"{GITHUB_RATE_DOCS}#about-secondary-rate-limits",
        }
        self.add(prefix, status=status, headers=headers, body=body, times=times)

    def malformed_json(
        self, prefix: str, *, body: bytes = MALFORMED_JSON, times: int = 1
    ) -> None:
        """Queue 200 answers labelled JSON whose body does not parse."""
        headers = {"content-type": "application/json"}
        self.add(prefix, status=200, headers=headers, body=body, times=times)

    def html_page(self, prefix: str, *, status: int = 200, times: int = 1) -> None:
        """Queue HTML pages, as a proxy or maintenance page answers them."""
        headers = {"content-type": "text/html; charset=utf-8"}
        self.add(prefix, status=status, headers=headers, body=HTML_PAGE, times=times)

    def timeout(self, prefix: str, *, hold: float = 1.0, times: int = 1) -> None:
        """Hold the next `times` requests for `hold` seconds, then answer.

        The hold is awaited through `sleep`, so a client whose timeout is
        shorter gives up and sees a timeout.

        Raises:
            ValueError: `hold` is not positive, or what `add` refuses.
        """
        if hold <= 0:
            raise ValueError(f"Timeout hold must be positive seconds, not {hold}.")
        self._queue(prefix, HeldRequest(hold), times)

    def connection_reset(self, prefix: str, *, times: int = 1) -> None:
        """Reset the connection of the next `times` requests without answering."""
        self._queue(prefix, DroppedConnection(), times)

    def set_latency(self, prefix: str, seconds: Latency) -> None:
        """Delay every answer under `prefix` by fixed or random seconds.

        Raises:
            ValueError: The prefix does not start with "/", or the delay is
                negative or an inverted range.
        """
        _check_prefix(prefix)
        low, high = seconds if isinstance(seconds, tuple) else (seconds, seconds)
        if low < 0 or high < low:
            raise ValueError(
                f"Latency {seconds!r} is not valid: use seconds >= 0 or (min, max)."
            )
        with self._lock:
            self._latency[prefix] = seconds

    def latency_for(self, path: str) -> float:
        """Seconds to wait before answering a request for `path`."""
        with self._lock:
            prefix = _longest(path, self._latency)
            if prefix is None:
                return 0.0
            seconds = self._latency[prefix]
            if isinstance(seconds, tuple):
                return self._random.uniform(*seconds)
            return seconds

    def take(self, path: str) -> Injected | None:
        """The fault for the next request for `path`, if any.

        A queued fault is removed as it is taken; a standing answer stays
        until its time is up.
        """
        with self._lock:
            now = self.clock()
            queued = {prefix: q for prefix, q in self._answers.items() if q}
            standing = {p: s for p, s in self._standing.items() if s.until > now}
            prefix = _longest(path, {**standing, **queued})
            if prefix is None:
                return None
            if prefix in queued:
                return queued[prefix].popleft()
            return standing[prefix].answer

    def pending(self, prefix: str | None = None) -> int:
        """Queued faults not served yet (under one prefix, or all)."""
        with self._lock:
            if prefix is not None:
                return len(self._answers.get(prefix, ()))
            return sum(len(queue) for queue in self._answers.values())

    def reset(self) -> None:
        """Drop every queued fault, standing answer and latency setting."""
        with self._lock:
            self._answers.clear()
            self._standing.clear()
            self._latency.clear()

    def _queue(self, prefix: str, fault: Injected, times: int) -> None:
        _check_prefix(prefix)
        if times < 1:
            raise ValueError(f"Fault times must be at least 1, not {times}.")
        with self._lock:
            self._answers.setdefault(prefix, deque()).extend([fault] * times)

    def _pause_headers(self, form: RateLimitForm, seconds: int) -> dict[str, str]:
        """The headers that ask for a pause of `seconds` in the given form."""
        if form == "none":
            return {}
        if form == "seconds":
            return {"Retry-After": str(seconds)}
        if form == "http-date":
            return {"Retry-After": _http_date(self.clock() + seconds)}
        if form == "jira-reset":
            return {"X-RateLimit-Reset": _iso_minute_after(self.clock() + seconds)}
        raise ValueError(
            f"Rate-limit form {form!r} is unknown; use seconds, http-date, "
            "jira-reset or none."
        )


def _answer(
    status: int, headers: Mapping[str, str] | None, body: Any
) -> InjectedAnswer:
    if not 100 <= status <= 599:
        raise ValueError(f"Fault status {status} is not an HTTP status (100-599).")
    return InjectedAnswer(status, dict(headers or {}), body)


def _http_date(moment: float) -> str:
    """`moment` as an HTTP date (IMF-fixdate): Sun, 15 Nov 2026 12:00:30 GMT."""
    # Whole seconds only: rounding down would ask the client back too early.
    return email.utils.formatdate(math.ceil(moment), usegmt=True)


def _iso_minute_after(moment: float) -> str:
    """`moment` rounded up to the minute, as Jira writes it: 2026-11-15T12:01Z."""
    at = datetime.fromtimestamp(moment, UTC)
    if at.second or at.microsecond:
        at = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return at.strftime("%Y-%m-%dT%H:%MZ")


def _check_prefix(prefix: str) -> None:
    if not prefix.startswith("/"):
        raise ValueError(
            f"Fault prefix {prefix!r} must be a path starting with '/', "
            "such as '/github/search/issues'."
        )


def _longest(path: str, prefixes: Mapping[str, object]) -> str | None:
    matching = [prefix for prefix in prefixes if path.startswith(prefix)]
    return max(matching, key=len, default=None)
