"""Tables of webhooks: deliveries received, subscriptions, and the outbox.

The outbox is two tables. An event row holds the body, serialized once when
the change was stored, in the same transaction; a delivery row per matching
subscription tracks sending it: status, attempts, next attempt and a lease so
that two senders never send the same delivery at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.store.tables import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


# A webhook received from a source; (source, delivery_id) is unique, so a
# delivery sent twice is recognised even by another replica or after a restart.
class IncomingWebhookRow(SQLModel, table=True):
    __tablename__ = "incoming_webhook"
    __table_args__ = (
        UniqueConstraint("source", "delivery_id", name="uq_incoming_webhook"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str
    delivery_id: str
    derived_id: bool = False
    event: str
    received_at: datetime = _utc(nullable=False)
    state: str = Field(default="queued", index=True)
    key_results: list[str] | None = _json()
    handled_at: datetime | None = _utc()
    sync_id: str | None = None
    error: str | None = None


# Someone who wants to hear about progress changes, and how sending to them goes.
class SubscriptionRow(SQLModel, table=True):
    __tablename__ = "subscription"

    id: str = Field(primary_key=True)
    url: str
    events: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    team: str | None = None
    objective: str | None = None
    description: str = ""
    secret: str
    created_at: datetime = _utc(nullable=False)
    disabled: bool = False
    disabled_reason: str | None = None
    disabled_at: datetime | None = _utc()
    failure_count: int = 0


# One event to tell subscribers about; `body` is exactly what is signed and sent.
class WebhookEventRow(SQLModel, table=True):
    __tablename__ = "webhook_event"

    id: str = Field(primary_key=True)
    type: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _utc(nullable=False)
    sync_id: str | None = None


# Sending one event to one subscription.
class WebhookDeliveryRow(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="uq_webhook_delivery"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True)
    event_id: str = Field(
        sa_column=Column(
            String, ForeignKey("webhook_event.id", ondelete="CASCADE"), nullable=False
        )
    )
    subscription_id: str = Field(
        sa_column=Column(
            String,
            ForeignKey("subscription.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    status: str = "pending"
    attempts: int = 0
    failures: int = 0
    next_attempt_at: datetime | None = _utc()
    locked_until: datetime | None = _utc()
    last_attempt_at: datetime | None = _utc()
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)


# One try at sending a delivery: what came back, or what went wrong.
class WebhookAttemptRow(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(
        sa_column=Column(
            String,
            ForeignKey("webhook_delivery.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    attempted_at: datetime = _utc(nullable=False)
    status_code: int | None = None
    error: str | None = None
    duration_ms: float | None = None
