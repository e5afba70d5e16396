"""What one sandbox app holds: its data, fault switches, log and rate limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from app.sandbox.data import Company
from app.sandbox.faults import Faults
from app.sandbox.requestlog import RequestLog

RATE_WINDOWS = {"core": (5000, 3600), "search": (30, 60), "graphql": (5000, 3600)}
"""GitHub's limits for an authenticated user: (requests, window seconds)."""


@dataclass(frozen=True)
class RateWindow:
    """One GitHub rate-limit resource at one moment."""

    resource: str
    limit: int
    used: int
    reset: int

    @property
    def remaining(self) -> int:
        """Requests left in this window."""
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        """The `x-ratelimit-*` headers GitHub sends with every answer."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-resource": self.resource,
        }

    def as_json(self) -> dict[str, int]:
        """The shape `/rate_limit` uses for one resource."""
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "reset": self.reset,
        }


class RateLimits:
    """GitHub's primary rate-limit counters, per resource.

    Answers count against their resource unless they are 304 Not Modified
    (GitHub does not charge for those) or answers of `/rate_limit` itself.
    With `enforce` set, an exhausted resource is answered with 403 as GitHub
    does; by default the counters only report.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, enforce: bool = False
    ) -> None:
        self.clock = clock
        self.enforce = enforce
        self.not_modified = 0
        self._lock = threading.Lock()
        self._used: dict[str, int] = {}
        self._reset: dict[str, int] = {}

    def consume(self, resource: str) -> RateWindow:
        """Count one request and return the window after it."""
        with self._lock:
            self._roll(resource)
            self._used[resource] += 1
            return self._window(resource)

    def peek(self, resource: str) -> RateWindow:
        """The window as it stands, without counting anything."""
        with self._lock:
            self._roll(resource)
            return self._window(resource)

    def note_not_modified(self) -> None:
        """Count a free 304 answer."""
        with self._lock:
            self.not_modified += 1

    def reset(self) -> None:
        """Start every window afresh."""
        with self._lock:
            self._used.clear()
            self._reset.clear()
            self.not_modified = 0

    def _roll(self, resource: str) -> None:
        now = self.clock()
        if resource not in self._used or now >= self._reset[resource]:
            self._used[resource] = 0
            self._reset[resource] = int(now) + RATE_WINDOWS[resource][1]

    def _window(self, resource: str) -> RateWindow:
        limit = RATE_WINDOWS[resource][0]
        return RateWindow(resource, limit, self._used[resource], self._reset[resource])


@dataclass
class SandboxState:
    """Everything a sandbox app shares between requests (`app.state.sandbox`)."""

    company: Company
    faults: Faults
    log: RequestLog = field(default_factory=RequestLog)
    rate_limits: RateLimits = field(default_factory=RateLimits)


def sandbox_state(request: Request) -> SandboxState:
    """The state of the app serving `request`."""
    state: SandboxState = request.app.state.sandbox
    return state
