"""The sandbox's analytics upstreams: Prometheus, PostHog and a plain JSON API.

Three more upstreams share the sandbox's port:

================  =========================================================
`/prometheus`     Prometheus instant queries (`/api/v1/query`), on a small
                  fixed set of series and a PromQL subset
`/posthog`        PostHog's query API (a HogQL subset: event counts in a
                  time window) and saved trends insights, on made-up events
`/metrics-api`    An in-house JSON metrics API: KPIs and incident search
================  =========================================================

`build_analytics(seed)` makes the data; the same seed always gives the same
events, KPIs and incidents. `mount_analytics` adds the routes to a sandbox app
and keeps the data in `app.state.analytics`, where tests read it to compute
expected values with plain Python.

The query languages are deliberately tiny. PromQL: a metric name, a selector
with `=` / `!=` matchers, `sum`, `avg`, `max`, `min` or `count` of one
selector, or a number. HogQL: `SELECT count()` (or `count(DISTINCT
distinct_id)`, `count(DISTINCT person_id)`) `FROM events WHERE event = '...'`,
optionally within `timestamp >= toDateTime({a}) AND timestamp <
toDateTime({b})`. Anything else is refused with the upstream's error body.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

PROMETHEUS_PREFIX = "/prometheus"
POSTHOG_PREFIX = "/posthog"
METRICS_PREFIX = "/metrics-api"
ANALYTICS_UPSTREAMS = {
    "prometheus": PROMETHEUS_PREFIX,
    "posthog": POSTHOG_PREFIX,
    "metrics-api": METRICS_PREFIX,
}
"""Where each analytics upstream is mounted, by name."""

POSTHOG_PROJECT_ID = 1001
"""The one PostHog project the sandbox serves."""

POSTHOG_KEY_PREFIX = "phx_"
"""Any bearer token with this prefix is accepted as a personal API key."""

EVENTS_FIRST_DAY = date(2026, 9, 1)
EVENTS_LAST_DAY = date(2026, 12, 31)
"""Every made-up PostHog event falls on one of these days (UTC), both included."""

EXISTING_USERS = 300
"""People who signed up before the events begin, so day one has visitors."""

DAILY_MEANS: dict[str, tuple[float, float]] = {
    "signed_up": (12.0, 24.0),
    "$pageview": (30.0, 48.0),
    "purchase": (4.0, 9.0),
}
"""Events per day on the first and the last day; growth is linear between."""

ANONYMOUS_SHARE = 0.4
"""Share of people who also browse under an anonymous distinct id."""

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


# Prometheus data -----------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One Prometheus time series; its value is the same at every instant."""

    labels: tuple[tuple[str, str], ...]
    value: float

    @property
    def label_map(self) -> dict[str, str]:
        """The labels, `__name__` included, as a dict."""
        return dict(self.labels)


def series(name: str, value: float, **labels: str) -> Series:
    """A series named `name` with `labels`, in the order Prometheus shows them."""
    pairs = (("__name__", name), *sorted(labels.items()))
    return Series(pairs, value)


PROMETHEUS_SERIES: tuple[Series, ...] = (
    series("http_request_duration_seconds:p95", 0.245, service="api"),
    series("http_request_duration_seconds:p95", 0.410, service="web"),
    series("up", 1, job="api", instance="a"),
    series("up", 1, job="api", instance="b"),
    series("up", 0, job="batch", instance="c"),
    series("slo:availability:ratio30d", 0.9993, service="api"),
    series("slo:availability:ratio30d", 0.9971, service="web"),
    # No requests in the window: 0 errors / 0 requests.
    series("job:request_error_ratio:rate5m", math.nan, job="batch"),
)


# PostHog data --------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone PostHog knows, under one or more distinct ids."""

    id: str
    distinct_ids: tuple[str, ...]

    @property
    def user_id(self) -> str:
        """The distinct id the person has once identified (the first one)."""
        return self.distinct_ids[0]


@dataclass(frozen=True)
class AnalyticsEvent:
    """One captured PostHog event."""

    uuid: str
    event: str
    distinct_id: str
    person_id: str
    timestamp: datetime


@dataclass(frozen=True)
class SavedInsight:
    """A saved trends insight over a fixed date range (UTC days)."""

    id: int
    short_id: str
    name: str
    display: Literal["BoldNumber", "ActionsLineGraph"]
    events: tuple[str, ...]
    date_from: date
    date_to: date

    @property
    def days(self) -> list[date]:
        """Every day of the range, both ends included."""
        count = (self.date_to - self.date_from).days + 1
        return [self.date_from + timedelta(days=n) for n in range(count)]


POSTHOG_INSIGHTS: tuple[SavedInsight, ...] = (
    SavedInsight(
        1,
        "Q4sgnUps",
        "Signups in Q4",
        "BoldNumber",
        ("signed_up",),
        date(2026, 10, 1),
        date(2026, 12, 31),
    ),
    SavedInsight(
        2,
        "dLyTrf2x",
        "Daily pageviews and purchases",
        "ActionsLineGraph",
        ("$pageview", "purchase"),
        date(2026, 11, 1),
        date(2026, 11, 14),
    ),
)


# Metrics API data ----------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    """An incident of the in-house incident tracker."""

    id: str
    title: str
    service: str
    severity: str
    status: Literal["open", "resolved"]
    opened_at: datetime
    resolved_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """The incident as the metrics API shows it."""
        return {
            "id": self.id,
            "title": self.title,
            "service": self.service,
            "severity": self.severity,
            "status": self.status,
            "opened_at": iso_time(self.opened_at),
            "resolved_at": iso_time(self.resolved_at) if self.resolved_at else None,
        }


INCIDENT_SERVICES = ("api", "web", "payments", "search")
INCIDENT_SYMPTOMS = (
    "elevated error rate",
    "slow responses",
    "failed deploy",
    "certificate expiry warning",
    "queue backlog",
    "disk filling up",
)
INCIDENT_FILTERS = ("status", "severity", "service")


@dataclass(frozen=True)
class Kpis:
    """The KPI snapshot of the metrics API."""

    signups_week: int
    signups_quarter: int
    nps: float

    def as_json(self) -> dict[str, Any]:
        """The snapshot as `/v1/kpis` shows it under `data`."""
        return {
            "signups": {"week": self.signups_week, "quarter": self.signups_quarter},
            "nps": self.nps,
        }


@dataclass(frozen=True)
class Analytics:
    """All analytics data one sandbox serves; shared, so never changed."""

    seed: int
    series: tuple[Series, ...]
    persons: tuple[Person, ...]
    events: tuple[AnalyticsEvent, ...]
    insights: tuple[SavedInsight, ...]
    kpis: Kpis
    incidents: tuple[Incident, ...]
    project_id: int = POSTHOG_PROJECT_ID

    def insight(self, key: int | str) -> SavedInsight | None:
        """The saved insight with this numeric id or short id, or None."""
        return next(
            (i for i in self.insights if key in (i.id, i.short_id)),
            None,
        )


# Building the data ---------------------------------------------------------


@functools.cache
def build_analytics(seed: int = 7) -> Analytics:
    """Make the analytics data for a seed; nothing here does I/O.

    The data is immutable, so it is made once per seed and shared by every
    sandbox app (making the events takes a tenth of a second).

    Args:
        seed: The same seed always gives the same data.

    Returns:
        Prometheus series, PostHog people and events, saved insights, KPIs
        and incidents.
    """
    rng = random.Random(f"okrsync-analytics-{seed}")
    persons, events = _make_events(rng)
    return Analytics(
        seed=seed,
        series=PROMETHEUS_SERIES,
        persons=tuple(persons),
        events=tuple(events),
        insights=POSTHOG_INSIGHTS,
        kpis=_make_kpis(rng),
        incidents=tuple(_make_incidents(rng)),
    )


def _make_events(rng: random.Random) -> tuple[list[Person], list[AnalyticsEvent]]:
    persons = [_new_person(rng) for _ in range(EXISTING_USERS)]
    events: list[AnalyticsEvent] = []
    span = (EVENTS_LAST_DAY - EVENTS_FIRST_DAY).days
    for offset in range(span + 1):
        day = EVENTS_FIRST_DAY + timedelta(days=offset)
        events += _events_of_day(rng, day, offset / span, persons)
    events.sort(key=lambda e: (e.timestamp, e.uuid))
    return persons, events


def _events_of_day(
    rng: random.Random, day: date, share: float, persons: list[Person]
) -> list[AnalyticsEvent]:
    """One day's events, `share` of the way through; adds who signs up."""
    # Visitors of a day are the people known when it starts.
    known = list(persons)
    events = []
    for name, (first, last) in DAILY_MEANS.items():
        mean = first + (last - first) * share
        for _ in range(_daily_count(rng, mean)):
            moment = _moment_in(rng, day)
            if name == "signed_up":
                person = _new_person(rng)
                persons.append(person)
                distinct_id = person.user_id
            else:
                person = rng.choice(known)
                # Only browsing happens before people identify themselves.
                distinct_id = (
                    rng.choice(person.distinct_ids)
                    if name == "$pageview"
                    else person.user_id
                )
            events.append(_event(rng, name, distinct_id, person, moment))
    return events


def _new_person(rng: random.Random) -> Person:
    person_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    user = f"user-{rng.getrandbits(32):08x}"
    if rng.random() < ANONYMOUS_SHARE:
        return Person(person_id, (user, f"anon-{rng.getrandbits(48):012x}"))
    return Person(person_id, (user,))


def _event(
    rng: random.Random, name: str, distinct_id: str, person: Person, at: datetime
) -> AnalyticsEvent:
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return AnalyticsEvent(event_id, name, distinct_id, person.id, at)


def _daily_count(rng: random.Random, mean: float) -> int:
    """A Poisson-like count: the mean with a spread of its square root."""
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def _moment_in(rng: random.Random, day: date) -> datetime:
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight + timedelta(microseconds=rng.randrange(86_400 * 1_000_000))


def _make_kpis(rng: random.Random) -> Kpis:
    return Kpis(
        signups_week=rng.randint(350, 480),
        signups_quarter=rng.randint(4800, 5600),
        nps=round(rng.uniform(36.0, 46.0), 1),
    )


def _make_incidents(rng: random.Random) -> list[Incident]:
    # A fixed quota of open incidents, so "open" always matches a few.
    count = 14
    open_count = rng.randint(3, 6)
    statuses = ["open"] * open_count + ["resolved"] * (count - open_count)
    rng.shuffle(statuses)
    first = datetime(2026, 10, 1, tzinfo=UTC)
    incidents = []
    for number, status in enumerate(statuses, start=101):
        opened = first + timedelta(minutes=rng.randrange(57 * 24 * 60))
        resolved = (
            opened + timedelta(minutes=rng.randrange(20, 48 * 60))
            if status == "resolved"
            else None
        )
        service = rng.choice(INCIDENT_SERVICES)
        incidents.append(
            Incident(
                id=f"INC-{number}",
                title=f"{service}: {rng.choice(INCIDENT_SYMPTOMS)}",
                service=service,
                severity=rng.choices(("sev1", "sev2", "sev3"), (1, 3, 6))[0],
                status="open" if status == "open" else "resolved",
                opened_at=opened,
                resolved_at=resolved,
            )
        )
    return incidents


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, e.g. 2026-10-05T09:12:33Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# PromQL subset -------------------------------------------------------------


class PromQLError(ValueError):
    """A query outside the sandbox's PromQL subset, or not PromQL at all."""


AGGREGATIONS = ("sum", "avg", "max", "min", "count")
METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SELECTOR_RE = re.compile(
    rf"(?P<name>{METRIC_NAME})\s*(?:\{{(?P<matchers>.*)\}})?", re.S
)
AGGREGATION_RE = re.compile(
    rf"(?P<op>{'|'.join(AGGREGATIONS)})\s*\((?P<inner>.*)\)", re.S | re.I
)
NUMBER_RE = re.compile(r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|nan)", re.I)
MATCHER_RE = re.compile(
    r"\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>!=|=~|!~|=)\s*"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*(?P<comma>,?)",
    re.S,
)
STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
PROMQL_SUBSET = (
    "the okrsync sandbox understands only a metric name, a selector with = and "
    "!= matchers, sum/avg/max/min/count of one selector, or a number"
)


@dataclass(frozen=True)
class Matcher:
    """One label matcher: `label="value"` or `label!="value"`."""

    label: str
    value: str
    negated: bool = False

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a series' labels pass; a missing label reads as ""."""
        equal = labels.get(self.label, "") == self.value
        return not equal if self.negated else equal


@dataclass(frozen=True)
class PromQuery:
    """A parsed query: a number, a selector, or an aggregation of a selector."""

    kind: Literal["number", "selector", "aggregation"]
    number: float = 0.0
    metric: str = ""
    matchers: tuple[Matcher, ...] = ()
    aggregation: str = ""

    def selects(self, labels: dict[str, str]) -> bool:
        """Whether the selector picks a series with these labels."""
        if labels.get("__name__") != self.metric:
            return False
        return all(matcher.matches(labels) for matcher in self.matchers)


def parse_promql(text: str) -> PromQuery:
    """Parse a query of the sandbox's PromQL subset.

    Raises:
        PromQLError: The query is empty, malformed or outside the subset.
    """
    text = text.strip()
    if not text:
        raise PromQLError("parse error: no expression found in input")
    if NUMBER_RE.fullmatch(text):
        return PromQuery("number", number=float(text))
    aggregation = AGGREGATION_RE.fullmatch(text)
    if aggregation is not None:
        inner = _parse_selector(aggregation.group("inner").strip(), text)
        op = aggregation.group("op").lower()
        return PromQuery(
            "aggregation",
            metric=inner.metric,
            matchers=inner.matchers,
            aggregation=op,
        )
    return _parse_selector(text, text)


def _parse_selector(text: str, whole: str) -> PromQuery:
    match = SELECTOR_RE.fullmatch(text)
    if match is None or match.group("name").lower() in AGGREGATIONS:
        raise PromQLError(f"parse error: {PROMQL_SUBSET}; got {whole!r}")
    matchers = _parse_matchers(match.group("matchers") or "", whole)
    return PromQuery("selector", metric=match.group("name"), matchers=matchers)


def _parse_matchers(text: str, whole: str) -> tuple[Matcher, ...]:
    matchers: list[Matcher] = []
    position = 0
    while text[position:].strip():
        match = MATCHER_RE.match(text, position)
        if match is None:
            raise PromQLError(
                f"parse error: unexpected {text[position:].strip()[:20]!r} in "
                f'the label matchers of {whole!r}; write label="value"'
            )
        if match.group("op") in ("=~", "!~"):
            raise PromQLError(
                f"parse error: regular expression matchers ({match.group('op')}) "
                f"are not supported here; {PROMQL_SUBSET}"
            )
        value = _unquote(match.group("value"))
        matchers.append(Matcher(match.group("label"), value, match.group("op") == "!="))
        position = match.end()
        if not match.group("comma") and text[position:].strip():
            raise PromQLError(
                f"parse error: expected a comma between the label matchers of {whole!r}"
            )
    return tuple(matchers)


def _unquote(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", lambda m: STRING_ESCAPES.get(m.group(1), m.group(1)), body)


def evaluate_promql(
    query: PromQuery, data: Iterable[Series], at: float
) -> tuple[str, Any]:
    """The `resultType` and `result` of an instant query at unix time `at`."""
    at = round(at, 3)
    if query.kind == "number":
        return "scalar", [at, format_sample(query.number)]

    chosen = [s for s in data if query.selects(s.label_map)]
    if query.kind == "selector":
        return "vector", [
            {"metric": s.label_map, "value": [at, format_sample(s.value)]}
            for s in chosen
        ]
    if not chosen:
        return "vector", []
    value = AGGREGATORS[query.aggregation]([s.value for s in chosen])
    return "vector", [{"metric": {}, "value": [at, format_sample(value)]}]


def _extreme(pick: Callable[[float, float], bool]) -> Callable[[list[float]], float]:
    """max or min as Prometheus computes them: NaN loses to any number."""

    def aggregate(values: list[float]) -> float:
        best = values[0]
        for value in values[1:]:
            if math.isnan(best) or pick(value, best):
                best = value
        return best

    return aggregate


AGGREGATORS: dict[str, Callable[[list[float]], float]] = {
    "sum": lambda values: math.fsum(values),
    "avg": lambda values: math.fsum(values) / len(values),
    "max": _extreme(lambda value, best: value > best),
    "min": _extreme(lambda value, best: value < best),
    "count": lambda values: float(len(values)),
}


def format_sample(value: float) -> str:
    """A value as Prometheus writes it: shortest digits, "NaN", "+Inf"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text.removesuffix(".0")


def parse_eval_time(text: str) -> float:
    """A `time` parameter: unix seconds or RFC 3339.

    Raises:
        PromQLError: It is neither.
    """
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PromQLError(
            f'invalid parameter "time": cannot parse "{text}" to a valid timestamp'
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# HogQL subset --------------------------------------------------------------


class HogQLError(ValueError):
    """A query outside the sandbox's HogQL subset, or missing its values."""


HOGQL_RE = re.compile(
    r"""
    \s* select \s+ count \s* \( \s*
        (?: distinct \s+ (?P<column> distinct_id | person_id ) \s* )?
    \) \s+ from \s+ events \s+
    where \s+ event \s* = \s* '(?P<event>[^'\\]*)'
    (?:
        \s+ and \s+ timestamp \s* >= \s*
        toDateTime \s* \( \s* (?P<start>\{[^{}]*\}) \s* \)
        \s+ and \s+ timestamp \s* < \s*
        toDateTime \s* \( \s* (?P<end>\{[^{}]*\}) \s* \)
    )? \s*
    """,
    re.I | re.X,
)
PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HOGQL_SUBSET = (
    "The okrsync sandbox understands only SELECT count() (or count(DISTINCT "
    "distinct_id), count(DISTINCT person_id)) FROM events WHERE event = "
    "'<name>', optionally followed by AND timestamp >= toDateTime({start}) AND "
    "timestamp < toDateTime({end})."
)


@dataclass(frozen=True)
class HogQLCount:
    """A parsed count query: which events, counted how, in which window."""

    event: str
    distinct: Literal["distinct_id", "person_id"] | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def column(self) -> str:
        """The result column's name."""
        if self.distinct is None:
            return "count()"
        return f"count(DISTINCT {self.distinct})"

    def count(self, events: Iterable[AnalyticsEvent]) -> int:
        """The answer over a list of events."""
        chosen = [
            e
            for e in events
            if e.event == self.event
            and (self.start is None or e.timestamp >= self.start)
            and (self.end is None or e.timestamp < self.end)
        ]
        if self.distinct == "distinct_id":
            return len({e.distinct_id for e in chosen})
        if self.distinct == "person_id":
            return len({e.person_id for e in chosen})
        return len(chosen)


def parse_hogql(text: str, values: dict[str, Any] | None = None) -> HogQLCount:
    """Parse a query of the sandbox's HogQL subset, placeholders resolved.

    Args:
        text: The HogQL query.
        values: Placeholder values, as the query API's `values` carries them.

    Raises:
        HogQLError: The query is outside the subset, or a placeholder has no
            value or a value that is not a time.
    """
    match = HOGQL_RE.fullmatch(text)
    if match is None:
        raise HogQLError(HOGQL_SUBSET)
    column = match.group("column")
    distinct: Literal["distinct_id", "person_id"] | None = None
    if column is not None:
        distinct = "distinct_id" if column.lower() == "distinct_id" else "person_id"
    start = end = None
    if match.group("start") is not None:
        start = _placeholder_time(match.group("start"), values or {})
        end = _placeholder_time(match.group("end"), values or {})
    return HogQLCount(match.group("event"), distinct, start, end)


def _placeholder_time(placeholder: str, values: dict[str, Any]) -> datetime:
    name = placeholder[1:-1].strip()
    if not PLACEHOLDER_NAME.fullmatch(name):
        raise HogQLError(f"Placeholder {placeholder} is not a valid name.")
    if name not in values:
        raise HogQLError(
            f"Placeholder {{{name}}} has no value; send it in the query's values."
        )
    value = values[name]
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise HogQLError(
            f"Placeholder {{{name}}} is {value!r}, which toDateTime cannot read; "
            "send an ISO 8601 time."
        ) from None
    # The sandbox project's time zone is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Shared helpers ------------------------------------------------------------


def analytics_of(app: Any) -> Analytics:
    """The data a sandbox app (or a request's app) serves.

    Raises:
        RuntimeError: The analytics upstreams are not mounted on the app.
    """
    data = getattr(app.state, "analytics", None)
    if not isinstance(data, Analytics):
        raise RuntimeError(
            "The analytics upstreams are not mounted; call mount_analytics(app)."
        )
    return data


def _data(request: Request) -> Analytics:
    return analytics_of(request.app)


async def _json_body(request: Request) -> Any:
    """The decoded JSON body; raises ValueError when there is none."""
    return json.loads(await request.body())


# Prometheus routes ---------------------------------------------------------


def prometheus_error(message: str) -> JSONResponse:
    """Prometheus's error envelope for a query it cannot parse (400)."""
    body = {"status": "error", "errorType": "bad_data", "error": message}
    return JSONResponse(body, status_code=400)


async def _prometheus_params(request: Request) -> dict[str, str]:
    """Query parameters, plus a form body's for POST, as Prometheus reads them."""
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        body = (await request.body()).decode("utf-8", errors="replace")
        params.update(parse_qsl(body, keep_blank_values=True))
    return params


async def prometheus_query(request: Request) -> Response:
    """`GET|POST /api/v1/query`: an instant query."""
    params = await _prometheus_params(request)
    try:
        at = parse_eval_time(params["time"]) if "time" in params else time.time()
        query = parse_promql(params.get("query", ""))
    except PromQLError as error:
        return prometheus_error(str(error))

    result_type, result = evaluate_promql(query, _data(request).series, at)
    body = {"status": "success", "data": {"resultType": result_type, "result": result}}
    return JSONResponse(body)


def prometheus_router() -> APIRouter:
    """Prometheus's HTTP API under `/prometheus`."""
    router = APIRouter(prefix=PROMETHEUS_PREFIX)
    router.add_api_route("/api/v1/query", prometheus_query, methods=["GET", "POST"])
    return router


# PostHog routes ------------------------------------------------------------


def posthog_error(status: int, kind: str, code: str, detail: str) -> JSONResponse:
    """PostHog's (Django REST framework's) error body."""
    body = {"type": kind, "code": code, "detail": detail, "attr": None}
    return JSONResponse(body, status_code=status)


def _posthog_refusal(request: Request, project_id: str) -> Response | None:
    """401 without a personal API key, 404 for another project; else None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return posthog_error(
            401,
            "authentication_error",
            "not_authenticated",
            "Authentication credentials were not provided.",
        )
    if scheme.lower() != "bearer" or not token.strip().startswith(POSTHOG_KEY_PREFIX):
        return posthog_error(
            401,
            "authentication_error",
            "not_authenticated",
            "The personal API key was refused; the sandbox accepts any Bearer "
            f"token that starts with {POSTHOG_KEY_PREFIX}.",
        )
    served = _data(request).project_id
    if project_id != str(served):
        return posthog_error(
            404,
            "invalid_request",
            "not_found",
            f"Project {project_id} was not found; the sandbox serves project {served}.",
        )
    return None


def _invalid(detail: str) -> JSONResponse:
    return posthog_error(400, "validation_error", "invalid_input", detail)


async def posthog_query(request: Request, project_id: str) -> Response:
    """`POST /api/projects/{project_id}/query/`: a HogQL count."""
    refusal = _posthog_refusal(request, project_id)
    if refusal is not None:
        return refusal
    try:
        payload = await _json_body(request)
    except (ValueError, UnicodeDecodeError):
        return _invalid('The request body is not JSON; send {"query": {...}}.')
    node = payload.get("query") if isinstance(payload, dict) else None
    if not isinstance(node, dict) or node.get("kind") != "HogQLQuery":
        return _invalid(
            "The sandbox answers only HogQLQuery nodes: send "
            '{"query": {"kind": "HogQLQuery", "query": "..."}}.'
        )
    text, values = node.get("query"), node.get("values")
    if not isinstance(text, str) or not isinstance(values, dict | None):
        return _invalid("query must be text and values an object of placeholders.")

    try:
        parsed = parse_hogql(text, values)
    except HogQLError as error:
        return _invalid(str(error))
    count = parsed.count(_data(request).events)
    return JSONResponse(
        {
            "results": [[count]],
            "columns": [parsed.column],
            "types": [[parsed.column, "UInt64"]],
            "hasMore": False,
        }
    )


def _day_label(day: date) -> str:
    return f"{day.day}-{MONTHS[day.month - 1]}-{day.year}"


def _action_json(event: str, order: int) -> dict[str, Any]:
    return {
        "id": event,
        "type": "events",
        "order": order,
        "name": event,
        "custom_name": None,
        "math": None,
        "math_property": None,
        "math_group_type_index": None,
        "properties": {},
    }


def _series_json(
    insight: SavedInsight, event: str, order: int, events: Sequence[AnalyticsEvent]
) -> dict[str, Any]:
    """One series of a trends result, counted per UTC day."""
    days = insight.days
    per_day = dict.fromkeys(days, 0)
    for e in events:
        day = e.timestamp.astimezone(UTC).date()
        if e.event == event and day in per_day:
            per_day[day] += 1
    body: dict[str, Any] = {
        "action": _action_json(event, order),
        "label": event,
        "days": [d.isoformat() for d in days],
        "labels": [_day_label(d) for d in days],
        "filter": {
            "date_from": insight.date_from.isoformat(),
            "date_to": insight.date_to.isoformat(),
            "display": insight.display,
            "insight": "TRENDS",
            "interval": "day",
        },
    }
    if insight.display == "BoldNumber":
        # Aggregated displays carry the range's total and no points.
        body.update(count=0, data=[], aggregated_value=sum(per_day.values()))
    else:
        points = list(per_day.values())
        body.update(count=sum(points), data=points)
    return body


def insight_json(insight: SavedInsight, data: Analytics) -> dict[str, Any]:
    """A saved trends insight with its result computed from the events."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    creator = {
        "id": 1,
        "uuid": "0190f1c2-0000-7000-8000-000000000001",
        "distinct_id": "sandbox-analyst",
        "first_name": "Sandbox Analyst",
        "email": "analyst@example.com",
    }
    created = "2026-09-01T08:00:00Z"
    return {
        "id": insight.id,
        "short_id": insight.short_id,
        "name": insight.name,
        "derived_name": f"{' & '.join(insight.events)} count",
        "filters": {},
        "order": None,
        "deleted": False,
        "dashboards": [],
        "last_refresh": now,
        "refreshing": False,
        "result": [
            _series_json(insight, event, order, data.events)
            for order, event in enumerate(insight.events)
        ],
        "created_at": created,
        "created_by": creator,
        "description": "",
        "updated_at": created,
        "favorited": False,
        "saved": True,
        "last_modified_at": created,
        "last_modified_by": creator,
        "is_sample": False,
        "timezone": "UTC",
        "tags": [],
        "query": {
            "kind": "InsightVizNode",
            "source": {
                "kind": "TrendsQuery",
                "dateRange": {
                    "date_from": insight.date_from.isoformat(),
                    "date_to": insight.date_to.isoformat(),
                },
                "interval": "day",
                "series": [
                    {"kind": "EventsNode", "event": event, "name": event}
                    for event in insight.events
                ],
                "trendsFilter": {"display": insight.display},
                "filterTestAccounts": False,
                "version": 2,
            },
            "full": True,
        },
    }


async def posthog_insight(
    request: Request, project_id: str, insight_id: str
) -> Response:
    """`GET /api/projects/{project_id}/insights/{insight_id}/`."""
    refusal = _posthog_refusal(request, project_id)
    if refusal is not None:
        return refusal
    data = _data(request)
    found = data.insight(int(insight_id)) if insight_id.isdigit() else None
    if found is None:
        return posthog_error(
            404,
            "invalid_request",
            "not_found",
            f"Insight {insight_id} was not found; the sandbox has insights "
            f"{', '.join(str(i.id) for i in data.insights)}.",
        )
    return JSONResponse(insight_json(found, data))


async def posthog_insights(request: Request, project_id: str) -> Response:
    """`GET /api/projects/{project_id}/insights/`, filtered by `short_id`."""
    refusal = _posthog_refusal(request, project_id)
    if refusal is not None:
        return refusal
    data = _data(request)
    short_id = request.query_params.get("short_id")
    chosen = [i for i in data.insights if short_id in (None, i.short_id)]
    return JSONResponse(
        {
            "count": len(chosen),
            "next": None,
            "previous": None,
            "results": [insight_json(i, data) for i in chosen],
        }
    )


def posthog_router() -> APIRouter:
    """PostHog's private API under `/posthog`."""
    router = APIRouter(prefix=f"{POSTHOG_PREFIX}/api/projects/{{project_id}}")
    router.add_api_route("/query/", posthog_query, methods=["POST"])
    router.add_api_route("/insights/", posthog_insights, methods=["GET"])
    router.add_api_route("/insights/{insight_id}/", posthog_insight, methods=["GET"])
    return router


# Metrics API routes --------------------------------------------------------


def metrics_error(status: int, message: str) -> JSONResponse:
    """The in-house API's error body."""
    return JSONResponse({"error": message}, status_code=status)


async def metrics_kpis(request: Request) -> Response:
    """`GET /v1/kpis`: the current KPI snapshot."""
    generated = iso_time(datetime.now(UTC))
    body = {"data": _data(request).kpis.as_json(), "generated_at": generated}
    return JSONResponse(body)


async def metrics_incident_search(request: Request) -> Response:
    """`POST /v1/incidents/search`: incidents matching every filter given."""
    try:
        filters = await _json_body(request)
    except (ValueError, UnicodeDecodeError):
        return metrics_error(400, 'The body is not JSON; send e.g. {"status": "open"}.')
    if not isinstance(filters, dict):
        return metrics_error(400, "The body must be a JSON object of filters.")
    unknown = sorted(set(filters) - set(INCIDENT_FILTERS))
    if unknown:
        return metrics_error(
            400,
            f"Unknown filter {unknown[0]!r}; filter by {', '.join(INCIDENT_FILTERS)}.",
        )

    def wanted(incident: Incident) -> bool:
        fields = incident.as_json()
        for name, allowed in filters.items():
            options = allowed if isinstance(allowed, list) else [allowed]
            if fields[name] not in options:
                return False
        return True

    items = [i.as_json() for i in _data(request).incidents if wanted(i)]
    return JSONResponse({"items": items, "total": len(items)})


def metrics_router() -> APIRouter:
    """The in-house metrics API under `/metrics-api`."""
    router = APIRouter(prefix=f"{METRICS_PREFIX}/v1")
    router.add_api_route("/kpis", metrics_kpis, methods=["GET"])
    router.add_api_route("/incidents/search", metrics_incident_search, methods=["POST"])
    return router


# Mounting ------------------------------------------------------------------


def mount_analytics(app: FastAPI, seed: int = 7) -> Analytics:
    """Add the three analytics upstreams to a sandbox app.

    Args:
        app: The sandbox app.
        seed: The seed of the data, normally the company's.

    Returns:
        The data served, also kept in `app.state.analytics`.
    """
    data = build_analytics(seed)
    app.state.analytics = data
    app.include_router(prometheus_router())
    app.include_router(posthog_router())
    app.include_router(metrics_router())
    return data
