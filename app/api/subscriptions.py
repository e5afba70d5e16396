"""Subscriptions to outgoing webhooks, and their delivery logs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.deps import ServiceDep, SessionDep
from app.api.problems import (
    BODY_RESPONSES,
    RESPONSES,
    NotFound,
    Problem,
    ProblemBody,
)
from app.events import signing, targets
from app.events.outbox import EVENT_TYPES
from app.service import Service
from app.store import webhook_repository
from app.store.webhook_repository import DeliveryView
from app.store.webhook_tables import SubscriptionRow, WebhookAttemptRow

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])

_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {**RESPONSES[404], "model": ProblemBody, "description": "Conflict"}
}


# Which events about which objectives a subscription receives.
class SubscriptionFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(default=None, description="Only objectives of this team.")
    objective: str | None = Field(default=None, description="Only this objective.")


# What to send where.
class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="Where to POST: http(s), public.")
    events: list[str] = Field(
        min_length=1, description=f"Any of: {', '.join(EVENT_TYPES)}."
    )
    filter: SubscriptionFilter = Field(default_factory=SubscriptionFilter)
    description: str = Field(default="", max_length=500)


# A subscription as the API shows it (never its secret).
class SubscriptionPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    filter: SubscriptionFilter
    description: str
    created_at: datetime
    disabled: bool = Field(description="True when nothing is being sent.")
    disabled_reason: str | None
    disabled_at: datetime | None
    failure_count: int = Field(description="Failed attempts in a row.")

    @classmethod
    def of(cls, row: SubscriptionRow) -> SubscriptionPublic:
        return cls(
            id=row.id,
            url=row.url,
            events=row.events,
            filter=SubscriptionFilter(team=row.team, objective=row.objective),
            description=row.description,
            created_at=row.created_at,
            disabled=row.disabled,
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            failure_count=row.failure_count,
        )


# A new subscription, with the secret that signs its deliveries.
class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(
        description="whsec_ signing secret; shown in this answer only, keep it."
    )


# Every subscription.
class SubscriptionList(BaseModel):
    items: list[SubscriptionPublic]


# One event sent (or being sent) to a subscription.
class DeliveryPublic(BaseModel):
    id: str
    webhook_id: str = Field(description="The webhook-id header, same on every try.")
    event_type: str
    status: str = Field(description="pending, delivered or failed.")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: DeliveryView) -> DeliveryPublic:
        row = view.delivery
        return cls(
            id=row.id,
            webhook_id=view.webhook_id,
            event_type=view.event_type,
            status=row.status,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


# One try at sending.
class AttemptPublic(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float | None

    @classmethod
    def of(cls, row: WebhookAttemptRow) -> AttemptPublic:
        return cls.model_validate(row, from_attributes=True)


# A delivery with its body and every attempt.
class DeliveryDetail(DeliveryPublic):
    body: str = Field(description="The exact JSON text signed and sent.")
    attempt_log: list[AttemptPublic]


# A subscription's deliveries, newest first.
class DeliveryList(BaseModel):
    items: list[DeliveryPublic]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
    responses=BODY_RESPONSES,
)
async def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    response: Response,
    service: ServiceDep,
    session: SessionDep,
) -> SubscriptionCreated:
    """Subscribe a URL to events; the answer holds its signing secret, once."""
    events = _valid_events(body.events)
    _check_filter(service, body.filter)
    url = await _checked_url(service, body.url)

    row = SubscriptionRow(
        id=f"sub_{uuid.uuid4().hex}",
        url=url,
        events=events,
        team=body.filter.team,
        objective=body.filter.objective,
        description=body.description,
        secret=signing.new_secret(),
        created_at=service.clock(),
    )
    await webhook_repository.add_subscription(session, row)
    await session.commit()

    response.headers["Location"] = str(
        request.url_for("get_subscription", subscription_id=row.id)
    )
    return SubscriptionCreated(
        **SubscriptionPublic.of(row).model_dump(), secret=row.secret
    )


@router.get("", response_model=SubscriptionList)
async def list_subscriptions(session: SessionDep) -> SubscriptionList:
    """List every subscription, disabled ones included."""
    rows = await webhook_repository.list_subscriptions(session)
    return SubscriptionList(items=[SubscriptionPublic.of(row) for row in rows])


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
async def get_subscription(
    subscription_id: str, session: SessionDep
) -> SubscriptionPublic:
    """Show a subscription: its filter, and whether it was disabled and why."""
    return SubscriptionPublic.of(await _subscription(session, subscription_id))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subscription(subscription_id: str, session: SessionDep) -> Response:
    """Remove a subscription; its pending deliveries are dropped."""
    if not await webhook_repository.delete_subscription(session, subscription_id):
        raise NotFound("subscription", subscription_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{subscription_id}/enable", response_model=SubscriptionPublic)
async def enable_subscription(
    subscription_id: str, service: ServiceDep, session: SessionDep
) -> SubscriptionPublic:
    """Send to a disabled subscription again; its pending deliveries go now."""
    row = await _subscription(session, subscription_id)
    await webhook_repository.enable_subscription(session, row, service.clock())
    await session.commit()
    service.sender.wake()
    return SubscriptionPublic.of(row)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryList)
async def list_deliveries(
    subscription_id: str,
    session: SessionDep,
    delivery_status: Annotated[
        Literal["pending", "delivered", "failed"] | None,
        Query(alias="status", description="Only deliveries in this state."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most shown.")] = 100,
) -> DeliveryList:
    """List a subscription's deliveries, newest first, with their last attempt."""
    await _subscription(session, subscription_id)
    views = await webhook_repository.list_deliveries(
        session, subscription_id, status=delivery_status, limit=limit
    )
    return DeliveryList(items=[DeliveryPublic.of(view) for view in views])


@router.get(
    "/{subscription_id}/deliveries/{delivery_id}", response_model=DeliveryDetail
)
async def get_delivery(
    subscription_id: str, delivery_id: str, session: SessionDep
) -> DeliveryDetail:
    """Show one delivery with its body and every attempt."""
    view = await _delivery(session, subscription_id, delivery_id)
    attempts = await webhook_repository.list_attempts(session, delivery_id)
    return DeliveryDetail(
        **DeliveryPublic.of(view).model_dump(),
        body=view.body,
        attempt_log=[AttemptPublic.of(row) for row in attempts],
    )


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryPublic,
    responses=_CONFLICT,
)
async def redeliver(
    subscription_id: str, delivery_id: str, service: ServiceDep, session: SessionDep
) -> DeliveryPublic:
    """Send a delivery again now, with the same webhook-id and body."""
    subscription = await _subscription(session, subscription_id)
    await _delivery(session, subscription_id, delivery_id)
    if subscription.disabled:
        raise Problem(
            409,
            "Conflict",
            f"Subscription {subscription_id!r} is disabled; enable it first "
            f"(POST /api/v1/subscriptions/{subscription_id}/enable).",
        )
    if not await webhook_repository.requeue_delivery(
        session, delivery_id, service.clock()
    ):
        raise Problem(
            409,
            "Conflict",
            f"Delivery {delivery_id!r} is being sent right now; look at it again "
            "in a moment.",
        )
    await session.commit()
    service.sender.wake()
    view = await _delivery(session, subscription_id, delivery_id)
    return DeliveryPublic.of(view)


def _valid_events(events: list[str]) -> list[str]:
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise Problem(
            422,
            "Invalid request",
            f"Unknown event type {unknown[0]!r}; events are {', '.join(EVENT_TYPES)}.",
        )
    return list(dict.fromkeys(events))


def _check_filter(service: Service, wanted: SubscriptionFilter) -> None:
    """Refuse a filter naming no loaded objective or team: it would match nothing."""
    objectives = service.mappings.objectives
    if wanted.objective is not None and wanted.objective not in objectives:
        known = ", ".join(sorted(objectives)[:20]) or "none loaded"
        raise Problem(
            422,
            "Invalid request",
            f"filter.objective {wanted.objective!r} is not a loaded objective; "
            f"objectives: {known}.",
        )
    teams = {entry[0].team for entry in objectives.values() if entry[0].team}
    if wanted.team is not None and wanted.team not in teams:
        known = ", ".join(sorted(teams)) or "none"
        raise Problem(
            422,
            "Invalid request",
            f"filter.team {wanted.team!r} is not the team of any loaded objective; "
            f"teams: {known}.",
        )


async def _checked_url(service: Service, url: str) -> str:
    try:
        target = await targets.check(
            url,
            allow_private=service.settings.webhook_allow_private_targets,
            resolve=service.sender.resolve,
        )
    except targets.TargetError as exc:
        raise Problem(422, "Invalid request", f"url: {exc}.") from exc
    return str(target.url)


async def _subscription(session: AsyncSession, subscription_id: str) -> SubscriptionRow:
    row = await webhook_repository.get_subscription(session, subscription_id)
    if row is None:
        raise NotFound("subscription", subscription_id)
    return row


async def _delivery(
    session: AsyncSession, subscription_id: str, delivery_id: str
) -> DeliveryView:
    view = await webhook_repository.get_delivery_view(
        session, subscription_id, delivery_id
    )
    if view is None:
        raise NotFound("delivery", delivery_id)
    return view
