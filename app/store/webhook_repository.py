"""Every query and write of webhooks: received deliveries, subscriptions, outbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.webhook_tables import (
    IncomingWebhookRow,
    SubscriptionRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEventRow,
)

# Incoming deliveries.


async def record_incoming(session: AsyncSession, row: IncomingWebhookRow) -> bool:
    """Store a received delivery, unless its (source, delivery id) is known.

    Relies on the unique constraint rather than a look-up first, so two
    replicas receiving the same delivery cannot both take it. Commits.

    Returns:
        True when stored, False for a duplicate.
    """
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def finish_incoming(
    session: AsyncSession,
    ids: Collection[int],
    *,
    state: str,
    now: datetime,
    sync_id: str | None = None,
    error: str | None = None,
) -> None:
    """Mark received deliveries handled or failed."""
    if not ids:
        return
    await session.exec(
        update(IncomingWebhookRow)
        .where(col(IncomingWebhookRow.id).in_(list(ids)))
        .values(state=state, handled_at=now, sync_id=sync_id, error=error)
    )


async def get_incoming(
    session: AsyncSession, source: str, delivery_id: str
) -> IncomingWebhookRow | None:
    """A received delivery by source and delivery id."""
    rows = await session.exec(
        select(IncomingWebhookRow).where(
            IncomingWebhookRow.source == source,
            IncomingWebhookRow.delivery_id == delivery_id,
        )
    )
    return rows.first()


# Subscriptions.


async def add_subscription(session: AsyncSession, row: SubscriptionRow) -> None:
    """Store a new subscription."""
    session.add(row)


async def list_subscriptions(session: AsyncSession) -> list[SubscriptionRow]:
    """Every subscription, oldest first."""
    query = select(SubscriptionRow).order_by(
        col(SubscriptionRow.created_at), col(SubscriptionRow.id)
    )
    return list(await session.exec(query))


async def enabled_subscriptions(session: AsyncSession) -> list[SubscriptionRow]:
    """Subscriptions that are sent to."""
    query = select(SubscriptionRow).where(col(SubscriptionRow.disabled).is_(False))
    return list(await session.exec(query.order_by(col(SubscriptionRow.id))))


async def get_subscription(
    session: AsyncSession, subscription_id: str
) -> SubscriptionRow | None:
    """One subscription by id."""
    return await session.get(SubscriptionRow, subscription_id)


async def delete_subscription(session: AsyncSession, subscription_id: str) -> bool:
    """Remove a subscription with its deliveries; False when there was none."""
    row = await session.get(SubscriptionRow, subscription_id)
    if row is None:
        return False
    deliveries = select(WebhookDeliveryRow.id).where(
        WebhookDeliveryRow.subscription_id == subscription_id
    )
    await session.exec(
        delete(WebhookAttemptRow).where(
            col(WebhookAttemptRow.delivery_id).in_(deliveries)
        )
    )
    await session.exec(
        delete(WebhookDeliveryRow).where(
            col(WebhookDeliveryRow.subscription_id) == subscription_id
        )
    )
    await session.delete(row)
    return True


async def enable_subscription(
    session: AsyncSession, row: SubscriptionRow, now: datetime
) -> None:
    """Send to a subscription again; its pending deliveries become due now."""
    row.disabled = False
    row.disabled_reason = None
    row.disabled_at = None
    row.failure_count = 0
    session.add(row)
    await session.exec(
        update(WebhookDeliveryRow)
        .where(
            col(WebhookDeliveryRow.subscription_id) == row.id,
            col(WebhookDeliveryRow.status) == "pending",
        )
        .values(next_attempt_at=now)
    )


# The outbox.


async def add_event(
    session: AsyncSession,
    event: WebhookEventRow,
    deliveries: Sequence[WebhookDeliveryRow],
) -> None:
    """Queue an event for the given deliveries, in the caller's transaction."""
    session.add(event)
    # The event row must exist before rows that refer to it.
    await session.flush()
    session.add_all(deliveries)


@dataclass(frozen=True)
class DueDelivery:
    """A delivery to send, with what sending it needs."""

    id: str
    webhook_id: str
    body: str
    subscription_id: str
    url: str
    secret: str


async def due_deliveries(
    session: AsyncSession, now: datetime, limit: int
) -> list[DueDelivery]:
    """Pending deliveries whose time has come, of enabled subscriptions, unleased."""
    query = (
        select(WebhookDeliveryRow, WebhookEventRow, SubscriptionRow)
        .join(WebhookEventRow, col(WebhookEventRow.id) == WebhookDeliveryRow.event_id)
        .join(
            SubscriptionRow,
            col(SubscriptionRow.id) == WebhookDeliveryRow.subscription_id,
        )
        .where(
            col(WebhookDeliveryRow.status) == "pending",
            col(WebhookDeliveryRow.next_attempt_at) <= now,
            _lease_free(now),
            col(SubscriptionRow.disabled).is_(False),
        )
        .order_by(col(WebhookDeliveryRow.next_attempt_at), col(WebhookDeliveryRow.id))
        .limit(limit)
    )
    return [
        DueDelivery(
            id=delivery.id,
            webhook_id=event.id,
            body=event.body,
            subscription_id=subscription.id,
            url=subscription.url,
            secret=subscription.secret,
        )
        for delivery, event, subscription in await session.exec(query)
    ]


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(
        col(WebhookDeliveryRow.locked_until).is_(None),
        col(WebhookDeliveryRow.locked_until) < now,
    )


async def claim_delivery(
    session: AsyncSession, delivery_id: str, now: datetime, until: datetime
) -> bool:
    """Take the lease on a due delivery until `until`; False if someone has it.

    One conditional UPDATE, judged by its row count, so it works the same on
    SQLite and PostgreSQL and two senders cannot both win.
    """
    result = await session.exec(
        update(WebhookDeliveryRow)
        .where(
            col(WebhookDeliveryRow.id) == delivery_id,
            col(WebhookDeliveryRow.status) == "pending",
            col(WebhookDeliveryRow.next_attempt_at) <= now,
            _lease_free(now),
        )
        .values(locked_until=until)
    )
    return result.rowcount == 1


async def get_delivery(
    session: AsyncSession, delivery_id: str
) -> WebhookDeliveryRow | None:
    """One delivery by id."""
    return await session.get(WebhookDeliveryRow, delivery_id)


async def add_attempt(session: AsyncSession, attempt: WebhookAttemptRow) -> None:
    """Record one try at sending a delivery."""
    session.add(attempt)


async def count_failure(session: AsyncSession, subscription_id: str) -> int:
    """Add one to a subscription's run of failed attempts; return the new count."""
    await session.exec(
        update(SubscriptionRow)
        .where(col(SubscriptionRow.id) == subscription_id)
        .values(failure_count=SubscriptionRow.failure_count + 1)
    )
    rows = await session.exec(
        select(SubscriptionRow.failure_count).where(
            SubscriptionRow.id == subscription_id
        )
    )
    return rows.first() or 0


async def reset_failures(session: AsyncSession, subscription_id: str) -> None:
    """A delivery got through: the run of failures is over."""
    await session.exec(
        update(SubscriptionRow)
        .where(col(SubscriptionRow.id) == subscription_id)
        .values(failure_count=0)
    )


async def disable_subscription(
    session: AsyncSession, subscription_id: str, reason: str, now: datetime
) -> bool:
    """Stop sending to a subscription; False if it was already disabled."""
    result = await session.exec(
        update(SubscriptionRow)
        .where(
            col(SubscriptionRow.id) == subscription_id,
            col(SubscriptionRow.disabled).is_(False),
        )
        .values(disabled=True, disabled_reason=reason, disabled_at=now)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class DeliveryView:
    """A delivery with its event's id and type, for the delivery log."""

    delivery: WebhookDeliveryRow
    webhook_id: str
    event_type: str
    body: str


async def list_deliveries(
    session: AsyncSession,
    subscription_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
) -> list[DeliveryView]:
    """A subscription's deliveries, newest first."""
    query = (
        select(WebhookDeliveryRow, WebhookEventRow)
        .join(WebhookEventRow, col(WebhookEventRow.id) == WebhookDeliveryRow.event_id)
        .where(WebhookDeliveryRow.subscription_id == subscription_id)
    )
    if status is not None:
        query = query.where(WebhookDeliveryRow.status == status)
    query = query.order_by(
        col(WebhookDeliveryRow.created_at).desc(), col(WebhookDeliveryRow.id).desc()
    ).limit(limit)
    return [
        DeliveryView(delivery, event.id, event.type, event.body)
        for delivery, event in await session.exec(query)
    ]


async def get_delivery_view(
    session: AsyncSession, subscription_id: str, delivery_id: str
) -> DeliveryView | None:
    """One delivery of a subscription, with its event."""
    query = (
        select(WebhookDeliveryRow, WebhookEventRow)
        .join(WebhookEventRow, col(WebhookEventRow.id) == WebhookDeliveryRow.event_id)
        .where(
            WebhookDeliveryRow.subscription_id == subscription_id,
            WebhookDeliveryRow.id == delivery_id,
        )
        # Rows changed by UPDATE statements are read afresh.
        .execution_options(populate_existing=True)
    )
    found = (await session.exec(query)).first()
    if found is None:
        return None
    delivery, event = found
    return DeliveryView(delivery, event.id, event.type, event.body)


async def list_attempts(
    session: AsyncSession, delivery_id: str
) -> list[WebhookAttemptRow]:
    """Every try at sending a delivery, oldest first."""
    query = (
        select(WebhookAttemptRow)
        .where(WebhookAttemptRow.delivery_id == delivery_id)
        .order_by(col(WebhookAttemptRow.attempted_at), col(WebhookAttemptRow.id))
    )
    return list(await session.exec(query))


async def requeue_delivery(
    session: AsyncSession, delivery_id: str, now: datetime
) -> bool:
    """Send a delivery again now, with a fresh retry schedule.

    Refused (False) while a sender holds its lease, so it is never sent twice
    at once.
    """
    result = await session.exec(
        update(WebhookDeliveryRow)
        .where(col(WebhookDeliveryRow.id) == delivery_id, _lease_free(now))
        .values(
            status="pending",
            failures=0,
            next_attempt_at=now,
            locked_until=None,
            delivered_at=None,
        )
    )
    return result.rowcount == 1
