"""Shared HTTP plumbing for connectors: one client factory, one error table.

Every HTTP connector sends through `HttpClient`, so timeouts, retries, rate-limit
handling and secret masking behave the same for Jira, GitHub and the rest.

The error table (`classify`) decides for each upstream answer:

=========================  ==========================  =====================
answer                     error raised                engine does
=========================  ==========================  =====================
timeout, connection error  TransientError              retry with backoff
500, 502, 503, 504         TransientError              retry with backoff
429, rate-limit 403        RateLimitedError            wait as asked, retry
400, 422                   ConfigurationError          fail, no retry
401, 403                   ConfigurationError          fail, no retry
404, 410                   ConfigurationError          fail, no retry
other 4xx                  ConfigurationError          fail, no retry
other 5xx                  TransientError              retry with backoff
2xx with a non-JSON body   TransientError              retry with backoff
=========================  ==========================  =====================
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)

from connectors.base import (
    ConfigT,
    ConfigurationError,
    Connector,
    ConnectorError,
    RateLimitedError,
    Sleep,
    TransientError,
)

logger = logging.getLogger(__name__)

MAX_INLINE_WAIT = 60.0
"""Longest pause (seconds) taken inside a sync; longer waits fail the request."""

MAX_TOTAL_WAIT = 120.0
"""Longest time (seconds) spent retrying one request."""

SECRET_PARAM_NAMES = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "secret", "password", "sig"}
)

RETRY_STATUSES = frozenset({500, 502, 503, 504})
"""Statuses worth another try; every other 5xx is too, every other 4xx is not."""

CONFIG_STATUS_REASONS = {
    400: "the upstream rejected the query",
    401: "the credentials were refused",
    403: "permission denied",
    404: "not found",
    410: "this endpoint has been removed upstream",
    422: "the upstream rejected the query",
}


def mask_url(url: httpx.URL | str) -> str:
    """Return the URL with secret-looking query values and userinfo masked."""
    url = httpx.URL(str(url))
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    params = [
        (name, "***" if name.lower() in SECRET_PARAM_NAMES else value)
        for name, value in url.params.multi_items()
    ]
    return str(url.copy_with(params=params)) if params else str(url)


def upstream_message(response: httpx.Response) -> str:
    """Pull a short human message out of an error body, whatever its shape."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:200] if text and not text.startswith("<") else ""
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("errorMessages", "message", "error", "errors", "detail"):
            value = body.get(key)
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, list):
                parts += [_item_text(item) for item in value]
            elif isinstance(value, dict):
                parts += [f"{k}: {v}" for k, v in value.items()]
    return "; ".join(part for part in parts if part)[:300]


def _item_text(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("message") or item.get("code") or "")
    return str(item)


def retry_after_seconds(
    response: httpx.Response, now: float | None = None
) -> float | None:
    """Seconds the upstream asked us to wait, from any header it uses, or None.

    Reads `Retry-After` (seconds or HTTP date), GitHub's `x-ratelimit-reset`
    (epoch seconds, when `x-ratelimit-remaining` is 0) and Jira's
    `X-RateLimit-Reset` (an ISO 8601 time).
    """
    now = time.time() if now is None else now
    headers = response.headers
    value = headers.get("retry-after")
    if value is not None:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            parsed = None
        if parsed is not None:
            return max(0.0, parsed.timestamp() - now)
    reset = headers.get("x-ratelimit-reset")
    if reset and headers.get("x-ratelimit-remaining", "0") == "0":
        reset = reset.strip()
        if reset.isdigit():
            return max(0.0, float(reset) - now)
        try:
            at = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            return None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return max(0.0, at.timestamp() - now)
    return None


def _is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    if response.headers.get("x-ratelimit-remaining") == "0":
        return True
    if "retry-after" in response.headers:
        return True
    return "rate limit" in upstream_message(response).lower()


def classify(
    response: httpx.Response, now: float | None = None
) -> ConnectorError | None:
    """Turn an upstream answer into the error it means, or None when it is fine."""
    status = response.status_code
    if status < 400:
        return None
    where = f"{response.request.method} {mask_url(response.request.url)}"
    detail = upstream_message(response)
    suffix = f": {detail}" if detail else ""
    if _is_rate_limited(response):
        wait = retry_after_seconds(response, now)
        return RateLimitedError(
            f"rate limited by the upstream (HTTP {status}) on {where}{suffix}",
            retry_after=60.0 if wait is None else wait,
            status_code=status,
        )
    if status in RETRY_STATUSES or status >= 500:
        return TransientError(
            f"upstream error HTTP {status} on {where}{suffix}", status_code=status
        )
    reason = CONFIG_STATUS_REASONS.get(status, "the upstream refused the request")
    return ConfigurationError(
        f"{reason} (HTTP {status} on {where}){suffix}", status_code=status
    )


def parse_json(response: httpx.Response) -> Any:
    """Decode a successful answer's JSON body, or raise TransientError."""
    where = f"{response.request.method} {mask_url(response.request.url)}"
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "an HTML page" if response.text.lstrip().startswith("<") else "not JSON"
        raise TransientError(
            f"the upstream answered {where} with {kind} (HTTP {response.status_code})"
        ) from exc


_BACKOFF = wait_exponential(multiplier=0.5, max=10.0) + wait_random(0, 1)
"""0.5 s, 1 s, 2 s ... up to 10 s, plus up to 1 s of jitter."""


def _worth_retrying(error: BaseException) -> bool:
    """Transient errors are retried, except waits too long to take in a sync."""
    if isinstance(error, RateLimitedError):
        return error.retry_after <= MAX_INLINE_WAIT
    return isinstance(error, TransientError)


def _wait_seconds(state: RetryCallState) -> float:
    backoff = _BACKOFF(state)
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, RateLimitedError):
        return max(error.retry_after, backoff)
    return backoff


class HttpClient:
    """An `httpx.AsyncClient` with the shared error policy and request counting."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: float = 30.0,
        max_attempts: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        requests_per_minute: float | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.requests = 0
        self._now = now
        self.retries = 0
        self.not_modified = 0
        self.waited = 0.0
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._limiter = (
            AsyncLimiter(max(1.0, requests_per_minute / 60), 1)
            if requests_per_minute
            else None
        )
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            auth=auth,
            timeout=timeout,
            transport=transport,
            follow_redirects=True,
            event_hooks={"request": [self._count]},
        )

    async def _count(self, request: httpx.Request) -> None:
        self.requests += 1

    def describe(self, method: str, path: str, params: Any = None) -> str:
        """Method and masked absolute URL, for evidence."""
        url = self._client.build_request(method, path, params=params).url
        return f"{method} {mask_url(url)}"

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request under the retry policy; return a successful answer."""
        async for attempt in self._retrying():
            with attempt:
                return await self._send_once(method, path, **kwargs)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request and return its decoded JSON body."""
        _, body = await self.json_response(method, path, **kwargs)
        return body

    async def json_response(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[httpx.Response, Any]:
        """Send one request; return the answer and its decoded JSON body.

        A body that does not decode counts as a failed attempt and is retried.
        """
        async for attempt in self._retrying():
            with attempt:
                response = await self._send_once(method, path, **kwargs)
                return response, parse_json(response)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def json_if_changed(
        self, path: str, etag: str | None, **kwargs: Any
    ) -> tuple[httpx.Response, Any | None]:
        """GET with `If-None-Match: etag`; the body is None when not modified.

        A 304 answer costs GitHub's rate limit nothing and carries no body: the
        caller reuses what it kept from the answer that carried the ETag.
        """
        if etag:
            kwargs["headers"] = {**kwargs.get("headers", {}), "If-None-Match": etag}
        async for attempt in self._retrying():
            with attempt:
                response = await self._send_once("GET", path, **kwargs)
                if response.status_code == 304:
                    self.not_modified += 1
                    return response, None
                return response, parse_json(response)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception(_worth_retrying),
            stop=stop_after_attempt(self._max_attempts)
            | stop_before_delay(MAX_TOTAL_WAIT),
            wait=_wait_seconds,
            sleep=self._pause,
            before_sleep=self._before_sleep,
            reraise=True,
        )

    async def _pause(self, seconds: float) -> None:
        self.waited += seconds
        await self._sleep(seconds)

    async def _send_once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._limiter is not None:
            await self._limiter.acquire()
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{method} {mask_url(path)} timed out") from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"{method} {mask_url(path)} failed: {type(exc).__name__}"
            ) from exc
        error = classify(response, self._now())
        if error is not None:
            raise error
        return response

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retries += 1
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        logger.info("Retrying after %s", error)

    async def aclose(self) -> None:
        await self._client.aclose()


def dumps(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces. Used for grouping keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class HttpConnector(Connector[ConfigT]):
    """Base class of connectors that talk HTTP through one `HttpClient`.

    Builds the client from three hooks, so a connector only says where and
    how to authenticate; override them as needed. Counts and closing come
    with it.
    """

    def __init__(
        self,
        name: str,
        config: ConfigT,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(name, config, transport=transport, sleep=sleep)
        self.client = HttpClient(
            base_url=self.get_base_url(),
            headers=self.get_headers(),
            auth=self.get_auth(),
            timeout=config.timeout,
            max_attempts=config.max_attempts,
            transport=transport,
            sleep=sleep,
            requests_per_minute=config.requests_per_minute,
            now=lambda: self.wall_clock(),
        )

    def get_base_url(self) -> str:
        """The URL every request path is relative to.

        Returns:
            By default the config's `url` field.
        """
        url = getattr(self.config, "url", None)
        if not isinstance(url, str):
            raise NotImplementedError("override get_base_url or give the config a url")
        return url

    def get_headers(self) -> dict[str, str]:
        """Headers sent with every request; override to add to them.

        Returns:
            By default `Accept: application/json`.
        """
        return {"Accept": "application/json"}

    def get_auth(self) -> httpx.Auth | tuple[str, str] | None:
        """Authentication for every request, e.g. `(user, password)` for basic.

        Returns:
            By default none. Never log what this returns.
        """
        return None

    @property
    def request_count(self) -> int:
        return self.client.requests

    @property
    def retry_count(self) -> int:
        return self.client.retries

    @property
    def not_modified_count(self) -> int:
        return self.client.not_modified

    @property
    def wait_seconds(self) -> float:
        return self.client.waited

    async def aclose(self) -> None:
        await self.client.aclose()
