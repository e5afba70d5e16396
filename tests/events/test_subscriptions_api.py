"""The subscriptions API and the delivery log."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from app.api.problems import MEDIA_TYPE
from app.events.outbox import EVENT_TYPES
from app.store import webhook_repository


def assert_problem(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    detail: str = response.json()["detail"]
    return detail


class TestCreating:
    async def test_created_subscription_shows_its_secret_once(
        self, outgoing: Any
    ) -> None:
        response = await outgoing.client.post(
            "/api/v1/subscriptions",
            json={
                "url": "https://hooks.example.com/okrs",
                "events": ["key_result.progress_changed", "sync.failed"],
                "filter": {"team": "web"},
                "description": "web team channel",
            },
        )

        assert response.status_code == 201
        created = response.json()
        assert created["id"].startswith("sub_")
        assert response.headers["location"].endswith(f"/subscriptions/{created['id']}")
        secret = created["secret"]
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
        assert created["filter"] == {"team": "web", "objective": None}
        assert created["disabled"] is False
        assert created["failure_count"] == 0

        shown = await outgoing.client.get(response.headers["location"])
        listed = await outgoing.client.get("/api/v1/subscriptions")
        assert secret not in shown.text
        assert secret not in listed.text
        assert "secret" not in shown.json()
        assert [item["id"] for item in listed.json()["items"]] == [created["id"]]

    async def test_each_subscription_gets_its_own_secret(self, outgoing: Any) -> None:
        first = await outgoing.subscribe(["sync.failed"])
        second = await outgoing.subscribe(["sync.failed"])

        assert first["secret"] != second["secret"]

    async def test_unknown_event_is_refused_listing_the_valid_ones(
        self, outgoing: Any
    ) -> None:
        response = await outgoing.client.post(
            "/api/v1/subscriptions",
            json={"url": "https://hooks.example.com/", "events": ["kr.changed"]},
        )

        detail = assert_problem(response, 422)
        assert "'kr.changed'" in detail
        assert all(event in detail for event in EVENT_TYPES)

    @pytest.mark.parametrize(
        ("url", "words"),
        [
            ("ftp://hooks.example.com/x", "must start with http:// or https://"),
            ("https://user:pw@hooks.example.com/x", "must not carry a user name"),
            ("https://nowhere.example.com/x", "cannot resolve 'nowhere.example.com'"),
            ("http://127.0.0.1:8080/x", "127.0.0.1, which is not a public address"),
            ("http://[::1]/x", "::1, which is not a public address"),
            ("http://169.254.169.254/latest", "not a public address"),
            ("http://internal.example.com/x", "10.1.2.3, which is not a public"),
        ],
    )
    async def test_url_that_may_not_be_sent_to_is_refused(
        self, outgoing: Any, url: str, words: str
    ) -> None:
        outgoing.resolver.table.update(
            {
                "127.0.0.1": ["127.0.0.1"],
                "::1": ["::1"],
                "169.254.169.254": ["169.254.169.254"],
                "internal.example.com": ["93.184.215.14", "10.1.2.3"],
            }
        )

        response = await outgoing.client.post(
            "/api/v1/subscriptions",
            json={"url": url, "events": ["sync.failed"]},
        )

        assert words in assert_problem(response, 422)
        assert (await outgoing.client.get("/api/v1/subscriptions")).json() == {
            "items": []
        }

    async def test_private_url_is_accepted_when_allowed_without_a_look_up(
        self, outgoing: Any
    ) -> None:
        outgoing.configure(webhook_allow_private_targets=True)

        created = await outgoing.client.post(
            "/api/v1/subscriptions",
            json={"url": "http://127.0.0.1:9000/hook", "events": ["sync.failed"]},
        )

        assert created.status_code == 201
        assert outgoing.resolver.lookups == []

    @pytest.mark.parametrize(
        ("wanted", "words"),
        [
            ({"objective": "nope"}, "filter.objective 'nope' is not a loaded"),
            ({"team": "nobody"}, "filter.team 'nobody' is not the team"),
        ],
    )
    async def test_filter_naming_nothing_loaded_is_refused(
        self, outgoing: Any, wanted: dict[str, str], words: str
    ) -> None:
        response = await outgoing.client.post(
            "/api/v1/subscriptions",
            json={
                "url": "https://hooks.example.com/",
                "events": ["sync.failed"],
                "filter": wanted,
            },
        )

        assert words in assert_problem(response, 422)

    async def test_missing_events_or_unknown_keys_are_invalid(
        self, outgoing: Any
    ) -> None:
        for body in (
            {"url": "https://hooks.example.com/", "events": []},
            {"url": "https://hooks.example.com/", "events": ["sync.failed"], "x": 1},
        ):
            response = await outgoing.client.post("/api/v1/subscriptions", json=body)
            assert_problem(response, 422)


class TestManaging:
    async def test_deleted_subscription_is_gone_with_its_deliveries(
        self, outgoing: Any
    ) -> None:
        sub = await outgoing.subscribe(["key_result.progress_changed"])
        await outgoing.sync(**{"q-web": 20.0})
        await outgoing.service.sender.run_once()

        deleted = await outgoing.client.delete(f"/api/v1/subscriptions/{sub['id']}")

        assert deleted.status_code == 204
        assert_problem(
            await outgoing.client.get(f"/api/v1/subscriptions/{sub['id']}"), 404
        )
        assert await outgoing.deliveries() == []
        assert await outgoing.attempts() == []
        assert_problem(
            await outgoing.client.delete(f"/api/v1/subscriptions/{sub['id']}"), 404
        )

    async def test_unknown_ids_are_not_found(self, outgoing: Any) -> None:
        sub = await outgoing.subscribe(["sync.failed"])
        base = "/api/v1/subscriptions"

        for method, path in [
            ("GET", f"{base}/sub_nope"),
            ("POST", f"{base}/sub_nope/enable"),
            ("GET", f"{base}/sub_nope/deliveries"),
            ("GET", f"{base}/{sub['id']}/deliveries/dlv_nope"),
            ("POST", f"{base}/{sub['id']}/deliveries/dlv_nope/redeliver"),
        ]:
            response = await outgoing.client.request(method, path)
            assert_problem(response, 404)


class TestDeliveryLog:
    async def test_log_shows_status_attempts_and_the_last_error(
        self, outgoing: Any
    ) -> None:
        sub = await outgoing.subscribe(["key_result.progress_changed"])
        await outgoing.sync(**{"q-web": 20.0})
        outgoing.subscriber.script = [502]
        await outgoing.service.sender.run_once()
        [event] = await outgoing.events()

        response = await outgoing.client.get(
            f"/api/v1/subscriptions/{sub['id']}/deliveries"
        )

        assert response.status_code == 200
        [item] = response.json()["items"]
        assert item["webhook_id"] == event.id
        assert item["event_type"] == "key_result.progress_changed"
        assert (item["status"], item["attempts"]) == ("pending", 1)
        assert (item["last_status_code"], item["last_error"]) == (502, "HTTP 502")
        assert item["next_attempt_at"] > item["created_at"]

        detail = await outgoing.client.get(
            f"/api/v1/subscriptions/{sub['id']}/deliveries/{item['id']}"
        )
        assert detail.json()["body"] == event.body
        assert [a["status_code"] for a in detail.json()["attempt_log"]] == [502]

    async def test_log_filters_by_status(self, outgoing: Any) -> None:
        sub = await outgoing.subscribe(["key_result.progress_changed"])
        await outgoing.sync(**{"q-web": 20.0})
        await outgoing.service.sender.run_once()
        path = f"/api/v1/subscriptions/{sub['id']}/deliveries"

        delivered = await outgoing.client.get(path, params={"status": "delivered"})
        pending = await outgoing.client.get(path, params={"status": "pending"})
        wrong = await outgoing.client.get(path, params={"status": "lost"})

        assert len(delivered.json()["items"]) == 1
        assert pending.json()["items"] == []
        assert_problem(wrong, 422)

    async def test_redeliver_sends_again_with_the_same_id_and_body(
        self, outgoing: Any
    ) -> None:
        sub = await outgoing.subscribe(["key_result.progress_changed"])
        await outgoing.sync(**{"q-web": 20.0})
        await outgoing.service.sender.run_once()
        [delivery] = await outgoing.deliveries()
        outgoing.later(3600)

        response = await outgoing.client.post(
            f"/api/v1/subscriptions/{sub['id']}/deliveries/{delivery.id}/redeliver"
        )

        assert response.status_code == 202
        assert response.json()["status"] == "pending"
        assert await outgoing.service.sender.run_once() == 1
        first, second = outgoing.subscriber.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert first.content == second.content
        assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
        [delivery] = await outgoing.deliveries()
        assert (delivery.status, delivery.attempts) == ("delivered", 2)

    async def test_redeliver_to_a_disabled_subscription_is_a_conflict(
        self, outgoing: Any
    ) -> None:
        sub = await outgoing.subscribe(["key_result.progress_changed"])
        await outgoing.sync(**{"q-web": 20.0})
        outgoing.subscriber.script = [410]
        await outgoing.service.sender.run_once()
        [delivery] = await outgoing.deliveries()

        response = await outgoing.client.post(
            f"/api/v1/subscriptions/{sub['id']}/deliveries/{delivery.id}/redeliver"
        )

        assert "enable it first" in assert_problem(response, 409)

    async def test_redeliver_while_a_sender_holds_it_is_a_conflict(
        self, outgoing: Any
    ) -> None:
        sub = await outgoing.subscribe(["key_result.progress_changed"])
        await outgoing.sync(**{"q-web": 20.0})
        [delivery] = await outgoing.deliveries()
        now = outgoing.clock()
        async with outgoing.service.database.session() as session:
            await webhook_repository.claim_delivery(
                session, delivery.id, now, now + timedelta(seconds=40)
            )
            await session.commit()

        response = await outgoing.client.post(
            f"/api/v1/subscriptions/{sub['id']}/deliveries/{delivery.id}/redeliver"
        )

        assert "being sent right now" in assert_problem(response, 409)
