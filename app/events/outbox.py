"""Writes events to the outbox in the transaction that stores the change.

A sync calls `record_sync` with the score changes it is about to commit. Each
event's body is serialized here, once; the sender signs and sends those exact
bytes on every attempt. Because the rows are part of the sync's transaction,
a rolled-back sync leaves no event behind and a committed one cannot lose its
events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.mapping.load import MappingSet
from app.store import webhook_repository
from app.store.repository import ScoreChange
from app.store.webhook_tables import (
    SubscriptionRow,
    WebhookDeliveryRow,
    WebhookEventRow,
)

if TYPE_CHECKING:
    from app.sync.engine import SyncReport

KEY_RESULT_PROGRESS = "key_result.progress_changed"
KEY_RESULT_STATUS = "key_result.status_changed"
OBJECTIVE_PROGRESS = "objective.progress_changed"
SYNC_FAILED = "sync.failed"

EVENT_TYPES = (KEY_RESULT_PROGRESS, KEY_RESULT_STATUS, OBJECTIVE_PROGRESS, SYNC_FAILED)
"""Every event a subscription can ask for."""


@dataclass(frozen=True)
class Event:
    """An event before it is stored: its type, body and who it concerns."""

    type: str
    data: dict[str, Any]
    scopes: tuple[tuple[str, str | None], ...]
    """(objective id, team) pairs the event is about, for subscription filters."""


async def record_sync(
    session: AsyncSession,
    mappings: MappingSet,
    changes: Sequence[ScoreChange],
    report: SyncReport,
    now: datetime,
) -> int:
    """Queue the events of one sync for every subscription that wants them.

    Args:
        session: The sync's session; nothing is committed here.
        mappings: The mappings synced, for titles.
        changes: What `refresh_scores` says moved.
        report: The sync's report; a failed or partial one adds `sync.failed`.
        now: The time the sync stores.

    Returns:
        How many deliveries were queued.
    """
    subscriptions = await webhook_repository.enabled_subscriptions(session)
    if not subscriptions:
        return 0

    events = [*_score_events(mappings, changes, report.sync_id)]
    if report.state in ("failed", "partial"):
        events.append(_sync_failed(mappings, report))

    queued = 0
    for event in events:
        queued += await _queue(session, event, subscriptions, report.sync_id, now)
    return queued


async def record_changes(
    session: AsyncSession,
    mappings: MappingSet,
    changes: Sequence[ScoreChange],
    cause: str,
    now: datetime,
) -> int:
    """Queue the events of score changes made outside a sync (a check-in).

    Args:
        session: The change's session; nothing is committed here.
        mappings: The current mappings, for titles.
        changes: What `refresh_scores` says moved.
        cause: What made the change, stored where a sync id would be.
        now: The time of the change.

    Returns:
        How many deliveries were queued.
    """
    subscriptions = await webhook_repository.enabled_subscriptions(session)
    if not subscriptions:
        return 0
    queued = 0
    for event in _score_events(mappings, changes, cause):
        queued += await _queue(session, event, subscriptions, cause, now)
    return queued


def _score_events(
    mappings: MappingSet, changes: Iterable[ScoreChange], sync_id: str
) -> Iterable[Event]:
    for change in changes:
        scope = ((change.objective_id, change.team),)
        if change.subject == "objective":
            if change.progress_changed:
                data = {
                    "objective": _objective(mappings, change.objective_id, change.team),
                    **_before_after(change, sync_id),
                }
                yield Event(OBJECTIVE_PROGRESS, data, scope)
            continue
        data = {
            "key_result": _key_result(mappings, change),
            **_before_after(change, sync_id),
        }
        if change.progress_changed:
            yield Event(KEY_RESULT_PROGRESS, data, scope)
        if change.status_changed:
            yield Event(KEY_RESULT_STATUS, data, scope)


def _sync_failed(mappings: MappingSet, report: SyncReport) -> Event:
    failed = report.failed
    data = {
        "sync_id": report.sync_id,
        "state": report.state,
        "failed": [
            {
                "key_result_id": outcome.key_result_id,
                "objective_id": outcome.objective_id,
                "outcome": outcome.outcome,
                "error": outcome.error,
            }
            for outcome in failed
        ],
    }
    scopes = tuple(
        (outcome.objective_id, _team(mappings, outcome.objective_id))
        for outcome in failed
    )
    return Event(SYNC_FAILED, data, scopes)


async def _queue(
    session: AsyncSession,
    event: Event,
    subscriptions: Sequence[SubscriptionRow],
    sync_id: str,
    now: datetime,
) -> int:
    wanted = [sub for sub in subscriptions if wants(sub, event.type, event.scopes)]
    if not wanted:
        return 0
    row = WebhookEventRow(
        id=f"msg_{uuid.uuid4().hex}",
        type=event.type,
        body=serialize(event.type, now, event.data),
        created_at=now,
        sync_id=sync_id,
    )
    deliveries = [
        WebhookDeliveryRow(
            id=f"dlv_{uuid.uuid4().hex}",
            event_id=row.id,
            subscription_id=sub.id,
            next_attempt_at=now,
            created_at=now,
        )
        for sub in wanted
    ]
    await webhook_repository.add_event(session, row, deliveries)
    return len(deliveries)


def wants(
    subscription: SubscriptionRow,
    event_type: str,
    scopes: Iterable[tuple[str, str | None]],
) -> bool:
    """Whether a subscription asked for this event about these objectives.

    Args:
        subscription: The subscription and its filter.
        event_type: The event's type.
        scopes: (objective id, team) pairs the event is about; the filter
            passes when any pair matches both its team and its objective.

    Returns:
        True when the event should be sent to the subscription.
    """
    if event_type not in subscription.events:
        return False
    if subscription.team is None and subscription.objective is None:
        return True
    return any(
        (subscription.objective is None or subscription.objective == objective)
        and (subscription.team is None or subscription.team == team)
        for objective, team in scopes
    )


def serialize(event_type: str, now: datetime, data: dict[str, Any]) -> str:
    """The body of an event, compact JSON, as signed and sent."""
    timestamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    body = {"type": event_type, "timestamp": timestamp, "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


def _before_after(change: ScoreChange, sync_id: str) -> dict[str, Any]:
    return {"before": change.before, "after": change.after, "sync_id": sync_id}


def _key_result(mappings: MappingSet, change: ScoreChange) -> dict[str, Any]:
    loaded = mappings.key_results.get(change.id)
    objective = _objective(mappings, change.objective_id, change.team)
    return {
        "id": change.id,
        "title": loaded.spec.title if loaded else None,
        "unit": loaded.spec.unit if loaded else None,
        "objective": objective,
    }


def _objective(
    mappings: MappingSet, objective_id: str, team: str | None
) -> dict[str, Any]:
    entry = mappings.objectives.get(objective_id)
    return {
        "id": objective_id,
        "title": entry[0].title if entry else None,
        "team": team,
    }


def _team(mappings: MappingSet, objective_id: str) -> str | None:
    entry = mappings.objectives.get(objective_id)
    return entry[0].team if entry else None
