"""Conditional reads: ETags, If-None-Match and Cache-Control for polling clients.

ETags are weak (`W/"..."`): they promise the same data, not the same bytes.
They are hashes of what the data depends on, so every replica and every
restart gives the same tag for the same data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from app.store.read_cache import ReadCache

CACHE_SECONDS_CAP = 60
"""Longest max-age sent, so webhook-driven changes show up within a minute."""


def etag_of(*parts: Any) -> str:
    """A weak ETag over any JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return f'W/"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110, 13.1.2): `*`, a list, and `W/` all match."""
    if not if_none_match:
        return False
    wanted = _opaque(etag)
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or _opaque(candidate) == wanted:
            return True
    return False


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/").strip()


def cache_control(sync_interval: float) -> str:
    """How long a client may reuse an answer without asking again."""
    seconds = int(min(max(sync_interval, 0), CACHE_SECONDS_CAP))
    return f"private, max-age={seconds}, must-revalidate"


def not_modified(request: Request, etag: str, control: str) -> Response | None:
    """A 304 answer when the client already has this version, else None."""
    if not matches(request.headers.get("if-none-match"), etag):
        return None
    return Response(status_code=304, headers=_headers(etag, control))


def set_headers(response: Response, etag: str, control: str) -> None:
    """Put the ETag and caching headers on a full answer."""
    response.headers.update(_headers(etag, control))


def _headers(etag: str, control: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": control, "Vary": "Authorization"}


async def cached_read(
    request: Request,
    cache: ReadCache,
    sync_interval: float,
    build: Callable[[], Awaitable[BaseModel]],
) -> Response:
    """Answer a read with ETag and Cache-Control, from memory when possible.

    Args:
        request: The read; its path and query select the answer.
        cache: The process's read cache.
        sync_interval: Sets how long clients may reuse the answer.
        build: Loads and builds the answer when it is not in memory; may
            raise a Problem (those are never kept).
    """
    version = await cache.version()
    key = f"{request.url.path}?{request.url.query}"
    etag = etag_of(key, version)
    control = cache_control(sync_interval)
    body = cache.get(key, version)
    # `If-None-Match: *` matches only a representation that exists, so an
    # unknown id must still be looked up (and answer 404).
    unchanged = not_modified(request, etag, control)
    if unchanged is not None and (body is not None or not _asks_any(request)):
        return unchanged

    if body is None:
        body = (await build()).model_dump_json().encode()
        cache.put(key, version, body)
        if unchanged is not None:
            return unchanged
    response = Response(content=body, media_type="application/json")
    set_headers(response, etag, control)
    return response


def _asks_any(request: Request) -> bool:
    return "*" in request.headers.get("if-none-match", "")
