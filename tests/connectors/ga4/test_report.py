"""Reading one GA4 metric: the exact report request and how answers are read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import respx

from connectors.base import (
    ConfigurationError,
    FetchRequest,
    NoParams,
    TransientError,
    Window,
)
from connectors.ga4 import GA4Connector

MakeConnector = Callable[..., GA4Connector]
ReportBody = Callable[..., dict[str, Any]]


async def test_the_report_asks_for_one_metric_over_the_windows_local_days(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
) -> None:
    report = google.post(kit.REPORT_URL).respond(200, json=report_body())

    reading = await make_connector().fetch(kit.ask("activeUsers"))

    request = report.calls.last.request
    assert str(request.url) == kit.REPORT_URL
    assert request.headers["content-type"] == "application/json"
    assert kit.json_of(report.calls.last) == {
        "dateRanges": [{"startDate": "2026-10-01", "endDate": "2026-12-31"}],
        "metrics": [{"name": "activeUsers"}],
    }
    assert reading.value == 1234
    assert reading.notes == []


async def test_evidence_shows_the_request_range_and_time_zones(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
) -> None:
    google.post(kit.REPORT_URL).respond(200, json=report_body())

    reading = await make_connector().fetch(kit.ask("activeUsers"))

    evidence = reading.evidence
    assert evidence.request == f"POST {kit.REPORT_URL}"
    assert evidence.requests == 2
    assert evidence.summary == {
        "property_id": kit.PROPERTY,
        "metric": "activeUsers",
        "date_range": {"startDate": "2026-10-01", "endDate": "2026-12-31"},
        "dimension_filter": None,
        "metric_header": "activeUsers",
        "metric_type": "TYPE_INTEGER",
        "row_count": 1,
        "property_time_zone": "Europe/Berlin",
        "currency_code": "EUR",
        "value_text": "1234",
        "window_time_zone": "Europe/Berlin",
        "dates_in": "the GA4 property's time zone",
    }


async def test_a_window_ending_mid_day_includes_that_day(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
) -> None:
    report = google.post(kit.REPORT_URL).respond(200, json=report_body())
    zone = ZoneInfo("America/New_York")
    window = Window(
        datetime(2026, 11, 9, tzinfo=zone), datetime(2026, 11, 15, 13, 30, tzinfo=zone)
    )

    await make_connector().fetch(kit.ask(window=window))

    assert kit.json_of(report.calls.last)["dateRanges"] == [
        {"startDate": "2026-11-09", "endDate": "2026-11-15"}
    ]


async def test_a_property_in_another_time_zone_is_noted(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
) -> None:
    body = report_body()
    body["metadata"]["timeZone"] = "America/Los_Angeles"
    google.post(kit.REPORT_URL).respond(200, json=body)

    reading = await make_connector().fetch(kit.ask())

    assert len(reading.notes) == 1
    assert "America/Los_Angeles" in reading.notes[0]
    assert "Europe/Berlin" in reading.notes[0]
    assert reading.evidence.summary["notes"] == reading.notes


async def test_the_dimension_filter_is_sent_as_dimension_filter(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
) -> None:
    report = google.post(kit.REPORT_URL).respond(200, json=report_body("87"))
    only_france = {
        "filter": {
            "fieldName": "country",
            "stringFilter": {"value": "France", "caseSensitive": False},
        }
    }

    reading = await make_connector().fetch(
        kit.ask("activeUsers", dimension_filter=only_france)
    )

    assert kit.json_of(report.calls.last)["dimensionFilter"] == only_france
    assert reading.evidence.summary["dimension_filter"] == only_france
    assert reading.value == 87


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.5", 12.5), ("0", 0.0), ("3.2E3", 3200.0), ("-4", -4.0)],
)
async def test_metric_values_arrive_as_text_and_are_parsed(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
    text: str,
    expected: float,
) -> None:
    google.post(kit.REPORT_URL).respond(200, json=report_body(text))

    reading = await make_connector().fetch(kit.ask())

    assert reading.value == expected


async def test_an_answer_without_rows_means_zero_and_says_why(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    google.post(kit.REPORT_URL).respond(200, json=kit.load("runReport.no-rows.json"))

    reading = await make_connector().fetch(kit.ask())

    assert reading.value == 0
    assert "leaves out rows whose metrics are all zero" in reading.notes[0]
    assert reading.evidence.summary["row_count"] == 0


async def test_no_rows_with_an_explicit_zero_row_count_and_a_reason_means_zero(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    body = kit.load("runReport.no-rows.json")
    body["rowCount"] = 0
    body["metadata"]["emptyReason"] = "No data for the requested date range."
    google.post(kit.REPORT_URL).respond(200, json=body)

    reading = await make_connector().fetch(kit.ask())

    assert reading.value == 0
    assert reading.evidence.summary["empty_reason"] == body["metadata"]["emptyReason"]


async def test_thresholded_and_sampled_reports_are_noted(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
) -> None:
    body = report_body()
    body["metadata"]["subjectToThresholding"] = True
    body["metadata"]["samplingMetadatas"] = [
        {"samplesReadCount": "1000", "samplingSpaceSize": "5000"}
    ]
    google.post(kit.REPORT_URL).respond(200, json=body)

    reading = await make_connector().fetch(kit.ask())

    assert reading.value == 1234
    assert any("thresholding" in note for note in reading.notes)
    assert any("sampled" in note for note in reading.notes)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda body: body.update(rows=[], rowCount=5), "counted rows but listed none"),
        (lambda body: body.pop("metricHeaders"), "had no metricHeaders"),
        (lambda body: body.update(rows="1234"), "'rows' value that is not a list"),
        (
            lambda body: body.update(rows=body["rows"] * 2),
            "2 rows where one total was expected",
        ),
        (lambda body: body["rows"][0].update(metricValues=[]), "without a metric"),
        (
            lambda body: body["rows"][0]["metricValues"][0].update(value="(other)"),
            "'(other)', which is not a number",
        ),
        (
            lambda body: body["rows"][0]["metricValues"][0].update(value="NaN"),
            "which is not a number",
        ),
    ],
)
async def test_malformed_answers_are_transient_errors(
    make_connector: MakeConnector,
    google: respx.MockRouter,
    kit: Any,
    report_body: ReportBody,
    change: Callable[[dict[str, Any]], object],
    expected: str,
) -> None:
    body = report_body()
    change(body)
    google.post(kit.REPORT_URL).respond(200, json=body)

    with pytest.raises(TransientError) as caught:
        await make_connector().fetch(kit.ask())

    assert expected in caught.value.message
    assert kit.PROPERTY in caught.value.message


async def test_an_empty_window_sends_nothing_and_has_no_value(
    make_connector: MakeConnector, google: respx.MockRouter, kit: Any
) -> None:
    report = google.post(kit.REPORT_URL).respond(200, json={})
    window = kit.window("2026-10-01", "2026-10-01")

    reading = await make_connector().fetch(kit.ask(window=window))

    assert reading.value is None
    assert "nothing to measure" in reading.notes[0]
    assert report.call_count == 0
    assert google.routes["token"].call_count == 0


async def test_an_unknown_metric_name_or_a_missing_window_is_a_configuration_error(
    make_connector: MakeConnector, kit: Any
) -> None:
    connector = make_connector()

    with pytest.raises(ConfigurationError, match="has no metric 'users'"):
        await connector.fetch(
            FetchRequest(metric="users", query=None, params=NoParams())
        )
    with pytest.raises(ConfigurationError, match="needs a time window"):
        await connector.fetch(
            FetchRequest(metric="metric", query=None, params=kit.ask().params)
        )
    with pytest.raises(ConfigurationError, match="params of ga4 source 'web'"):
        await connector.fetch(
            FetchRequest(
                metric="metric", query=None, params=NoParams(), window=kit.window()
            )
        )
