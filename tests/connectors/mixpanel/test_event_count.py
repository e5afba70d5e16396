"""Counting a Mixpanel event: the exact segmentation request and the sums."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from connectors.base import ConfigurationError, FetchRequest, NoParams, TransientError
from connectors.mixpanel import MixpanelConnector

MakeConnector = Callable[..., MixpanelConnector]


async def test_general_counts_are_asked_per_day_and_added_up(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(
        200, json=kit.load("segmentation.docs-example.json")
    )

    reading = await make_connector().fetch(kit.ask("Signed up"))

    request = route.calls.last.request
    assert request.url.path == "/api/query/segmentation"
    assert dict(request.url.params) == {
        "project_id": kit.PROJECT,
        "event": "Signed up",
        "from_date": "2026-10-01",
        "to_date": "2026-12-31",
        "type": "general",
        "unit": "day",
    }
    assert request.headers["authorization"] == kit.basic_auth()
    assert reading.value == 147 + 146 + 776 + 1376
    assert reading.notes == []


async def test_evidence_shows_the_request_range_and_the_daily_values(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(200, json=kit.load("segmentation.docs-example.json"))

    reading = await make_connector().fetch(kit.ask("Signed up"))

    evidence = reading.evidence
    assert evidence.request == (
        "GET https://mixpanel.com/api/query/segmentation?project_id=2195193"
        "&event=Signed+up&from_date=2026-10-01&to_date=2026-12-31&type=general"
        "&unit=day"
    )
    assert evidence.requests == 1
    assert evidence.summary == {
        "event": "Signed up",
        "type": "general",
        "from_date": "2026-10-01",
        "to_date": "2026-12-31",
        "dates_in": "the Mixpanel project's time zone",
        "total": 2445.0,
        "values": {
            "2011-08-06": 147.0,
            "2011-08-07": 146.0,
            "2011-08-08": 776.0,
            "2011-08-09": 1376.0,
        },
    }


async def test_uniques_are_asked_as_one_bucket_spanning_the_window(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(
        200, json=kit.load("segmentation.unique-one-bucket.json")
    )

    reading = await make_connector().fetch(kit.ask("Signed up", type="unique"))

    params = dict(route.calls.last.request.url.params)
    assert params["type"] == "unique"
    assert params["interval"] == "92"
    assert "unit" not in params
    assert reading.value == 1830
    assert reading.notes == []


async def test_uniques_answered_in_several_buckets_are_summed_with_a_warning(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(200, json=kit.load("segmentation.docs-example.json"))

    reading = await make_connector().fetch(kit.ask("Signed up", type="unique"))

    assert reading.value == 2445
    assert len(reading.notes) == 1
    assert "4 buckets of unique users" in reading.notes[0]
    assert "more than once" in reading.notes[0]


async def test_the_eu_region_and_a_workspace_go_to_the_right_host_and_query(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get("https://eu.mixpanel.com/api/query/segmentation").respond(
        200, json=kit.load("segmentation.docs-example.json")
    )

    await make_connector(region="eu", workspace_id="3301").fetch(kit.ask())

    assert route.calls.last.request.url.params["workspace_id"] == "3301"


async def test_an_event_without_data_counts_zero_with_a_spelling_hint(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(
        200, json={"data": {"series": [], "values": {}}, "legend_size": 0}
    )

    reading = await make_connector().fetch(kit.ask("Signed upp"))

    assert reading.value == 0
    assert "no data for event 'Signed upp'" in reading.notes[0]
    assert "spelling" in reading.notes[0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([], "had no data.values object"),
        ({"data": {"series": []}}, "had no data.values object"),
        ({"data": {"values": {"Signed up": [1, 2]}}}, "no per-date counts"),
        (
            {"data": {"values": {"Signed up": {"2026-10-01": "12"}}}},
            "gave '12' for 2026-10-01, which is not a number",
        ),
        (
            {"data": {"values": {"Signed up": {"2026-10-01": True}}}},
            "which is not a number",
        ),
    ],
)
async def test_malformed_answers_are_transient_errors(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    kit: Any,
    body: Any,
    expected: str,
) -> None:
    router.get(kit.URL).respond(200, json=body)

    with pytest.raises(TransientError) as caught:
        await make_connector().fetch(kit.ask())

    assert expected in caught.value.message


async def test_an_empty_window_sends_nothing_and_has_no_value(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(200, json={})

    reading = await make_connector().fetch(
        kit.ask(window=kit.window("2026-10-01", "2026-10-01"))
    )

    assert reading.value is None
    assert "nothing to measure" in reading.notes[0]
    assert route.call_count == 0


async def test_an_unknown_metric_or_a_missing_window_is_a_configuration_error(
    make_connector: MakeConnector, kit: Any
) -> None:
    connector = make_connector()

    with pytest.raises(ConfigurationError, match="has no metric 'events'"):
        await connector.fetch(
            FetchRequest(metric="events", query=None, params=NoParams())
        )
    with pytest.raises(ConfigurationError, match="needs a time window"):
        await connector.fetch(
            FetchRequest(metric="event_count", query=None, params=kit.ask().params)
        )
    with pytest.raises(ConfigurationError, match="params of mixpanel source"):
        await connector.fetch(
            FetchRequest(
                metric="event_count",
                query=None,
                params=NoParams(),
                window=kit.window(),
            )
        )
