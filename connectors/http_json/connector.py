"""The http_json connector: one number from any JSON API, picked by JMESPath.

Each key result sends one GET or POST below the source's base URL and picks
its number from the answer with a JMESPath expression (`select`). Header
values are treated as secrets throughout: evidence lists header names only.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from connectors.base import (
    ConfigurationError,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    metric_table,
)
from connectors.http import HttpConnector
from connectors.http_json.config import HttpJsonConfig, ValueParams, has_header
from connectors.http_json.select import as_number, preview, search

logger = logging.getLogger(__name__)


def request_headers(config: HttpJsonConfig) -> dict[str, str]:
    """Headers sent with every request to the source."""
    headers = {"Accept": "application/json", "User-Agent": "okrsync"}
    headers.update(config.headers)
    if config.token is not None:
        headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
    return headers


class HttpJsonConnector(HttpConnector[HttpJsonConfig]):
    """Reads one number from a JSON answer of any HTTP API."""

    type: ClassVar[str] = "http_json"
    config_model = HttpJsonConfig
    metrics = metric_table(
        Metric(
            name="value",
            description=(
                "A number picked from a JSON answer with a JMESPath expression."
            ),
            params=ValueParams,
            needs_query=False,
        ),
    )

    def get_headers(self) -> dict[str, str]:
        """Headers sent with every request: the source's, then its token.

        Returns:
            JSON accept, the source's `headers`, and the bearer token if set.
        """
        return request_headers(self.config)

    def get_auth(self) -> tuple[str, str] | None:
        """Basic auth when the source has a username and password.

        Returns:
            The (username, password) pair, or None.
        """
        return self.config.basic_auth()

    async def fetch(self, request: FetchRequest) -> Reading:
        """Send the key result's request and pick its number.

        Args:
            request: The `value` metric with `ValueParams`.

        Returns:
            The selected number with its evidence.

        Raises:
            ConfigurationError: The request was refused, or `select` does not
                lead to a finite number.
            TransientError: The API failed or did not answer with JSON.
            RateLimitedError: The API asked for a pause.
        """
        if request.metric != "value":
            raise ConfigurationError(
                f"http_json source {self.name!r} has no metric "
                f"{request.metric!r}; use: value"
            )
        params = self.params_as(request, ValueParams, "Give at least `select:`")
        self._check_auth_headers(params)

        url = self._url(params.path)
        where = self.client.describe(params.method, url, params.query or None)
        logger.debug("Reading a JSON value with %s", where)
        answer = await self._send(params.method, url, _send_args(params))

        selected = search(params.select, answer, where)
        value = as_number(selected, params.select, answer, where)
        evidence = Evidence(
            request=where,
            requests=1,
            summary={
                "select": params.select,
                "selected": preview(selected),
                # Header values may be secrets: names only.
                "headers": sorted({*self.config.headers, *params.headers}),
            },
        )
        return Reading(value=value, evidence=evidence)

    async def _send(self, method: str, url: str, args: dict[str, Any]) -> Any:
        """Send one request; say which source a refusal concerns."""
        try:
            return await self.client.json(method, url, **args)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"http_json source {self.name!r} was refused: {exc.message}; "
                "check the key result's path, query and body and the "
                "source's credentials",
                status_code=exc.status_code,
            ) from None

    def _check_auth_headers(self, params: ValueParams) -> None:
        source_auth = (
            self.config.token is not None
            or self.config.username is not None
            or has_header(self.config.headers, "Authorization")
        )
        if source_auth and has_header(params.headers, "Authorization"):
            raise ConfigurationError(
                f"a key result sets an Authorization header while http_json "
                f"source {self.name!r} already authenticates; remove one"
            )

    def _url(self, path: str) -> str:
        # Joined by hand: httpx would add a trailing slash for an empty path,
        # and some APIs answer `/stats/` differently from `/stats`.
        if not path:
            return self.config.url
        return f"{self.config.url}/{path.lstrip('/')}"


def _send_args(params: ValueParams) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if params.query:
        args["params"] = params.query
    if params.headers:
        args["headers"] = params.headers
    if params.method == "POST" and params.body is not None:
        args["json"] = params.body
    return args
