"""Events are written with the change they report, once, for those who asked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.events import outbox
from app.store import webhook_repository
from app.store.repository import ScoreChange
from app.store.webhook_tables import SubscriptionRow
from app.sync import engine as engine_module
from app.sync.engine import SyncReport
from connectors.base import TransientError


def bodies(events: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(event.body) for event in events]


async def test_a_change_queues_one_delivery_per_event_and_matching_subscription(
    outgoing: Any,
) -> None:
    web = await outgoing.subscribe(
        ["key_result.progress_changed"], filter={"team": "web"}
    )
    everything = await outgoing.subscribe(
        ["key_result.progress_changed", "objective.progress_changed"]
    )

    await outgoing.sync(**{"q-web": 20.0})

    events = await outgoing.events()
    types = sorted(event.type for event in events)
    assert types == ["key_result.progress_changed", "objective.progress_changed"]
    deliveries = await outgoing.deliveries()
    by_subscription = sorted((d.subscription_id, d.event_id) for d in deliveries)
    progress = next(e for e in events if e.type == "key_result.progress_changed")
    objective = next(e for e in events if e.type == "objective.progress_changed")
    assert by_subscription == sorted(
        [
            (web["id"], progress.id),
            (everything["id"], progress.id),
            (everything["id"], objective.id),
        ]
    )
    assert all(d.status == "pending" for d in deliveries)
    assert all(d.next_attempt_at == outgoing.clock() for d in deliveries)


async def test_key_result_body_carries_ids_titles_and_before_and_after(
    outgoing: Any,
) -> None:
    await outgoing.subscribe(["key_result.progress_changed"])

    await outgoing.sync(**{"q-web": 20.0})

    [event] = await outgoing.events()
    assert event.id.startswith("msg_")
    body = json.loads(event.body)
    assert body == {
        "type": "key_result.progress_changed",
        "timestamp": "2026-11-15T12:00:00Z",
        "data": {
            "key_result": {
                "id": "web-bugs",
                "title": "Open web bugs down to 0",
                "unit": "",
                "objective": {"id": "web", "title": "A faster web", "team": "web"},
            },
            "before": {"progress": 0.25, "status": "off_track", "value": 30.0},
            "after": {"progress": 0.5, "status": "on_track", "value": 20.0},
            "sync_id": event.sync_id,
        },
    }
    assert event.body == json.dumps(body, separators=(",", ":"))


async def test_status_change_is_its_own_event(outgoing: Any) -> None:
    await outgoing.subscribe(["key_result.status_changed"])

    await outgoing.sync(**{"q-web": 20.0})

    [body] = bodies(await outgoing.events())
    assert body["type"] == "key_result.status_changed"
    assert body["data"]["key_result"]["id"] == "web-bugs"
    assert body["data"]["before"]["status"] != body["data"]["after"]["status"]


async def test_objective_filter_keeps_other_objectives_events_out(
    outgoing: Any,
) -> None:
    await outgoing.subscribe(
        ["key_result.progress_changed"], filter={"objective": "mobile"}
    )

    await outgoing.sync(**{"q-web": 20.0})
    assert await outgoing.deliveries() == []

    await outgoing.sync(**{"q-mobile": 60.0})
    [body] = bodies(await outgoing.events())
    assert body["data"]["key_result"]["id"] == "mobile-done"


async def test_team_and_objective_must_both_match(outgoing: Any) -> None:
    await outgoing.subscribe(
        ["key_result.progress_changed"], filter={"team": "web", "objective": "mobile"}
    )

    await outgoing.sync(**{"q-web": 20.0, "q-mobile": 60.0})

    assert await outgoing.deliveries() == []


async def test_unchanged_values_queue_nothing(outgoing: Any) -> None:
    await outgoing.subscribe(list(outbox.EVENT_TYPES))

    await outgoing.sync()

    assert await outgoing.events() == []


async def test_no_subscription_no_event(outgoing: Any) -> None:
    await outgoing.sync(**{"q-web": 20.0})

    assert await outgoing.events() == []


async def test_disabled_subscription_gets_no_new_events(outgoing: Any) -> None:
    sub = await outgoing.subscribe(["key_result.progress_changed"])
    async with outgoing.service.database.session() as session:
        await webhook_repository.disable_subscription(
            session, sub["id"], "test", outgoing.clock()
        )
        await session.commit()

    await outgoing.sync(**{"q-web": 20.0})

    assert await outgoing.deliveries() == []


async def test_failed_sync_queues_sync_failed_for_matching_objectives(
    outgoing: Any,
) -> None:
    await outgoing.subscribe(["sync.failed"], filter={"team": "web"})
    mobile_only = await outgoing.subscribe(["sync.failed"], filter={"team": "mobile"})

    await outgoing.sync(**{"q-web": TransientError("HTTP 503 from upstream")})

    [event] = await outgoing.events()
    body = json.loads(event.body)
    assert body["type"] == "sync.failed"
    assert body["data"]["state"] == "partial"
    assert body["data"]["failed"] == [
        {
            "key_result_id": "web-bugs",
            "objective_id": "web",
            "outcome": "failed",
            "error": "HTTP 503 from upstream",
        }
    ]
    [delivery] = await outgoing.deliveries()
    assert delivery.subscription_id != mobile_only["id"]


async def test_a_sync_that_rolls_back_leaves_no_event(
    outgoing: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await outgoing.subscribe(list(outbox.EVENT_TYPES))

    async def crash(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine_module, "_finish", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        await outgoing.sync(**{"q-web": 20.0})

    assert await outgoing.events() == []
    assert await outgoing.deliveries() == []


async def test_record_sync_writes_in_the_callers_transaction_only(
    outgoing: Any,
) -> None:
    await outgoing.subscribe(["objective.progress_changed"])
    change = ScoreChange(
        "objective",
        "web",
        "web",
        "web",
        {"progress": 0.1, "status": "off_track"},
        {"progress": 0.2, "status": "off_track"},
    )
    report = SyncReport(sync_id="s1", state="succeeded")

    async with outgoing.service.database.session() as session:
        queued = await outbox.record_sync(
            session, outgoing.service.mappings, [change], report, outgoing.clock()
        )
        await session.rollback()

    assert queued == 1
    assert await outgoing.events() == []


def test_wants_needs_the_event_type_and_a_matching_scope() -> None:
    sub = SubscriptionRow(
        id="s", url="u", events=["sync.failed"], team="web", secret="x"
    )

    assert outbox.wants(sub, "sync.failed", [("mobile", "mobile"), ("web", "web")])
    assert not outbox.wants(sub, "sync.failed", [("mobile", "mobile")])
    assert not outbox.wants(sub, "key_result.progress_changed", [("web", "web")])
