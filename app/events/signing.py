"""Standard Webhooks signatures (https://www.standardwebhooks.com, spec 1.0).

Each attempt carries `webhook-id` (the same on every attempt of an event),
`webhook-timestamp` (Unix seconds, fresh per attempt) and
`webhook-signature: v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`,
keyed with the base64-decoded part of the `whsec_` secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
"""Random bytes in a new secret; the spec asks for 24 to 64."""


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for.

    Raises:
        ValueError: The secret is not `whsec_` followed by base64.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a signing secret starts with whsec_")
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a signing secret is whsec_ followed by base64") from exc


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one attempt.

    Args:
        secret: The subscription's `whsec_` secret.
        webhook_id: The event's id, the same on every attempt.
        timestamp: Unix seconds of this attempt.
        body: The exact bytes sent.

    Returns:
        `v1,` followed by the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    """
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secret: str, webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Every header one attempt carries."""
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, webhook_id, timestamp, body),
    }
