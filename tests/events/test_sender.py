"""The sender: signed attempts, the retry schedule, leases and disabling."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.store import webhook_repository


def standard_signature(secret: str, request: httpx.Request) -> str:
    """The Standard Webhooks signature, computed here independently."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}."
    ).encode() + request.content
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


async def queue_one(outgoing: Any, **body: Any) -> dict[str, Any]:
    """Subscribe to web-bugs' progress and move it once: one delivery queued."""
    sub = await outgoing.subscribe(
        ["key_result.progress_changed"], filter={"objective": "web"}, **body
    )
    await outgoing.sync(**{"q-web": 20.0})
    return sub


class TestDelivering:
    async def test_due_delivery_is_sent_signed_and_marked_delivered(
        self, outgoing: Any
    ) -> None:
        sub = await queue_one(outgoing)
        [event] = await outgoing.events()

        sent = await outgoing.service.sender.run_once()

        assert sent == 1
        [request] = outgoing.subscriber.requests
        assert request.method == "POST"
        assert request.content == event.body.encode()
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"] == event.id
        assert request.headers["webhook-timestamp"] == str(
            int(outgoing.clock().timestamp())
        )
        assert request.headers["webhook-signature"] == standard_signature(
            sub["secret"], request
        )
        [delivery] = await outgoing.deliveries()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "delivered",
            1,
            204,
        )
        assert delivery.delivered_at == outgoing.clock()
        assert delivery.locked_until is None

    async def test_request_goes_to_the_checked_address_with_the_name_kept(
        self, outgoing: Any
    ) -> None:
        await queue_one(outgoing)

        await outgoing.service.sender.run_once()

        [request] = outgoing.subscriber.requests
        assert str(request.url) == "https://93.184.215.14/okrs"
        assert request.headers["host"] == "hooks.example.com"
        assert request.extensions["sni_hostname"] == "hooks.example.com"

    async def test_nothing_due_sends_nothing(self, outgoing: Any) -> None:
        await outgoing.subscribe(["key_result.progress_changed"])

        assert await outgoing.service.sender.run_once() == 0
        assert outgoing.subscriber.requests == []

    async def test_each_attempt_is_recorded(self, outgoing: Any) -> None:
        await queue_one(outgoing)
        outgoing.subscriber.script = [503]

        await outgoing.service.sender.run_once()
        outgoing.later(60)
        await outgoing.service.sender.run_once()

        attempts = await outgoing.attempts()
        assert [(a.status_code, a.error) for a in attempts] == [
            (503, "HTTP 503"),
            (204, None),
        ]
        assert attempts[1].attempted_at == outgoing.clock()


class TestRetries:
    async def test_failure_is_retried_later_with_the_same_id_and_body(
        self, outgoing: Any
    ) -> None:
        sub = await queue_one(outgoing)
        outgoing.subscriber.script = [500]

        await outgoing.service.sender.run_once()
        [delivery] = await outgoing.deliveries()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "pending",
            1,
            "HTTP 500",
        )
        wait = (delivery.next_attempt_at - outgoing.clock()).total_seconds()
        assert 5 <= wait <= 5.5

        assert await outgoing.service.sender.run_once() == 0
        outgoing.later(6)
        assert await outgoing.service.sender.run_once() == 1

        first, second = outgoing.subscriber.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert first.content == second.content
        assert int(second.headers["webhook-timestamp"]) == (
            int(first.headers["webhook-timestamp"]) + 6
        )
        assert second.headers["webhook-signature"] == standard_signature(
            sub["secret"], second
        )
        assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
        [delivery] = await outgoing.deliveries()
        assert (delivery.status, delivery.attempts) == ("delivered", 2)

    async def test_delays_grow_along_the_schedule(self, outgoing: Any) -> None:
        await queue_one(outgoing)
        outgoing.subscriber.script = [500, 500, 500]
        waits = []

        for _ in range(3):
            await outgoing.service.sender.run_once()
            [delivery] = await outgoing.deliveries()
            waits.append((delivery.next_attempt_at - outgoing.clock()).total_seconds())
            outgoing.later(waits[-1])

        # Each delay of the schedule (5, 30, 120) plus up to 10 % of jitter.
        assert 5 <= waits[0] <= 5.5
        assert 30 <= waits[1] <= 33
        assert 120 <= waits[2] <= 132

    async def test_retry_after_lengthens_the_wait(self, outgoing: Any) -> None:
        await queue_one(outgoing)
        outgoing.subscriber.script = [(429, {"retry-after": "90"})]

        await outgoing.service.sender.run_once()

        [delivery] = await outgoing.deliveries()
        assert (delivery.next_attempt_at - outgoing.clock()).total_seconds() == 90

    async def test_exhausted_schedule_fails_the_delivery_and_disables(
        self, outgoing: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        sub = await queue_one(outgoing)
        outgoing.subscriber.script = [500] * 4

        for _ in range(4):
            await outgoing.service.sender.run_once()
            outgoing.later(200)

        [delivery] = await outgoing.deliveries()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
            "failed",
            4,
            None,
        )
        row = await outgoing.subscription(sub["id"])
        assert row.disabled
        assert "whole retry schedule" in (row.disabled_reason or "")
        assert f"Subscription {sub['id']} disabled" in caplog.text
        assert await outgoing.service.sender.run_once() == 0

    async def test_timeouts_and_refused_connections_are_failed_attempts(
        self, outgoing: Any
    ) -> None:
        await queue_one(outgoing)
        request = httpx.Request("POST", "https://hooks.example.com/okrs")
        outgoing.subscriber.script = [
            httpx.ReadTimeout("slow", request=request),
            httpx.ConnectError("connection refused", request=request),
        ]

        await outgoing.service.sender.run_once()
        outgoing.later(10)
        await outgoing.service.sender.run_once()

        attempts = await outgoing.attempts()
        assert [a.error for a in attempts] == [
            "no answer within 10 s",
            "ConnectError: connection refused",
        ]
        assert all(a.status_code is None for a in attempts)

    async def test_a_redirect_is_not_followed(self, outgoing: Any) -> None:
        await queue_one(outgoing)
        outgoing.subscriber.script = [(302, {"location": "http://169.254.169.254/"})]

        await outgoing.service.sender.run_once()

        assert len(outgoing.subscriber.requests) == 1
        [delivery] = await outgoing.deliveries()
        assert (delivery.status, delivery.last_status_code) == ("pending", 302)


class TestDisabling:
    async def test_consecutive_failures_disable_the_subscription(
        self, outgoing: Any
    ) -> None:
        outgoing.configure(webhook_disable_after=3)
        sub = await outgoing.subscribe(["key_result.progress_changed"])
        outgoing.subscriber.script = [500] * 3
        for value in (20.0, 10.0, 5.0):
            await outgoing.sync(**{"q-web": value})

        await outgoing.service.sender.run_once()

        row = await outgoing.subscription(sub["id"])
        assert row.disabled
        assert row.failure_count == 3
        assert "3 delivery attempts in a row failed" in (row.disabled_reason or "")
        shown = (await outgoing.client.get(f"/api/v1/subscriptions/{sub['id']}")).json()
        assert shown["disabled"] is True
        assert shown["disabled_reason"] == row.disabled_reason
        assert shown["failure_count"] == 3

    async def test_a_success_resets_the_run_of_failures(self, outgoing: Any) -> None:
        sub = await queue_one(outgoing)
        outgoing.subscriber.script = [500]
        await outgoing.service.sender.run_once()
        assert (await outgoing.subscription(sub["id"])).failure_count == 1

        outgoing.later(10)
        await outgoing.service.sender.run_once()

        assert (await outgoing.subscription(sub["id"])).failure_count == 0

    async def test_gone_disables_at_once(self, outgoing: Any) -> None:
        sub = await queue_one(outgoing)
        outgoing.subscriber.script = [410]

        await outgoing.service.sender.run_once()

        row = await outgoing.subscription(sub["id"])
        assert row.disabled
        assert "410 Gone" in (row.disabled_reason or "")
        [delivery] = await outgoing.deliveries()
        assert delivery.status == "failed"

    async def test_disabled_subscription_waits_and_enable_sends_at_once(
        self, outgoing: Any
    ) -> None:
        sub = await queue_one(outgoing)
        async with outgoing.service.database.session() as session:
            await webhook_repository.disable_subscription(
                session, sub["id"], "paused by a test", outgoing.clock()
            )
            await session.commit()
        assert await outgoing.service.sender.run_once() == 0

        response = await outgoing.client.post(
            f"/api/v1/subscriptions/{sub['id']}/enable"
        )

        assert response.status_code == 200
        assert response.json()["disabled"] is False
        assert await outgoing.service.sender.run_once() == 1
        assert len(outgoing.subscriber.requests) == 1


class TestTargetsAtSendTime:
    async def test_a_name_that_now_resolves_privately_is_not_sent_to(
        self, outgoing: Any
    ) -> None:
        await queue_one(outgoing)
        outgoing.resolver.table["hooks.example.com"] = ["10.0.0.7"]

        await outgoing.service.sender.run_once()

        assert outgoing.subscriber.requests == []
        [delivery] = await outgoing.deliveries()
        assert delivery.status == "pending"
        assert "10.0.0.7, which is not a public address" in (delivery.last_error or "")

    async def test_allowing_private_targets_skips_the_look_up(
        self, outgoing: Any
    ) -> None:
        await queue_one(outgoing)
        outgoing.resolver.lookups.clear()
        outgoing.configure(webhook_allow_private_targets=True)

        await outgoing.service.sender.run_once()

        assert outgoing.resolver.lookups == []
        [request] = outgoing.subscriber.requests
        assert str(request.url) == "https://hooks.example.com/okrs"


class TestLeases:
    async def test_two_senders_never_send_the_same_delivery(
        self, outgoing: Any
    ) -> None:
        await queue_one(outgoing)
        first, second = outgoing.sender(), outgoing.sender()

        counts = await asyncio.gather(first.run_once(), second.run_once())

        assert sorted(counts) == [0, 1]
        assert len(outgoing.subscriber.requests) == 1
        await first.aclose()
        await second.aclose()

    async def test_a_lease_is_taken_once_until_it_runs_out(self, outgoing: Any) -> None:
        await queue_one(outgoing)
        [delivery] = await outgoing.deliveries()
        now = outgoing.clock()
        until = now + timedelta(minutes=1)

        async with outgoing.service.database.session() as session:
            taken = await webhook_repository.claim_delivery(
                session, delivery.id, now, until
            )
            again = await webhook_repository.claim_delivery(
                session, delivery.id, now, until
            )
            await session.commit()
        assert (taken, again) == (True, False)
        assert await outgoing.service.sender.run_once() == 0

        outgoing.later(61)
        assert await outgoing.service.sender.run_once() == 1

    async def test_body_is_the_stored_text_on_every_attempt(
        self, outgoing: Any
    ) -> None:
        await queue_one(outgoing)
        [event] = await outgoing.events()
        outgoing.subscriber.script = [500, 500]

        for _ in range(3):
            await outgoing.service.sender.run_once()
            outgoing.later(200)

        sent = {request.content for request in outgoing.subscriber.requests}
        assert sent == {event.body.encode()}
        assert json.loads(event.body)["data"]["after"]["value"] == 20.0
