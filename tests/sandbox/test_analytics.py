"""The analytics upstreams: Prometheus, PostHog and the in-house metrics API."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.sandbox import SandboxServer
from app.sandbox.analytics import (
    AGGREGATORS,
    EVENTS_FIRST_DAY,
    EVENTS_LAST_DAY,
    POSTHOG_PROJECT_ID,
    Analytics,
    HogQLCount,
    HogQLError,
    Matcher,
    PromQLError,
    PromQuery,
    analytics_of,
    build_analytics,
    format_sample,
    parse_hogql,
    parse_promql,
)
from connectors.base import FetchRequest, NoParams, Window
from connectors.posthog import InsightParams, PostHogConfig, PostHogConnector

RECORDED_POSTHOG = Path(__file__).resolve().parents[1] / "fixtures" / "posthog"
"""The PostHog connector's recorded insights, read (never changed) for shapes."""

QUERY = "/prometheus/api/v1/query"
PROJECT = f"/posthog/api/projects/{POSTHOG_PROJECT_ID}"
KEY = {"Authorization": "Bearer phx_sandbox_test"}
AT = "1794744000.5"
"""An evaluation time: 2026-11-15 12:00:00.5 UTC."""

START = "2026-10-01T00:00:00+02:00"
END = "2026-11-15T13:00:00+01:00"
WINDOW = {"window_start": START, "window_end": END}
COUNT_IN_WINDOW = (
    "SELECT count() FROM events WHERE event = 'signed_up' "
    "AND timestamp >= toDateTime({window_start}) "
    "AND timestamp < toDateTime({window_end})"
)


@pytest.fixture
def analytics(sandbox: SandboxServer) -> Analytics:
    return analytics_of(sandbox.app)


def promql(client: httpx.Client, query: str, **params: str) -> httpx.Response:
    return client.get(QUERY, params={"query": query, "time": AT, **params})


def hogql(
    client: httpx.Client, query: str, values: dict[str, Any] | None = None
) -> httpx.Response:
    node: dict[str, Any] = {"kind": "HogQLQuery", "query": query}
    if values is not None:
        node["values"] = values
    return client.post(f"{PROJECT}/query/", json={"query": node}, headers=KEY)


def in_window(analytics: Analytics, event: str, start: str, end: str) -> list[Any]:
    low, high = datetime.fromisoformat(start), datetime.fromisoformat(end)
    return [
        e for e in analytics.events if e.event == event and low <= e.timestamp < high
    ]


# The data ------------------------------------------------------------------


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    fresh = build_analytics.__wrapped__(7)  # type: ignore[attr-defined]

    assert fresh == build_analytics(7)
    assert fresh.events != build_analytics(8).events
    assert fresh.incidents != build_analytics(8).incidents


def test_events_fall_in_the_documented_days_and_keep_one_person_per_id() -> None:
    analytics = build_analytics(7)
    person_of: dict[str, set[str]] = {}
    for event in analytics.events:
        person_of.setdefault(event.distinct_id, set()).add(event.person_id)

    days = {e.timestamp.date() for e in analytics.events}
    assert min(days) == EVENTS_FIRST_DAY
    assert max(days) == EVENTS_LAST_DAY
    assert {e.event for e in analytics.events} == {"signed_up", "$pageview", "purchase"}
    assert 3000 < len(analytics.events) < 12000
    assert all(len(people) == 1 for people in person_of.values())
    assert len(person_of) > len({e.person_id for e in analytics.events})


def test_a_fixed_quota_of_incidents_is_open_whatever_the_seed() -> None:
    for seed in (1, 7, 42):
        statuses = [i.status for i in build_analytics(seed).incidents]
        assert 3 <= statuses.count("open") <= 6
        assert "resolved" in statuses


def test_analytics_of_an_app_without_the_upstreams_says_how_to_mount_them() -> None:
    with pytest.raises(RuntimeError, match="mount_analytics"):
        analytics_of(FastAPI())


# PromQL subset -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("up", PromQuery("selector", metric="up")),
        ("  up  ", PromQuery("selector", metric="up")),
        (
            'up{job="api"}',
            PromQuery("selector", metric="up", matchers=(Matcher("job", "api"),)),
        ),
        (
            "up { job = 'api' , instance != \"b\" , }",
            PromQuery(
                "selector",
                metric="up",
                matchers=(Matcher("job", "api"), Matcher("instance", "b", True)),
            ),
        ),
        (
            'slo:availability:ratio30d{service="api"}',
            PromQuery(
                "selector",
                metric="slo:availability:ratio30d",
                matchers=(Matcher("service", "api"),),
            ),
        ),
        (
            r'up{note="say \"hi\"\n"}',
            PromQuery(
                "selector", metric="up", matchers=(Matcher("note", 'say "hi"\n'),)
            ),
        ),
        ("sum(up)", PromQuery("aggregation", metric="up", aggregation="sum")),
        (
            'SUM ( up{job="api"} )',
            PromQuery(
                "aggregation",
                metric="up",
                matchers=(Matcher("job", "api"),),
                aggregation="sum",
            ),
        ),
        ("avg(up)", PromQuery("aggregation", metric="up", aggregation="avg")),
        ("max(up)", PromQuery("aggregation", metric="up", aggregation="max")),
        ("min(up)", PromQuery("aggregation", metric="up", aggregation="min")),
        ("count(up)", PromQuery("aggregation", metric="up", aggregation="count")),
        ("42", PromQuery("number", number=42.0)),
        ("-1.5e3", PromQuery("number", number=-1500.0)),
        (".5", PromQuery("number", number=0.5)),
    ],
)
def test_promql_subset_parses(text: str, expected: PromQuery) -> None:
    assert parse_promql(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no expression found"),
        ("   ", "no expression found"),
        ("rate(up[5m])", "understands only"),
        ("sum by (job) (up)", "understands only"),
        ("sum(up) by (job)", "understands only"),
        ("sum(sum(up))", "understands only"),
        ("up + 1", "understands only"),
        ('{job="api"}', "understands only"),
        ("sum", "understands only"),
        ("histogram_quantile(0.9, x)", "understands only"),
        ('up{job=~"a.*"}', "regular expression matchers"),
        ('up{job!~"a.*"}', "regular expression matchers"),
        ('up{job="a" instance="b"}', "expected a comma"),
        ("up{job=api}", "write label="),
        ('up{job="api"', "understands only"),
    ],
)
def test_promql_outside_the_subset_is_refused(text: str, message: str) -> None:
    with pytest.raises(PromQLError, match=message):
        parse_promql(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.245, "0.245"),
        (1.0, "1"),
        (0.0, "0"),
        (2 / 3, "0.6666666666666666"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
    ],
)
def test_sample_values_are_written_as_prometheus_writes_them(
    value: float, text: str
) -> None:
    assert format_sample(value) == text


# Prometheus over HTTP ------------------------------------------------------


def values_of(body: dict[str, Any]) -> list[tuple[dict[str, str], str]]:
    return [(s["metric"], s["value"][1]) for s in body["data"]["result"]]


def test_a_bare_name_returns_every_series_with_its_labels(client: httpx.Client) -> None:
    response = promql(client, "up")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "vector"
    assert values_of(body) == [
        ({"__name__": "up", "instance": "a", "job": "api"}, "1"),
        ({"__name__": "up", "instance": "b", "job": "api"}, "1"),
        ({"__name__": "up", "instance": "c", "job": "batch"}, "0"),
    ]
    assert all(s["value"][0] == float(AT) for s in body["data"]["result"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            'http_request_duration_seconds:p95{service="api"}',
            [
                (
                    {
                        "__name__": "http_request_duration_seconds:p95",
                        "service": "api",
                    },
                    "0.245",
                )
            ],
        ),
        (
            'up{job!="api"}',
            [({"__name__": "up", "instance": "c", "job": "batch"}, "0")],
        ),
        ('up{job="none"}', []),
        ('count(up{team=""})', [({}, "3")]),
        ("sum(up)", [({}, "2")]),
        ('count(up{job="api"})', [({}, "2")]),
        ("avg(up)", [({}, "0.6666666666666666")]),
        ("max(up)", [({}, "1")]),
        ("min(up)", [({}, "0")]),
        ('sum(up{job="none"})', []),
        (
            "slo:availability:ratio30d{service='api'}",
            [({"__name__": "slo:availability:ratio30d", "service": "api"}, "0.9993")],
        ),
        (
            "job:request_error_ratio:rate5m",
            [({"__name__": "job:request_error_ratio:rate5m", "job": "batch"}, "NaN")],
        ),
        ("max(job:request_error_ratio:rate5m)", [({}, "NaN")]),
    ],
)
def test_selectors_and_aggregations_answer_from_the_series(
    client: httpx.Client, query: str, expected: list[Any]
) -> None:
    response = promql(client, query)

    assert response.status_code == 200
    assert values_of(response.json()) == expected


def test_max_and_min_skip_nan_like_prometheus() -> None:
    # No sandbox metric mixes NaN with numbers, so the rule is checked here.
    assert AGGREGATORS["max"]([math.nan, 0.5, 0.2]) == 0.5
    assert AGGREGATORS["min"]([math.nan, 0.5, 0.2]) == 0.2
    assert math.isnan(AGGREGATORS["sum"]([math.nan, 0.5]))


def test_a_number_is_a_scalar(client: httpx.Client) -> None:
    body = promql(client, "42").json()

    assert body["data"] == {"resultType": "scalar", "result": [float(AT), "42"]}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-15T12:00:00Z", 1794744000.0),
        ("2026-11-15T13:00:00.250+01:00", 1794744000.25),
        ("1794744000.1234", 1794744000.123),
    ],
)
def test_time_is_read_as_rfc3339_or_unix_seconds(
    client: httpx.Client, given: str, expected: float
) -> None:
    body = promql(client, "up", time=given).json()

    assert body["data"]["result"][0]["value"][0] == expected


def test_without_time_the_query_is_evaluated_now(client: httpx.Client) -> None:
    before = time.time()
    body = client.get(QUERY, params={"query": "42"}).json()

    assert before - 1 <= body["data"]["result"][0] <= time.time() + 1


def test_post_reads_the_query_from_a_form_body(client: httpx.Client) -> None:
    response = client.post(QUERY, data={"query": "sum(up)", "time": AT})

    assert response.status_code == 200
    assert values_of(response.json()) == [({}, "2")]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"query": "rate(up[5m])"}, "understands only"),
        ({}, "no expression found"),
        ({"query": "up", "time": "yesterday"}, 'invalid parameter "time"'),
    ],
)
def test_bad_queries_get_prometheus_bad_data_errors(
    client: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = client.get(QUERY, params=params)

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"status", "errorType", "error"}
    assert (body["status"], body["errorType"]) == ("error", "bad_data")
    assert message in body["error"]


# HogQL subset --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "SELECT count() FROM events WHERE event = 'signed_up'",
            HogQLCount("signed_up"),
        ),
        (
            "select COUNT ( ) from EVENTS where EVENT='$pageview'",
            HogQLCount("$pageview"),
        ),
        (
            "SELECT count(DISTINCT distinct_id) FROM events WHERE event = 'purchase'",
            HogQLCount("purchase", "distinct_id"),
        ),
        (
            "\n  SELECT count( distinct person_id )\n  FROM events\n"
            "  WHERE event = '$pageview'\n",
            HogQLCount("$pageview", "person_id"),
        ),
        (
            COUNT_IN_WINDOW,
            HogQLCount(
                "signed_up",
                start=datetime.fromisoformat(START),
                end=datetime.fromisoformat(END),
            ),
        ),
        (
            COUNT_IN_WINDOW.replace("{window_start}", "{ window_start }").replace(
                " AND ", "\n  and "
            ),
            HogQLCount(
                "signed_up",
                start=datetime.fromisoformat(START),
                end=datetime.fromisoformat(END),
            ),
        ),
    ],
)
def test_hogql_subset_parses(text: str, expected: HogQLCount) -> None:
    assert parse_hogql(text, WINDOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "SELECT count() FROM persons WHERE event = 'signed_up'",
        "SELECT sum(x) FROM events WHERE event = 'signed_up'",
        "SELECT count() FROM events",
        "SELECT count(DISTINCT uuid) FROM events WHERE event = 'signed_up'",
        'SELECT count() FROM events WHERE event = "signed_up"',
        "SELECT count() FROM events WHERE event = 'signed_up' LIMIT 1",
        "SELECT count() FROM events WHERE event = 'signed_up' "
        "AND timestamp >= toDateTime({window_start})",
        "SELECT count() FROM events WHERE event = 'signed_up' "
        "AND timestamp < toDateTime({window_end}) "
        "AND timestamp >= toDateTime({window_start})",
        "SELECT count() FROM events WHERE event = 'signed_up' "
        "AND timestamp >= toDateTime('2026-10-01') "
        "AND timestamp < toDateTime('2026-11-01')",
        "SELECT event, count() FROM events GROUP BY event",
    ],
)
def test_hogql_outside_the_subset_is_refused(text: str) -> None:
    with pytest.raises(HogQLError, match="understands only"):
        parse_hogql(text, WINDOW)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, r"\{window_start\} has no value"),
        ({"window_start": START}, r"\{window_end\} has no value"),
        ({**WINDOW, "window_end": "next tuesday"}, "toDateTime cannot read"),
    ],
)
def test_placeholders_need_time_values(values: dict[str, str], message: str) -> None:
    with pytest.raises(HogQLError, match=message):
        parse_hogql(COUNT_IN_WINDOW, values)


def test_a_time_without_an_offset_is_read_as_utc() -> None:
    parsed = parse_hogql(
        COUNT_IN_WINDOW,
        {"window_start": "2026-10-01T00:00:00", "window_end": "2026-11-01T00:00:00Z"},
    )

    assert parsed.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert parsed.end == datetime(2026, 11, 1, tzinfo=UTC)


# PostHog over HTTP ---------------------------------------------------------


def test_a_windowed_count_matches_the_events_in_the_window(
    client: httpx.Client, analytics: Analytics
) -> None:
    response = hogql(client, COUNT_IN_WINDOW, WINDOW)

    assert response.status_code == 200
    expected = len(in_window(analytics, "signed_up", START, END))
    assert response.json() == {
        "results": [[expected]],
        "columns": ["count()"],
        "types": [["count()", "UInt64"]],
        "hasMore": False,
    }
    assert 0 < expected < sum(e.event == "signed_up" for e in analytics.events)


def test_the_window_includes_its_start_and_excludes_its_end(
    client: httpx.Client, analytics: Analytics
) -> None:
    signups = [e for e in analytics.events if e.event == "signed_up"]
    first, second = signups[100], signups[101]
    values = {
        "window_start": first.timestamp.isoformat(),
        "window_end": second.timestamp.isoformat(),
    }

    body = hogql(client, COUNT_IN_WINDOW, values).json()

    assert first.timestamp < second.timestamp
    assert body["results"] == [[1]]


def test_distinct_counts_count_ids_or_people(
    client: httpx.Client, analytics: Analytics
) -> None:
    base = "SELECT count(DISTINCT {}) FROM events WHERE event = '$pageview'"
    pageviews = [e for e in analytics.events if e.event == "$pageview"]

    by_id = hogql(client, base.format("distinct_id")).json()
    by_person = hogql(client, base.format("person_id")).json()

    assert by_id["results"] == [[len({e.distinct_id for e in pageviews})]]
    assert by_person["results"] == [[len({e.person_id for e in pageviews})]]
    assert by_id["results"][0][0] > by_person["results"][0][0]
    assert by_person["columns"] == ["count(DISTINCT person_id)"]


def test_an_unknown_event_counts_zero(client: httpx.Client) -> None:
    query = "SELECT count() FROM events WHERE event = 'no_such_event'"

    assert hogql(client, query).json()["results"] == [[0]]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"query": {"kind": "HogQLQuery", "query": "SELECT 1"}}, "understands only"),
        ({"query": {"kind": "TrendsQuery", "series": []}}, "only HogQLQuery"),
        ({"kind": "HogQLQuery", "query": "SELECT 1"}, "only HogQLQuery"),
        (
            {"query": {"kind": "HogQLQuery", "query": COUNT_IN_WINDOW}},
            "has no value",
        ),
        (
            {"query": {"kind": "HogQLQuery", "query": 5}},
            "query must be text",
        ),
        (
            {"query": {"kind": "HogQLQuery", "query": "x", "values": [1]}},
            "values an object",
        ),
    ],
)
def test_bad_query_bodies_get_posthog_validation_errors(
    client: httpx.Client, body: dict[str, Any], detail: str
) -> None:
    response = client.post(f"{PROJECT}/query/", json=body, headers=KEY)

    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"type", "code", "detail", "attr"}
    assert (error["type"], error["code"], error["attr"]) == (
        "validation_error",
        "invalid_input",
        None,
    )
    assert detail in error["detail"]


def test_a_body_that_is_not_json_is_a_validation_error(client: httpx.Client) -> None:
    response = client.post(
        f"{PROJECT}/query/",
        content=b"SELECT count() FROM events",
        headers={**KEY, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "were not provided"),
        ({"Authorization": "Bearer phc_project_key"}, "starts with phx_"),
        ({"Authorization": "Basic cGh4X2E6Yg=="}, "starts with phx_"),
        ({"Authorization": "Bearer"}, "starts with phx_"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{PROJECT}/query/"),
        ("GET", f"{PROJECT}/insights/1/"),
        ("GET", f"{PROJECT}/insights/"),
    ],
)
def test_posthog_needs_a_personal_api_key(
    client: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    detail: str,
) -> None:
    body = {"query": {"kind": "HogQLQuery", "query": "x"}}
    response = client.request(
        method, path, headers=headers, json=body if method == "POST" else None
    )

    assert response.status_code == 401
    error = response.json()
    assert (error["type"], error["code"]) == (
        "authentication_error",
        "not_authenticated",
    )
    assert detail in error["detail"]
    assert "phc_project_key" not in error["detail"]


def test_another_project_is_not_found(client: httpx.Client) -> None:
    response = client.get("/posthog/api/projects/7/insights/1/", headers=KEY)

    assert response.status_code == 404
    error = response.json()
    assert (error["type"], error["code"]) == ("invalid_request", "not_found")
    assert str(POSTHOG_PROJECT_ID) in error["detail"]


def test_the_number_insight_totals_q4_signups(
    client: httpx.Client, analytics: Analytics
) -> None:
    response = client.get(f"{PROJECT}/insights/1/", headers=KEY)

    assert response.status_code == 200
    insight = response.json()
    [series] = insight["result"]
    q4 = [
        e
        for e in analytics.events
        if e.event == "signed_up"
        and date(2026, 10, 1) <= e.timestamp.date() <= date(2026, 12, 31)
    ]
    assert series["aggregated_value"] == len(q4)
    assert (series["count"], series["data"]) == (0, [])
    assert len(series["days"]) == 92
    assert insight["query"]["source"]["kind"] == "TrendsQuery"
    assert insight["query"]["source"]["trendsFilter"]["display"] == "BoldNumber"


def test_the_line_insight_counts_each_series_per_day(
    client: httpx.Client, analytics: Analytics
) -> None:
    insight = client.get(f"{PROJECT}/insights/2/", headers=KEY).json()

    pageviews, purchases = insight["result"]
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(14)]
    for series, event in ((pageviews, "$pageview"), (purchases, "purchase")):
        expected = [
            sum(
                e.event == event and e.timestamp.date() == day for e in analytics.events
            )
            for day in days
        ]
        assert series["label"] == event
        assert series["data"] == expected
        assert series["count"] == sum(expected)
        assert series["days"] == [d.isoformat() for d in days]
        assert "aggregated_value" not in series
    assert pageviews["labels"][0] == "1-Nov-2026"


def test_insights_have_the_recorded_shape(client: httpx.Client) -> None:
    recorded = [
        json.loads((RECORDED_POSTHOG / name).read_text(encoding="utf-8"))
        for name in ("insight.trends-number.json", "insight.trends-line.json")
    ]
    known_keys = set().union(*(set(r) for r in recorded))
    known_series_keys = set().union(*(set(r["result"][0]) for r in recorded))

    for number in (1, 2):
        insight = client.get(f"{PROJECT}/insights/{number}/", headers=KEY).json()
        assert set(insight) <= known_keys
        assert all(set(s) <= known_series_keys for s in insight["result"])
        assert isinstance(insight["id"], int)
        assert isinstance(insight["short_id"], str)


def test_the_list_filters_by_short_id(
    client: httpx.Client, analytics: Analytics
) -> None:
    wanted = analytics.insights[1].short_id

    found = client.get(
        f"{PROJECT}/insights/", params={"short_id": wanted}, headers=KEY
    ).json()
    everything = client.get(f"{PROJECT}/insights/", headers=KEY).json()
    nothing = client.get(
        f"{PROJECT}/insights/", params={"short_id": "nope"}, headers=KEY
    ).json()

    assert found["count"] == 1
    assert [i["short_id"] for i in found["results"]] == [wanted]
    assert [i["id"] for i in everything["results"]] == [1, 2]
    assert (nothing["count"], nothing["results"]) == (0, [])
    assert found["next"] is None


@pytest.mark.parametrize("insight", ["99", "abc"])
def test_an_unknown_insight_is_not_found(client: httpx.Client, insight: str) -> None:
    response = client.get(f"{PROJECT}/insights/{insight}/", headers=KEY)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# The PostHog connector against the sandbox ---------------------------------


def posthog(sandbox: SandboxServer) -> PostHogConnector:
    config = PostHogConfig.model_validate(
        {
            "type": "posthog",
            "url": f"{sandbox.url}/posthog",
            "project_id": POSTHOG_PROJECT_ID,
            "token": "phx_sandbox_test",
        }
    )
    return PostHogConnector("posthog", config)


async def test_the_connector_reads_a_windowed_count(
    sandbox: SandboxServer, analytics: Analytics
) -> None:
    window = Window(datetime.fromisoformat(START), datetime.fromisoformat(END))
    request = FetchRequest("hogql", COUNT_IN_WINDOW, NoParams(), window)

    async with posthog(sandbox) as connector:
        reading = await connector.fetch(request)

    assert reading.value == len(in_window(analytics, "signed_up", START, END))


async def test_the_connector_reads_an_insight_by_short_id(
    sandbox: SandboxServer, analytics: Analytics
) -> None:
    params = InsightParams(insight=analytics.insights[1].short_id, series=1)
    request = FetchRequest("insight", None, params)

    async with posthog(sandbox) as connector:
        reading = await connector.fetch(request)

    last_day = date(2026, 11, 14)
    assert reading.value == sum(
        e.event == "purchase" and e.timestamp.date() == last_day
        for e in analytics.events
    )
    assert reading.evidence.summary["day"] == last_day.isoformat()


# The metrics API -----------------------------------------------------------


def test_kpis_come_from_the_seeded_snapshot(
    client: httpx.Client, analytics: Analytics
) -> None:
    response = client.get("/metrics-api/v1/kpis")

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {
        "signups": {
            "week": analytics.kpis.signups_week,
            "quarter": analytics.kpis.signups_quarter,
        },
        "nps": analytics.kpis.nps,
    }
    assert datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("filters", "wanted"),
    [
        ({"status": "open"}, lambda i: i.status == "open"),
        ({"status": "resolved"}, lambda i: i.status == "resolved"),
        (
            {"status": "resolved", "severity": ["sev1", "sev2"]},
            lambda i: i.status == "resolved" and i.severity in ("sev1", "sev2"),
        ),
        ({"service": "nowhere"}, lambda i: False),
        ({}, lambda i: True),
    ],
)
def test_incident_search_applies_every_filter(
    client: httpx.Client,
    analytics: Analytics,
    filters: dict[str, Any],
    wanted: Any,
) -> None:
    response = client.post("/metrics-api/v1/incidents/search", json=filters)

    assert response.status_code == 200
    body = response.json()
    expected = [i.id for i in analytics.incidents if wanted(i)]
    assert [item["id"] for item in body["items"]] == expected
    assert body["total"] == len(expected)


def test_open_incidents_have_no_resolution_time(client: httpx.Client) -> None:
    body = client.post(
        "/metrics-api/v1/incidents/search", json={"status": "open"}
    ).json()

    assert body["items"]
    assert all(item["resolved_at"] is None for item in body["items"])
    assert all(item["opened_at"].endswith("Z") for item in body["items"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"state": "open"}', "Unknown filter 'state'"),
        (b'["open"]', "JSON object"),
        (b"status=open", "not JSON"),
    ],
)
def test_bad_incident_searches_are_refused(
    client: httpx.Client, content: bytes, message: str
) -> None:
    response = client.post(
        "/metrics-api/v1/incidents/search",
        content=content,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_every_analytics_request_is_logged(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    promql(client, "up")
    client.get("/metrics-api/v1/kpis")
    hogql(client, "SELECT count() FROM events WHERE event = 'purchase'")

    assert sandbox.log.count("/prometheus") == 1
    assert sandbox.log.count("/metrics-api") == 1
    assert sandbox.log.count("/posthog") == 1
