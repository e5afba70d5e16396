"""Turns one signed webhook request into a stored delivery and a re-sync request.

The steps, in order, each refusing with a problem: the source must exist, be
of the right type and have a secret (404); the body must fit the size limit
(413), checked on `Content-Length` before reading and again while reading;
the signature must match the raw bytes (401); only then is the body parsed
(400). A delivery id seen before answers "duplicate" and does nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.api.problems import Problem
from app.mapping.load import LoadedKeyResult, MappingSet, Source
from app.service import Service
from app.store import webhook_repository
from app.store.webhook_tables import IncomingWebhookRow
from app.webhooks import match
from app.webhooks.signatures import GITHUB_HEADER, JIRA_HEADER, signature_ok

logger = logging.getLogger(__name__)

Kind = Literal["github", "jira"]

_SIGNATURE_HEADERS: dict[Kind, str] = {"github": GITHUB_HEADER, "jira": JIRA_HEADER}
_DELIVERY_HEADERS: dict[Kind, str] = {
    "github": "x-github-delivery",
    "jira": "x-atlassian-webhook-identifier",
}


@dataclass(frozen=True)
class Answer:
    """What to answer: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]


def sources_named(mappings: MappingSet, kind: Kind, name: str) -> list[Source]:
    """The sources a webhook URL names, with a secret, or a 404 problem.

    Two mapping files may each define a source of the same name; a delivery
    is accepted for every one whose secret it is signed with.

    Raises:
        Problem: 404 when no source of that type and name has a secret.
    """
    found: dict[tuple[str, str], Source] = {}
    for kr in mappings.key_results.values():
        if kr.source is not None and kr.source.name == name:
            found[(kr.source.file, kr.source.fingerprint)] = kr.source
    if not found:
        raise Problem(
            404,
            "Not Found",
            f"No source named {name!r} is used by the loaded mappings; the URL "
            f"must end in the name of a {kind} source block.",
        )
    typed = [source for source in found.values() if source.config.type == kind]
    if not typed:
        other = next(iter(found.values())).config.type
        raise Problem(
            404,
            "Not Found",
            f"Source {name!r} is a {other} source, not {kind}; send {other} "
            f"webhooks to /api/v1/webhooks/{other}/{name}.",
        )
    signed = [source for source in typed if source.config.webhook_secret is not None]
    if not signed:
        raise Problem(
            404,
            "Not Found",
            f"Source {name!r} accepts no webhooks because it has no secret; add "
            "`webhook_secret: ${ENV_VAR}` to its source block.",
        )
    return signed


async def read_limited(
    headers: Mapping[str, str], stream: AsyncIterator[bytes], limit: int
) -> bytes:
    """The whole body, refused with 413 as soon as it is known to be too large.

    Raises:
        Problem: 413 when `Content-Length` or the bytes read exceed `limit`.
    """
    declared = headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Content too large",
        f"The webhook body is larger than {limit} bytes "
        "(OKRSYNC_WEBHOOK_MAX_BYTES); nothing was stored.",
    )


def verified_sources(
    sources: list[Source], kind: Kind, headers: Mapping[str, str], body: bytes
) -> list[Source]:
    """The sources whose secret signed `body`, or a 401 problem.

    Raises:
        Problem: 401 when the signature is missing or matches no secret.
    """
    header_name = _SIGNATURE_HEADERS[kind]
    header = headers.get(header_name)
    if not header:
        raise Problem(
            401,
            "Unauthorized",
            f"The delivery has no {_display(header_name)} header; set the "
            "secret on the webhook so that it is signed. Nothing was stored.",
        )
    verified = [
        source
        for source in sources
        if source.config.webhook_secret is not None
        and signature_ok(source.config.webhook_secret.get_secret_value(), body, header)
    ]
    if not verified:
        raise Problem(
            401,
            "Unauthorized",
            f"The {_display(header_name)} signature does not match the body; "
            "check that the webhook's secret is the one in webhook_secret. "
            "Nothing was stored.",
        )
    return verified


def parse_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 problem.

    Raises:
        Problem: 400 when the body is not JSON or not an object.
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(
            400,
            "Bad request",
            f"The webhook body is not JSON ({exc}); send it as application/json.",
        ) from exc
    if not isinstance(payload, dict):
        raise Problem(400, "Bad request", "The webhook body must be a JSON object.")
    return payload


async def receive(
    service: Service,
    kind: Kind,
    source_name: str,
    headers: Mapping[str, str],
    stream: AsyncIterator[bytes],
) -> Answer:
    """Handle one webhook request end to end; raise Problem to refuse it.

    Args:
        service: The running service (mappings, database, re-syncs).
        kind: Which upstream the URL is for.
        source_name: The source named in the URL.
        headers: The request headers (case-insensitive mapping).
        stream: The request body, chunk by chunk, not yet read.

    Returns:
        200 `duplicate` or `ignored` (GitHub's ping), or 202 `accepted` with
        the key results that will re-sync.
    """
    mappings = service.mappings
    sources = sources_named(mappings, kind, source_name)
    body = await read_limited(headers, stream, service.settings.webhook_max_bytes)
    verified = verified_sources(sources, kind, headers, body)
    payload = parse_object(body)

    delivery_id, derived = _delivery_id(kind, headers, body)
    event_name, affected = _affected(kind, headers, payload, mappings, verified)
    ping = kind == "github" and event_name == "ping"
    row = IncomingWebhookRow(
        source=source_name,
        delivery_id=delivery_id,
        derived_id=derived,
        event=event_name,
        received_at=service.clock(),
        state="handled" if ping else "queued",
        key_results=[] if ping else affected,
        handled_at=service.clock() if ping else None,
    )
    async with service.database.session() as session:
        stored = await webhook_repository.record_incoming(session, row)
    if not stored:
        logger.info("Duplicate %s delivery %s for %s", kind, delivery_id, source_name)
        return Answer(200, {"status": "duplicate", "delivery_id": delivery_id})
    if ping:
        return Answer(200, {"status": "ignored", "event": "ping"})

    assert row.id is not None
    service.request_resync(affected, [row.id])
    logger.info(
        "Accepted %s %s delivery %s: %d key results to re-sync",
        kind,
        event_name,
        delivery_id,
        len(affected),
    )
    return Answer(202, {"status": "accepted", "key_results": affected})


def _delivery_id(
    kind: Kind, headers: Mapping[str, str], body: bytes
) -> tuple[str, bool]:
    """The sender's delivery id, or one derived from the body when there is none.

    Jira Server and some Jira Cloud hooks send no identifier; the same body
    sent twice is then taken to be the same delivery.
    """
    given = headers.get(_DELIVERY_HEADERS[kind], "").strip()
    if given:
        return given[:200], False
    return "sha256:" + hashlib.sha256(body).hexdigest(), True


def _affected(
    kind: Kind,
    headers: Mapping[str, str],
    payload: dict[str, Any],
    mappings: MappingSet,
    verified: list[Source],
) -> tuple[str, list[str]]:
    """The event's name and the ids of the key results it can affect."""
    keys = {(source.file, source.fingerprint) for source in verified}
    candidates = [kr for kr in mappings.key_results.values() if _from(kr, keys)]
    if kind == "github":
        name = headers.get("x-github-event", "").strip() or "unknown"
        event = match.GitHubEvent.of(name, payload)
        action = payload.get("action")
        label = f"{name}.{action}" if isinstance(action, str) else name
        return label, match.github_affected(candidates, event)
    jira = match.JiraEvent.of(payload)
    return jira.name, match.jira_affected(candidates, jira)


def _from(kr: LoadedKeyResult, keys: set[tuple[str, str]]) -> bool:
    source = kr.source
    return source is not None and (source.file, source.fingerprint) in keys


def _display(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-")).replace(
        "Github", "GitHub"
    )
