"""The insight metric: which number of a saved trends insight is taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from connectors.base import ConfigurationError, FetchRequest, TransientError
from connectors.posthog import InsightParams, PostHogConnector

from .conftest import PROJECT_URL, insight_body

MakeConnector = Callable[..., PostHogConnector]


def insight(insight: int | str, series: int | None = None) -> FetchRequest:
    return FetchRequest(
        metric="insight",
        query=None,
        params=InsightParams(insight=insight, series=series),
    )


def with_series(body: dict[str, Any], count: int) -> dict[str, Any]:
    """The insight with `count` copies of its series, each relabelled."""
    first = body["result"][0]
    body["result"] = [
        {**first, "label": f"event {i}", "data": [i, i + 10]} for i in range(count)
    ]
    return body


async def test_bold_number_insight_gives_its_aggregated_value(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(f"{PROJECT_URL}/insights/14/").respond(
        200, json=insight_body("trends-number")
    )

    reading = await make_connector().fetch(insight(14))

    # Recorded: aggregated_value 3141592 with count 0 and no data points.
    assert reading.value == 3141592.0
    assert route.calls.last.request.url.params["refresh"] == "blocking"
    summary = reading.evidence.summary
    assert summary["taken"] == "aggregated_value"
    assert summary["insight"] == 14
    assert summary["short_id"] == "sJslPafh"
    assert summary["name"] == "Signups!"
    assert summary["kind"] == "TrendsQuery"
    assert summary["series"] == "signed_up"
    assert summary["count"] == 0
    assert (
        reading.evidence.request == f"GET {PROJECT_URL}/insights/14/?refresh=blocking"
    )


async def test_line_insight_gives_its_last_point_and_names_its_day(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(f"{PROJECT_URL}/insights/51/").respond(
        200, json=insight_body("trends-line")
    )

    reading = await make_connector().fetch(insight(51))

    # Recorded: 8 daily points ending with 796 on 2022-03-11; count 61010.
    assert reading.value == 796.0
    summary = reading.evidence.summary
    assert summary["taken"] == "last point of data"
    assert summary["day"] == "2022-03-11"
    assert summary["points"] == 8
    assert summary["count"] == 61010
    assert summary["kind"] == "TRENDS"
    assert summary["name"] == "Pageview count"


async def test_series_without_points_falls_back_to_its_count(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    body = insight_body("trends-line")
    body["result"][0]["data"] = []
    router.get(f"{PROJECT_URL}/insights/51/").respond(200, json=body)

    reading = await make_connector().fetch(insight(51))

    assert reading.value == 61010.0
    assert reading.evidence.summary["taken"] == "count"


async def test_empty_last_point_has_no_value(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    body = insight_body("trends-line")
    body["result"][0]["data"][-1] = None
    router.get(f"{PROJECT_URL}/insights/51/").respond(200, json=body)

    reading = await make_connector().fetch(insight(51))

    assert reading.value is None
    assert "(2022-03-11) is empty" in reading.notes[0]


async def test_short_id_is_looked_up_through_the_list_filter(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(f"{PROJECT_URL}/insights/").respond(
        200,
        json={
            "count": 1,
            "next": None,
            "previous": None,
            "results": [insight_body("trends-number")],
        },
    )

    reading = await make_connector().fetch(insight("sJslPafh"))

    assert reading.value == 3141592.0
    params = route.calls.last.request.url.params
    assert params["short_id"] == "sJslPafh"
    assert params["refresh"] == "blocking"


async def test_unknown_short_id_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(f"{PROJECT_URL}/insights/").respond(
        200, json={"count": 0, "next": None, "previous": None, "results": []}
    )

    with pytest.raises(
        ConfigurationError, match="no insight has the short id 'nope1234'"
    ):
        await make_connector().fetch(insight("nope1234"))


async def test_several_series_without_an_index_are_refused_listing_them(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    body = with_series(insight_body("trends-line"), 3)
    body["result"][1]["breakdown_value"] = "Chrome"
    body["result"][2]["compare_label"] = "previous"
    router.get(f"{PROJECT_URL}/insights/51/").respond(200, json=body)

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(insight(51))

    message = caught.value.message
    assert (
        "has 3 series (0: event 0, 1: event 1 / Chrome, 2: event 2 (previous))"
        in message
    )
    assert "set params.series" in message


async def test_series_index_picks_one_of_several(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    body = with_series(insight_body("trends-line"), 3)
    router.get(f"{PROJECT_URL}/insights/51/").respond(200, json=body)

    reading = await make_connector().fetch(insight(51, series=1))

    assert reading.value == 11.0
    assert reading.evidence.summary["series"] == "event 1"
    assert reading.evidence.summary["series_index"] == 1


async def test_series_index_out_of_range_is_refused(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(f"{PROJECT_URL}/insights/51/").respond(
        200, json=insight_body("trends-line")
    )

    with pytest.raises(ConfigurationError, match="has no series 3; it has 1"):
        await make_connector().fetch(insight(51, series=3))


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (
            {"query": {"kind": "InsightVizNode", "source": {"kind": "FunnelsQuery"}}},
            "FunnelsQuery",
        ),
        ({"query": None, "filters": {"insight": "RETENTION"}}, "RETENTION"),
        (
            {
                "query": {
                    "kind": "DataVisualizationNode",
                    "source": {"kind": "HogQLQuery"},
                }
            },
            "HogQLQuery",
        ),
    ],
)
async def test_other_insight_kinds_are_refused_pointing_to_hogql(
    make_connector: MakeConnector,
    router: respx.MockRouter,
    change: dict[str, Any],
    kind: str,
) -> None:
    body = {**insight_body("trends-number"), **change}
    router.get(f"{PROJECT_URL}/insights/14/").respond(200, json=body)

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(insight(14))

    assert f"is a {kind} insight" in caught.value.message
    assert "hogql metric" in caught.value.message


async def test_insight_without_series_has_no_value(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    body = insight_body("trends-number")
    body["result"] = []
    router.get(f"{PROJECT_URL}/insights/14/").respond(200, json=body)

    reading = await make_connector().fetch(insight(14))

    assert reading.value is None
    assert "has no series in its date range" in reading.notes[0]


async def test_insight_without_a_computed_result_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    body = insight_body("trends-number")
    body["result"] = None
    router.get(f"{PROJECT_URL}/insights/14/").respond(200, json=body)

    with pytest.raises(TransientError, match="no computed result"):
        await make_connector(max_attempts=1).fetch(insight(14))


@pytest.mark.parametrize(
    "result",
    [
        "x",
        [1, 2],
        [{"label": "a"}],
        [{"label": "a", "aggregated_value": "lots"}],
        [{"label": "a", "data": [1, "two"]}],
    ],
)
async def test_malformed_results_are_transient(
    make_connector: MakeConnector, router: respx.MockRouter, result: Any
) -> None:
    body = insight_body("trends-number")
    body["result"] = result
    router.get(f"{PROJECT_URL}/insights/14/").respond(200, json=body)

    with pytest.raises(TransientError, match="unexpected shape"):
        await make_connector(max_attempts=1).fetch(insight(14))
