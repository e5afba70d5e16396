"""Switches that make the sandbox misbehave on purpose.

Tests and benchmarks set them while the server runs (from another thread),
so every method takes a lock. A switch applies to every request whose path
starts with its prefix, e.g. "/github/search/issues" or just "/jira-cloud";
when several prefixes match, the longest wins.

    faults.add("/github/search/issues", status=503)      # next search fails
    faults.add("/jira-cloud", status=429, headers={"Retry-After": "2"}, times=3)
    faults.set_latency("/jira-dc", (0.05, 0.2))          # random delay per request
    faults.reset()
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Sleep = Callable[[float], Awaitable[None]]
Latency = float | tuple[float, float]
"""Fixed seconds, or a (min, max) range drawn from uniformly per request."""


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


class Faults:
    """Per-route-prefix latency and queues of injected answers."""

    def __init__(self, *, seed: int = 0, sleep: Sleep = asyncio.sleep) -> None:
        """Start with no faults.

        Args:
            seed: Seeds the random latency ranges, so runs repeat.
            sleep: What the server awaits to delay an answer; tests may
                replace the attribute with a recorder.
        """
        self.sleep = sleep
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._answers: dict[str, deque[InjectedAnswer]] = {}
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

        Answers are served in the order they were added, one per request.

        Raises:
            ValueError: The prefix does not start with "/", the status is not
                an HTTP status, or `times` is below 1.
        """
        _check_prefix(prefix)
        if not 100 <= status <= 599:
            raise ValueError(f"Fault status {status} is not an HTTP status (100-599).")
        if times < 1:
            raise ValueError(f"Fault times must be at least 1, not {times}.")
        answer = InjectedAnswer(status, dict(headers or {}), body)
        with self._lock:
            self._answers.setdefault(prefix, deque()).extend([answer] * times)

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

    def take(self, path: str) -> InjectedAnswer | None:
        """Remove and return the next injected answer for `path`, if any."""
        with self._lock:
            queued = {prefix: q for prefix, q in self._answers.items() if q}
            prefix = _longest(path, queued)
            return None if prefix is None else queued[prefix].popleft()

    def pending(self, prefix: str | None = None) -> int:
        """Injected answers not served yet (under one prefix, or all)."""
        with self._lock:
            if prefix is not None:
                return len(self._answers.get(prefix, ()))
            return sum(len(queue) for queue in self._answers.values())

    def reset(self) -> None:
        """Drop every queued answer and latency setting."""
        with self._lock:
            self._answers.clear()
            self._latency.clear()


def _check_prefix(prefix: str) -> None:
    if not prefix.startswith("/"):
        raise ValueError(
            f"Fault prefix {prefix!r} must be a path starting with '/', "
            "such as '/github/search/issues'."
        )


def _longest(path: str, prefixes: Mapping[str, object]) -> str | None:
    matching = [prefix for prefix in prefixes if path.startswith(prefix)]
    return max(matching, key=len, default=None)
