"""Sends queued deliveries to subscribers, signed, retried, never twice at once.

`run_once` is one pass: find due deliveries, lease each with a conditional
UPDATE (so a second sender, e.g. another replica, skips it), send them, and
record every attempt. A 2xx answer delivers; anything else schedules the next
try from `webhook_retry_delays` until those run out and the delivery fails. A
subscription is disabled when a delivery fails for good, when it answers 410
Gone, or after `webhook_disable_after` failed attempts in a row.

Requests go through a plain `httpx.AsyncClient` rather than the connectors'
`HttpClient`: a delivery is tried once per pass (the schedule is the retry
policy), redirects must not be followed (one could lead to an internal
address), and every answer is recorded rather than classified.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from app.clock import Clock
from app.events import signing, targets
from app.settings import Settings
from app.store import webhook_repository
from app.store.db import Database
from app.store.webhook_repository import DueDelivery
from app.store.webhook_tables import WebhookAttemptRow, WebhookDeliveryRow

logger = logging.getLogger(__name__)

BATCH = 50
"""Most deliveries taken in one pass."""

CONCURRENCY = 8
"""Deliveries sent at once."""

LEASE_MARGIN = 30.0
"""Seconds a lease outlives the send timeout, for recording the result."""

MAX_RETRY_AFTER = 86400.0
"""Longest `Retry-After` honoured, in seconds."""


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    status_code: int | None
    error: str | None
    retry_after: float | None = None
    duration_ms: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Sends due deliveries; one pass per `run_once`, forever in `run_forever`."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: targets.Resolver = targets.system_resolve,
    ) -> None:
        """Set up a sender.

        Args:
            database: Where the outbox is.
            settings: Timeout, retry delays, disabling threshold, targets.
            clock: The service's clock: attempts and schedules use it.
            transport: An httpx transport instead of the network (tests).
            resolve: Host name look-up (a fake one in tests).
        """
        self.database = database
        self.settings = settings
        self.clock = clock
        self.resolve = resolve
        self._wake = asyncio.Event()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, made on first use so an idle sender holds nothing."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self.settings.webhook_timeout,
                follow_redirects=False,
                # Every request opens its own connection: requests are pinned
                # to checked addresses, and a pooled connection made for one
                # host name must not carry another's request.
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._client

    def wake(self) -> None:
        """Look for due deliveries now instead of at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        """Send due deliveries until cancelled, polling between passes."""
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception("Sending webhooks failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=self.settings.webhook_poll_interval
                )
            self._wake.clear()

    async def run_once(self) -> int:
        """Send every delivery due now that no other sender holds.

        Returns:
            How many deliveries were attempted.
        """
        claimed = await self._claim_due()
        if not claimed:
            return 0

        limit = asyncio.Semaphore(CONCURRENCY)

        async def send(delivery: DueDelivery) -> None:
            async with limit:
                await self._attempt(delivery)

        await asyncio.gather(*(send(delivery) for delivery in claimed))
        return len(claimed)

    async def _claim_due(self) -> list[DueDelivery]:
        now = self.clock()
        until = now + timedelta(seconds=self.settings.webhook_timeout + LEASE_MARGIN)
        async with self.database.session() as session:
            due = await webhook_repository.due_deliveries(session, now, BATCH)
            claimed = [
                delivery
                for delivery in due
                if await webhook_repository.claim_delivery(
                    session, delivery.id, now, until
                )
            ]
            await session.commit()
        return claimed

    async def _attempt(self, delivery: DueDelivery) -> None:
        attempted_at = self.clock()
        outcome = await self._send(delivery)
        await self._record(delivery, attempted_at, outcome)

    async def _send(self, delivery: DueDelivery) -> Outcome:
        try:
            target = await targets.check(
                delivery.url,
                allow_private=self.settings.webhook_allow_private_targets,
                resolve=self.resolve,
            )
        except targets.TargetError as exc:
            return Outcome(None, f"not sent: {exc}")

        body = delivery.body.encode("utf-8")
        timestamp = int(self.clock().timestamp())
        url, pinned_headers, extensions = targets.pin(target)
        client = self._http()
        request = client.build_request(
            "POST",
            url,
            content=body,
            headers={
                **signing.headers(
                    delivery.secret, delivery.webhook_id, timestamp, body
                ),
                **pinned_headers,
            },
            extensions=extensions,
        )
        started = time.perf_counter()
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException:
            limit = self.settings.webhook_timeout
            return Outcome(
                None, f"no answer within {limit:g} s", duration_ms=_ms(started)
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Outcome(None, error, duration_ms=_ms(started))
        # Only the status matters; the body is not read.
        await response.aclose()
        return Outcome(
            response.status_code,
            None
            if 200 <= response.status_code < 300
            else f"HTTP {response.status_code}",
            retry_after=_retry_after(response),
            duration_ms=_ms(started),
        )

    async def _record(
        self, delivery: DueDelivery, attempted_at: datetime, outcome: Outcome
    ) -> None:
        now = self.clock()
        async with self.database.session() as session:
            row = await webhook_repository.get_delivery(session, delivery.id)
            if row is None:
                return
            await webhook_repository.add_attempt(
                session,
                WebhookAttemptRow(
                    delivery_id=row.id,
                    attempted_at=attempted_at,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                ),
            )
            row.attempts += 1
            row.last_attempt_at = attempted_at
            row.last_status_code = outcome.status_code
            row.last_error = outcome.error
            row.locked_until = None

            reason = None
            if outcome.delivered:
                row.status = "delivered"
                row.delivered_at = now
                row.next_attempt_at = None
                row.failures = 0
                await webhook_repository.reset_failures(
                    session, delivery.subscription_id
                )
            else:
                reason = await self._failed(session, row, delivery, outcome, now)
            session.add(row)
            if reason is not None:
                disabled = await webhook_repository.disable_subscription(
                    session, delivery.subscription_id, reason, now
                )
                if disabled:
                    logger.warning(
                        "Subscription %s disabled: %s", delivery.subscription_id, reason
                    )
            await session.commit()

    async def _failed(
        self,
        session: AsyncSession,
        row: WebhookDeliveryRow,
        delivery: DueDelivery,
        outcome: Outcome,
        now: datetime,
    ) -> str | None:
        """Schedule the next try or give up; return why to disable, if so."""
        row.failures += 1
        delays = self.settings.webhook_retry_delays
        failures = await webhook_repository.count_failure(
            session, delivery.subscription_id
        )

        if outcome.status_code == 410:
            row.status = "failed"
            row.next_attempt_at = None
            return "the subscriber answered 410 Gone, so it wants no more deliveries"
        if row.failures > len(delays):
            row.status = "failed"
            row.next_attempt_at = None
            return (
                f"delivery {row.id} failed {row.failures} times over its whole "
                f"retry schedule; last error: {outcome.error}"
            )

        delay = delays[row.failures - 1]
        # A little jitter keeps retries of many deliveries from arriving together.
        delay += random.uniform(0, delay / 10)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        row.next_attempt_at = now + timedelta(seconds=delay)
        if failures >= self.settings.webhook_disable_after:
            return (
                f"{failures} delivery attempts in a row failed; last error: "
                f"{outcome.error}"
            )
        return None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
