"""A record of every request the sandbox received.

Tests and benchmarks count upstream calls per route with it and check what
connectors sent. Credentials are never stored: the Authorization header is
kept as its scheme only, plus the Basic user name and a short fingerprint of
the secret, so a test can still check which token was used::

    assert entry.auth_fingerprint == credential_fingerprint("my-token")
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

RECORDED_HEADERS = (
    "accept",
    "content-type",
    "user-agent",
    "x-github-api-version",
    "if-none-match",
    "x-atlassian-token",
)


def credential_fingerprint(secret: str) -> str:
    """A short one-way digest of a secret, comparable but not reversible."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass
class LoggedRequest:
    """One request as the sandbox saw it.

    Attributes:
        method: HTTP method.
        path: Full path, upstream prefix included (e.g. "/github/rate_limit").
        query: Query parameters, each with all its values.
        json: The decoded JSON body, or None when there was none.
        headers: Selected request headers; `authorization` holds the scheme.
        auth_scheme: "Basic", "Bearer", "token" ... or None.
        auth_user: The user name of Basic credentials.
        auth_fingerprint: `credential_fingerprint` of the password or token.
        status: The status answered (set once the answer starts).
        injected: Whether a fault answered instead of the upstream.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    headers: dict[str, str]
    auth_scheme: str | None = None
    auth_user: str | None = None
    auth_fingerprint: str | None = field(default=None, repr=False)
    status: int | None = None
    injected: bool = False

    @property
    def upstream(self) -> str:
        """The first path segment: "jira-cloud", "jira-dc" or "github"."""
        return self.path.strip("/").split("/", 1)[0]

    def param(self, name: str) -> str | None:
        """The first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None


class RequestLog:
    """Thread-safe list of `LoggedRequest`s, in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def record(
        self,
        method: str,
        path: str,
        query_string: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> LoggedRequest:
        """Add one request (raw ASGI parts) and return its entry."""
        names = {name.decode("latin-1").lower(): value for name, value in headers}
        kept = {
            name: names[name].decode("latin-1")
            for name in RECORDED_HEADERS
            if name in names
        }
        scheme, user, fingerprint = _credentials(names.get("authorization"))
        if scheme is not None:
            kept["authorization"] = scheme

        entry = LoggedRequest(
            method=method,
            path=path,
            query=parse_qs(query_string.decode("latin-1"), keep_blank_values=True),
            json=_json_or_none(body),
            headers=kept,
            auth_scheme=scheme,
            auth_user=user,
            auth_fingerprint=fingerprint,
        )
        with self._lock:
            self._entries.append(entry)
        return entry

    @property
    def entries(self) -> list[LoggedRequest]:
        """A copy of every entry so far."""
        with self._lock:
            return list(self._entries)

    def count(self, prefix: str = "", method: str | None = None) -> int:
        """Requests whose path starts with `prefix` (and of `method`)."""
        return sum(
            1
            for entry in self.entries
            if entry.path.startswith(prefix)
            and (method is None or entry.method == method.upper())
        )

    def routes(self) -> Counter[str]:
        """Request counts keyed by "METHOD /path"."""
        return Counter(f"{entry.method} {entry.path}" for entry in self.entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _credentials(raw: bytes | None) -> tuple[str | None, str | None, str | None]:
    """Scheme, Basic user name and secret fingerprint of an Authorization."""
    if raw is None:
        return None, None, None
    scheme, _, secret = raw.decode("latin-1").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "basic":
        return scheme, None, credential_fingerprint(secret) if secret else None
    try:
        decoded = base64.b64decode(secret, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return scheme, None, credential_fingerprint(secret)
    user, _, password = decoded.partition(":")
    return scheme, user, credential_fingerprint(password)


def _json_or_none(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
