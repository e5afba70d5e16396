"""The query metric: one series or a scalar becomes a value; the rest is refused."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
import respx

from connectors.base import ConfigurationError, FetchRequest, NoParams, TransientError
from connectors.prometheus import PrometheusConnector

from .conftest import (
    FIXTURES,
    PASSWORD,
    QUERY_URL,
    TOKEN,
    docs_series,
    instant_answer,
    recorded_up_series,
)

MakeConnector = Callable[..., PrometheusConnector]


def promql(query: str = 'up{job="node"}') -> FetchRequest:
    return FetchRequest(metric="query", query=query, params=NoParams())


def with_value(answer: dict[str, Any], text: str) -> dict[str, Any]:
    answer["data"]["result"][0]["value"][1] = text
    return answer


async def test_one_series_gives_its_value_labels_and_time(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    # The documented example's `node` series, last sample [1435781460.781, "1"].
    answer = instant_answer(docs_series()[1:])
    route = router.get(QUERY_URL).respond(200, json=answer)

    reading = await make_connector().fetch(promql('up{job="node"}'))

    assert reading.value == 1.0
    assert reading.notes == []
    assert route.calls.last.request.url.params["query"] == 'up{job="node"}'
    assert "time" not in route.calls.last.request.url.params
    summary = reading.evidence.summary
    assert summary["resultType"] == "vector"
    assert summary["labels"] == {
        "__name__": "up",
        "job": "node",
        "instance": "localhost:9091",
    }
    assert summary["timestamp"] == 1435781460.781
    assert summary["time"].startswith("2015-07-01T20:11:00")
    assert reading.evidence.request.startswith(f"GET {QUERY_URL}?query=up")


async def test_recorded_target_that_was_down_reads_zero(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    prophet_0 = [
        s
        for s in recorded_up_series()
        if s["metric"]["instance"].startswith("prometheus-anomaly-detector-prophet-0")
    ]
    router.get(QUERY_URL).respond(200, json=instant_answer(prophet_0))

    reading = await make_connector().fetch(promql('up{job="prophet"}'))

    assert reading.value == 0.0
    assert reading.evidence.summary["labels"]["job"] == "prophet"


async def test_scalar_answer_gives_its_value(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).respond(
        200,
        json={
            "status": "success",
            "data": {"resultType": "scalar", "result": [1435781451.781, "0.75"]},
        },
    )

    reading = await make_connector().fetch(promql("scalar(avg(up))"))

    assert reading.value == 0.75
    assert reading.evidence.summary["resultType"] == "scalar"
    assert reading.evidence.summary["labels"] == {}


async def test_no_series_has_no_value_and_says_so(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).respond(200, json=instant_answer([]))

    reading = await make_connector().fetch(promql('up{job="gone"}'))

    assert reading.value is None
    assert reading.notes == ["the query returned no series"]
    assert reading.evidence.summary == {
        "query": 'up{job="gone"}',
        "resultType": "vector",
    }


async def test_several_series_are_refused_listing_capped_label_sets(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).respond(200, json=instant_answer(recorded_up_series()))

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(promql("up"))

    message = caught.value.message
    assert "returned 9 series" in message
    assert 'up{instance="metrics-exporter-thoth-frontend-stage' in message
    assert "and 4 more" in message
    assert "sum(...)" in message
    assert "prophet-2" not in message


async def test_two_documented_series_are_refused(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).respond(200, json=instant_answer(docs_series()))

    with pytest.raises(ConfigurationError, match="returned 2 series") as caught:
        await make_connector().fetch(promql("up"))

    assert 'job="prometheus"' in caught.value.message
    assert 'job="node"' in caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "returned NaN (not a number)"),
        ("+Inf", "returned +Inf, not a finite number"),
        ("-Inf", "returned -Inf, not a finite number"),
    ],
)
async def test_nan_and_infinities_are_configuration_errors(
    make_connector: MakeConnector, router: respx.MockRouter, text: str, message: str
) -> None:
    answer = with_value(instant_answer(docs_series()[:1]), text)
    router.get(QUERY_URL).respond(200, json=answer)

    with pytest.raises(ConfigurationError, match=re.escape(message)):
        await make_connector().fetch(promql("sum(a) / sum(b)"))


async def test_scalar_nan_is_a_configuration_error(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).respond(
        200,
        json={
            "status": "success",
            "data": {"resultType": "scalar", "result": [1435781451.781, "NaN"]},
        },
    )

    with pytest.raises(ConfigurationError, match="returned NaN"):
        await make_connector().fetch(promql("scalar(vector(0) / 0)"))


async def test_range_vector_answer_is_refused_with_a_hint(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    # The documented range answer is what an instant `up[45s]` returns too.
    text = (FIXTURES / "query_range.docs-example.json").read_text(encoding="utf-8")
    router.get(QUERY_URL).respond(
        200, text=text, headers={"content-type": "application/json"}
    )

    with pytest.raises(ConfigurationError, match="range vector") as caught:
        await make_connector().fetch(promql("up[45s]"))

    assert "max_over_time" in caught.value.message


async def test_string_and_native_histogram_answers_are_refused(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(QUERY_URL).respond(
        200,
        json={
            "status": "success",
            "data": {"resultType": "string", "result": [1, "x"]},
        },
    )
    with pytest.raises(ConfigurationError, match="returned a string"):
        await make_connector().fetch(promql('"x"'))

    router.get(QUERY_URL).respond(
        200,
        json={
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {
                        "metric": {"__name__": "latency"},
                        "histogram": [1, {"count": "3", "sum": "1.5", "buckets": []}],
                    }
                ],
            },
        },
    )
    with pytest.raises(ConfigurationError, match="native histogram"):
        await make_connector().fetch(promql("latency"))


async def test_warnings_become_notes(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    answer = instant_answer(docs_series()[:1])
    answer["warnings"] = ["PromQL info: metric might not be a counter"]
    router.get(QUERY_URL).respond(200, json=answer)

    reading = await make_connector().fetch(promql("rate(up[5m])"))

    assert reading.value == 1.0
    assert reading.notes == [
        "Prometheus warned: PromQL info: metric might not be a counter"
    ]


async def test_path_prefix_and_bearer_token_are_used(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    url = "https://host.example.test/prometheus/api/v1/query"
    route = router.get(url).respond(200, json=instant_answer(docs_series()[:1]))

    connector = make_connector(url="https://host.example.test/prometheus", token=TOKEN)
    reading = await connector.fetch(promql("up"))

    assert reading.value == 1.0
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_basic_auth_is_sent(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    route = router.get(QUERY_URL).respond(200, json=instant_answer(docs_series()[:1]))

    await make_connector(username="ann", password=PASSWORD).fetch(promql("up"))

    expected = base64.b64encode(f"ann:{PASSWORD}".encode()).decode()
    assert route.calls.last.request.headers["authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"status": "success"},
        {"status": "success", "data": {"resultType": "vector", "result": {}}},
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}}]},
        },
        {"status": "success", "data": {"resultType": "scalar", "result": [1, 2]}},
        {"status": "success", "data": {"resultType": "scalar", "result": [1, "one"]}},
        {"status": "success", "data": {"resultType": "cube", "result": []}},
        {"status": "pending"},
    ],
)
async def test_malformed_answers_are_transient(
    make_connector: MakeConnector, router: respx.MockRouter, body: Any
) -> None:
    router.get(QUERY_URL).respond(200, json=body)

    with pytest.raises(TransientError, match="malformed"):
        await make_connector(max_attempts=1).fetch(promql("up"))


@pytest.mark.parametrize("query", ["", "   ", None])
async def test_missing_query_is_a_configuration_error(
    make_connector: MakeConnector, query: str | None
) -> None:
    request = FetchRequest(metric="query", query=query, params=NoParams())

    with pytest.raises(ConfigurationError, match="needs a `query:` in PromQL"):
        await make_connector().fetch(request)


async def test_unknown_metric_is_refused(make_connector: MakeConnector) -> None:
    request = FetchRequest(metric="range", query="up", params=NoParams())

    with pytest.raises(ConfigurationError, match="has no metric 'range'; use: query"):
        await make_connector().fetch(request)
