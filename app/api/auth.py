"""Who may call what: bearer tokens with the scopes read, write and admin.

Every route declares the scope it needs with `Depends(require(...))`; a test
walks the app and fails for a route that declares none. Scopes nest: admin
may do all that write may, and write all that read may.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from app.api.problems import Problem
from app.service import Service
from app.store import tokens

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")

TOKEN_CACHE_SECONDS = 10.0
"""How long a looked-up token is trusted without asking the database again;
also the longest a revoked token keeps working on a replica."""

LAST_USED_EVERY = 60.0
"""`last_used_at` is written at most this often per token, not on every poll."""


@dataclass(frozen=True)
class Caller:
    """Who made a request, and with which scope (None: anonymous)."""

    token_id: str | None
    name: str
    scope: Scope | None


ANONYMOUS = Caller(token_id=None, name="anonymous", scope=None)


class Unauthorized(Problem):
    """No usable token: 401 with a `WWW-Authenticate` challenge."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"}
        )


def allows(granted: Scope | None, needed: Scope) -> bool:
    """Whether a token of scope `granted` may use a route that needs `needed`."""
    return granted is not None and SCOPES.index(granted) >= SCOPES.index(needed)


class Require:
    """A dependency that lets a request through only with `scope` or more."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, request: Request) -> Caller:
        service: Service = request.app.state.service
        header = request.headers.get("authorization", "")
        if not header:
            if self.scope == "read" and service.settings.anonymous_read:
                return ANONYMOUS
            raise Unauthorized("Send an API token: Authorization: Bearer <token>.")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use the Bearer scheme: Authorization: Bearer <token>.")
        caller = await _lookup(request, service, token.strip())
        if not allows(caller.scope, self.scope):
            raise Problem(
                403,
                "Forbidden",
                f"This needs a token with the {self.scope} scope; "
                f"token {caller.name!r} has {caller.scope}.",
            )
        return caller


def require(scope: Scope) -> Require:
    """The dependency for routes that need `scope`."""
    return Require(scope)


async def _lookup(request: Request, service: Service, token: str) -> Caller:
    cache: dict[str, tuple[float, Caller]] = _cache_of(request)
    key = tokens.hash_token(token)
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < TOKEN_CACHE_SECONDS:
        return hit[1]

    async with service.database.session() as session:
        row = await tokens.find(session, token)
        if row is None:
            cache.pop(key, None)
            raise Unauthorized("The token is unknown or revoked.")
        caller = Caller(token_id=row.id, name=row.name, scope=_scope(row.scope))
        last_used = row.last_used_at
        wall = service.clock()
        if last_used is None or (wall - last_used).total_seconds() > LAST_USED_EVERY:
            await tokens.mark_used(session, row.id, wall)
            await session.commit()
    cache[key] = (now, caller)
    return caller


def _cache_of(request: Request) -> dict[str, tuple[float, Caller]]:
    state = request.app.state
    if not hasattr(state, "token_cache"):
        state.token_cache = {}
    cache: dict[str, tuple[float, Caller]] = state.token_cache
    return cache


def _scope(value: str) -> Scope:
    for scope in SCOPES:
        if scope == value:
            return scope
    return "read"
