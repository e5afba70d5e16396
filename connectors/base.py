"""The contract every connector fulfils.

A connector turns a source's configuration plus one query (metric, query text,
parameters, time window) into a `Reading`: a number and the evidence behind it.
It knows nothing about objectives, key results or progress.

Errors a connector raises, and what the sync engine does with them::

    ConnectorError               base class; never raised directly
     ├── ConfigurationError      the query cannot succeed as written (bad query,
     │                           unknown field, credentials refused): no retry,
     │                           the key result is marked misconfigured
     └── TransientError          may succeed later (timeout, 5xx, malformed body):
          │                      retried with backoff
          └── RateLimitedError   the upstream asked us to wait: retried after
                                 at least `retry_after` seconds

Whatever the error, the engine keeps the key result's last good value.
"""

from __future__ import annotations

import abc
import asyncio
import builtins
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

EVIDENCE_ITEM_CAP = 200
"""How many item keys a reading keeps as evidence; the rest are counted only."""


class ConnectorError(Exception):
    """Base class of everything a connector raises on purpose."""

    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class ConfigurationError(ConnectorError):
    """The request cannot succeed until the mapping or the credentials change."""

    kind = "configuration"


class TransientError(ConnectorError):
    """The request failed for a reason that may pass: worth retrying."""

    kind = "transient"


class RateLimitedError(TransientError):
    """The upstream asked us to slow down; `retry_after` is in seconds."""

    kind = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class SourceConfig(BaseModel):
    """Settings shared by every source block in a mapping file.

    Connectors subclass this and add their own fields. Secrets are `SecretStr`
    and must be written as `${ENV_VAR}` references in the mapping.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: str = Field(description="Which connector serves this source.")
    timeout: float = Field(
        default=30.0, gt=0, le=300, description="Seconds to wait for one request."
    )
    concurrency: int = Field(
        default=4, ge=1, le=64, description="Requests in flight at once."
    )
    max_attempts: int = Field(
        default=3, ge=1, le=10, description="Tries per request, the first included."
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret that signs webhooks this source sends to "
        "okrsync (GitHub and Jira), checked on every delivery.",
    )
    requests_per_minute: float | None = Field(
        default=None,
        gt=0,
        description="Most requests started per minute; none means no limit "
        "beyond `concurrency` and what the upstream answers.",
    )


class BearerOrBasicAuth(SourceConfig):
    """A source block that authenticates with a bearer token or basic auth.

    Subclasses add `type`, `url` and their own fields. The secrets are
    stripped (files and variables often end in a newline) and an empty one
    is an error, as is setting both kinds or half of basic auth.
    """

    token: SecretStr | None = Field(
        default=None, description="Sent as `Authorization: Bearer <token>`."
    )
    username: str | None = Field(default=None, description="User for basic auth.")
    password: SecretStr | None = Field(
        default=None, description="Password for basic auth."
    )

    @field_validator("token", "password")
    @classmethod
    def _strip_secret(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value().strip()
        if not secret:
            raise ValueError(
                f"{info.field_name} is empty; set the environment variable or "
                "file it refers to, or remove the setting"
            )
        return SecretStr(secret)

    @model_validator(mode="after")
    def _check_credentials(self) -> Self:
        source = f"{self.type} source"
        if self.token is not None and (self.username or self.password):
            raise ValueError(
                f"{source} sets both `token` (bearer) and basic auth "
                "(`username`/`password`); keep one"
            )
        if self.username and self.password is None:
            raise ValueError(
                f"{source} has a `username` but no `password`; add the "
                "password or remove the username"
            )
        if self.password is not None and not self.username:
            raise ValueError(
                f"{source} has a `password` but no `username`; add the "
                "username or remove the password"
            )
        return self

    def basic_auth(self) -> tuple[str, str] | None:
        """(username, password) when basic auth is set."""
        if self.username and self.password is not None:
            return self.username, self.password.get_secret_value()
        return None


class NoParams(BaseModel):
    """Parameters of a metric that takes none."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Metric:
    """One metric a connector offers.

    Attributes:
        name: The name a mapping uses in `metric:`.
        description: One sentence for docs and error messages.
        params: The model that validates the key result's `params:` block.
        needs_query: Whether the key result must carry a `query:`.
        windowed: Whether the value is measured over a time window; if so the
            engine resolves the key result's `window:` and passes it in
            `FetchRequest.window`, otherwise that is None.
    """

    name: str
    description: str
    params: type[BaseModel] = NoParams
    needs_query: bool = True
    windowed: bool = False


@dataclass(frozen=True)
class Window:
    """The time span a windowed metric is measured over.

    `start` is inclusive and `end` exclusive; both are timezone-aware and in
    the mapping's time zone, so `start.date()` and `(end - 1 µs).date()` are the
    first and last local days, the form date-based analytics APIs take.
    """

    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        """The first local day in the window."""
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The last local day in the window (the day before `end` at midnight)."""
        return (self.end - timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class FetchRequest:
    """One distinct upstream question: the engine asks each one once per sync."""

    metric: str
    query: str | None
    params: BaseModel
    window: Window | None = None


class Evidence(BaseModel):
    """What a reading was computed from, for people asking why."""

    request: str = Field(description="Method and URL of the first request.")
    requests: int = Field(default=1, description="HTTP requests the reading took.")
    summary: dict[str, Any] = Field(
        default_factory=dict, description="The relevant part of the answer."
    )
    items: list[str] = Field(
        default_factory=list, description="Keys of the items counted (capped)."
    )
    items_total: int | None = Field(
        default=None, description="How many items there were in all."
    )


@dataclass
class Reading:
    """A connector's answer. `value` is None when the metric has no scope."""

    value: float | None
    evidence: Evidence
    notes: list[str] = field(default_factory=list)


@dataclass
class CachedReading:
    """A reading kept with the ETag of the answer it was computed from."""

    etag: str
    reading: Reading


class ReadingCache:
    """Readings by request key, for conditional requests (`If-None-Match`).

    The engine fills it from storage before a sync and saves what changed
    after, so an unchanged upstream answers 304 and costs nothing.
    """

    def __init__(self, entries: dict[str, CachedReading] | None = None) -> None:
        self.entries = entries or {}
        self.changed: set[str] = set()

    def get(self, key: str) -> CachedReading | None:
        """The kept reading for `key`, if any."""
        return self.entries.get(key)

    def put(self, key: str, etag: str, reading: Reading) -> None:
        """Keep `reading`, computed from an answer that carried `etag`."""
        self.entries[key] = CachedReading(etag, reading)
        self.changed.add(key)


ConfigT = TypeVar("ConfigT", bound=SourceConfig)
ParamsT = TypeVar("ParamsT", bound=BaseModel)

Sleep = Callable[[float], Awaitable[None]]


class Connector(abc.ABC, Generic[ConfigT]):
    """Base class of connectors.

    Subclasses set the class attributes and implement `fetch`. One instance
    serves one source for one sync and may keep an HTTP client open; the
    engine closes it with `aclose`.
    """

    type: ClassVar[str]
    """The `type:` a source block uses to pick this connector."""

    config_model: ClassVar[builtins.type[SourceConfig]]
    """The model that validates a source block of this type."""

    metrics: ClassVar[Mapping[str, Metric]]
    """The metrics offered, by name."""

    cache: ReadingCache | None = None
    """Set by the engine; connectors that make conditional requests use it."""

    wall_clock: Callable[[], float] = staticmethod(time.time)
    """Seconds since the epoch, for reading reset times in rate-limit answers;
    the engine sets its own clock here so waits follow it in tests."""

    def __init__(
        self,
        name: str,
        config: ConfigT,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Set up a connector for one source.

        Args:
            name: The source's name in the mapping, for messages.
            config: The validated source block.
            transport: An httpx transport to use instead of the network
                (tests, the sandbox).
            sleep: What to await between retries (a fake clock in tests).
        """
        self.name = name
        self.config = config
        self.transport = transport
        self.sleep = sleep

    @abc.abstractmethod
    async def fetch(self, request: FetchRequest) -> Reading:
        """Ask the upstream one question.

        Args:
            request: The metric, query, validated params and time window.

        Returns:
            The value with its evidence; value None when nothing is in scope.

        Raises:
            ConfigurationError: The query or credentials are wrong.
            TransientError: The upstream failed in a way worth retrying.
            RateLimitedError: The upstream asked for a pause.
        """

    def params_as(
        self, request: FetchRequest, model: builtins.type[ParamsT], hint: str
    ) -> ParamsT:
        """The request's params as `model`, for a connector with several metrics.

        The engine passes params already validated by the metric's model; a
        direct caller may not, so anything else is validated here.

        Args:
            request: The request whose params to read.
            model: The params model of `request.metric`.
            hint: What to write, for the error message (e.g. "Give `event:`").

        Raises:
            ConfigurationError: The params do not fit `model`.
        """
        if isinstance(request.params, model):
            return request.params
        try:
            return model.model_validate(request.params.model_dump())
        except ValidationError as exc:
            problems = "; ".join(error["msg"] for error in exc.errors())
            raise ConfigurationError(
                f"the {request.metric} params of {self.type} source {self.name!r} "
                f"are invalid: {problems}. {hint}"
            ) from None

    def window_of(self, request: FetchRequest) -> Window:
        """The request's time window; windowed metrics always get one.

        Raises:
            ConfigurationError: The request has no window.
        """
        if request.window is None:
            raise ConfigurationError(
                f"{self.type} source {self.name!r} needs a time window for "
                f"{request.metric}; the key result must be windowed"
            )
        return request.window

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far. Override to report them."""
        return 0

    @property
    def retry_count(self) -> int:
        """Retries made so far. Override to report them."""
        return 0

    @property
    def not_modified_count(self) -> int:
        """Answers served from `cache` after a 304. Override to report them."""
        return 0

    @property
    def wait_seconds(self) -> float:
        """Seconds spent waiting between retries. Override to report them."""
        return 0.0

    async def aclose(self) -> None:
        """Release open connections. Override when holding any."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def metric_table(*metrics: Metric) -> dict[str, Metric]:
    """Index metrics by name, for a connector's `metrics` attribute."""
    return {metric.name: metric for metric in metrics}
