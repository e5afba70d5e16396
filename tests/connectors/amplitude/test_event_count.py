"""Counting an Amplitude event: the exact segmentation request and the totals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import respx

from connectors.amplitude import AmplitudeConnector
from connectors.base import ConfigurationError, FetchRequest, NoParams, TransientError

MakeConnector = Callable[..., AmplitudeConnector]


async def test_the_request_names_the_event_the_days_and_the_measure(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(200, json=kit.load("segmentation.totals.json"))

    await make_connector().fetch(kit.ask("Play Song"))

    request = route.calls.last.request
    assert request.url.path == "/api/2/events/segmentation"
    params = dict(request.url.params)
    assert params == {
        "e": '{"event_type":"Play Song"}',
        "start": "20261001",
        "end": "20261231",
        "m": "totals",
    }
    assert json.loads(params["e"]) == {"event_type": "Play Song"}
    assert request.headers["authorization"] == kit.basic_auth()


async def test_the_collapsed_total_is_the_value(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(200, json=kit.load("segmentation.totals.json"))

    reading = await make_connector().fetch(kit.ask("Play Song"))

    assert reading.value == 996
    assert reading.notes == []
    assert reading.evidence.requests == 1
    assert reading.evidence.request.startswith(
        "GET https://amplitude.com/api/2/events/segmentation?e="
    )
    assert reading.evidence.summary == {
        "event": "Play Song",
        "measure": "totals",
        "start": "2026-10-01",
        "end": "2026-12-31",
        "dates_in": "the Amplitude project's time zone",
        "total": 996.0,
        "series_collapsed": 996.0,
        "series_sum": 996.0,
        "x_values": ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"],
        "series": [310.0, 274.0, 0.0, 412.0],
    }


async def test_uniques_use_the_deduplicated_collapsed_total_not_the_daily_sum(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(kit.URL).respond(200, json=kit.load("segmentation.uniques.json"))

    reading = await make_connector().fetch(kit.ask(measure="uniques"))

    assert route.calls.last.request.url.params["m"] == "uniques"
    assert reading.value == 268
    assert reading.evidence.summary["series_sum"] == 391
    assert reading.notes == []


async def test_without_a_collapsed_total_the_daily_series_is_summed(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    body = kit.load("segmentation.uniques.json")
    del body["data"]["seriesCollapsed"]
    router.get(kit.URL).respond(200, json=body)

    reading = await make_connector().fetch(kit.ask(measure="uniques"))

    assert reading.value == 391
    assert "added up" in reading.notes[0]
    assert "counts once per day" in reading.notes[0]


async def test_the_eu_region_is_asked_at_its_own_host(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    route = router.get(
        "https://analytics.eu.amplitude.com/api/2/events/segmentation"
    ).respond(200, json=kit.load("segmentation.totals.json"))

    reading = await make_connector(region="eu").fetch(kit.ask())

    assert route.call_count == 1
    assert reading.value == 996


async def test_an_event_without_data_counts_zero_with_a_spelling_hint(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(
        200, json={"data": {"series": [], "seriesCollapsed": [], "xValues": []}}
    )

    reading = await make_connector().fetch(kit.ask("Play Sng"))

    assert reading.value == 0
    assert "no data for event 'Play Sng'" in reading.notes[0]


async def test_a_window_longer_than_amplitudes_daily_range_is_noted(
    make_connector: MakeConnector, router: respx.MockRouter, kit: Any
) -> None:
    router.get(kit.URL).respond(200, json=kit.load("segmentation.totals.json"))

    reading = await make_connector().fetch(
        kit.ask(window=kit.window("2027-01-01", "2029-01-01"))
    )

    assert any("731 days" in note for note in reading.notes)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"series": []}, "had no data object"),
        ({"data": {"xValues": []}}, "had neither seriesCollapsed nor series"),
        ({"data": {"series": "310"}}, "series that is not a list"),
        ({"data": {"series": [310, 274]}}, "series entry that is not a list"),
        ({"data": {"series": [["310"]]}}, "gave '310' where a number"),
        ({"data": {"seriesCollapsed": [[{"setId": ""}]]}}, "without a value"),
        ({"data": {"seriesCollapsed": [[{"value": None}]]}}, "gave 'None'"),
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
    assert route.call_count == 0


async def test_an_unknown_metric_or_a_missing_window_is_a_configuration_error(
    make_connector: MakeConnector, kit: Any
) -> None:
    connector = make_connector()

    with pytest.raises(ConfigurationError, match="has no metric 'uniques'"):
        await connector.fetch(
            FetchRequest(metric="uniques", query=None, params=NoParams())
        )
    with pytest.raises(ConfigurationError, match="needs a time window"):
        await connector.fetch(
            FetchRequest(metric="event_count", query=None, params=kit.ask().params)
        )
    with pytest.raises(ConfigurationError, match="params of amplitude source"):
        await connector.fetch(
            FetchRequest(
                metric="event_count",
                query=None,
                params=NoParams(),
                window=kit.window(),
            )
        )
