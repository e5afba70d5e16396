"""Access tokens for a Google service account (OAuth 2.0 JWT bearer flow).

The connector signs a short JWT with the service account's private key, trades
it at the token endpoint for an access token, and keeps that token until
shortly before it expires. One `TokenSource` serves one connector, so
concurrent reports of the same source share a single token request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from connectors.base import ConfigurationError, TransientError
from connectors.ga4.config import ServiceAccount
from connectors.http import HttpClient

logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"

ASSERTION_LIFETIME = 3600
"""Seconds a signed assertion is valid; Google accepts at most an hour."""

REFRESH_MARGIN = 120.0
"""Seconds before expiry at which a cached token is replaced."""

DEFAULT_TOKEN_LIFETIME = 3600
"""Assumed lifetime when the token answer has no usable `expires_in`."""


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


class TokenSource:
    """Fetches and caches access tokens for one service account."""

    def __init__(
        self,
        account: ServiceAccount,
        client: HttpClient,
        *,
        token_url: str,
        source: str,
        clock: Callable[[], float],
    ) -> None:
        """Set up a token source.

        Args:
            account: The parsed service account key.
            client: The HTTP client to send token requests through.
            token_url: The absolute URL of the token endpoint.
            source: The source's name, for messages.
            clock: Wall-clock seconds since the epoch (a fake one in tests).
        """
        self.account = account
        self.token_url = token_url
        self._client = client
        self._source = source
        self._clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> tuple[str, bool]:
        """A valid access token, and whether a token request was sent for it."""
        async with self._lock:
            token = self._token
            if token is not None and self._clock() < token.expires_at:
                return token.value, False
            self._token = await self._fetch()
            return self._token.value, True

    def invalidate(self) -> None:
        """Forget the cached token, e.g. after the API refused it."""
        self._token = None

    def assertion(self, now: float) -> str:
        """The signed JWT that asks for an analytics read-only token."""
        issued = int(now)
        claims = {
            "iss": self.account.client_email,
            "scope": SCOPE,
            # The key names its authorization server; the POST may go elsewhere
            # (a sandbox) through `token_url`.
            "aud": self.account.token_uri,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        headers = (
            {"kid": self.account.private_key_id}
            if self.account.private_key_id
            else None
        )
        return jwt.encode(
            claims, self.account.private_key, algorithm="RS256", headers=headers
        )

    async def _fetch(self) -> _Token:
        now = self._clock()
        form = {"grant_type": GRANT_TYPE, "assertion": self.assertion(now)}
        logger.debug("Asking %s for a GA4 access token", self.token_url)

        try:
            body = await self._client.json("POST", self.token_url, data=form)
        except ConfigurationError as exc:
            raise self._refused(exc) from None
        return self._token_of(body, now)

    def _refused(self, exc: ConfigurationError) -> ConfigurationError:
        # The upstream text is an OAuth error code such as invalid_grant; the
        # assertion itself travels in the form body and is never quoted.
        return ConfigurationError(
            f"Google refused the service account key of GA4 source "
            f"{self._source!r} ({exc.message}). Check that the key is still "
            f"active for {self.account.client_email} and that this machine's "
            "clock is right.",
            status_code=exc.status_code,
        )

    def _token_of(self, body: Any, now: float) -> _Token:
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise TransientError(
                f"the token endpoint {self.token_url} answered without an "
                "access_token; try again later"
            )
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return _Token(value, now + max(0.0, lifetime - REFRESH_MARGIN))
