"""Checks the HMAC signatures GitHub and Jira put on their webhook deliveries.

Both sign the raw body with HMAC-SHA256 under the secret set on the hook and
send `sha256=<hex digest>`: GitHub in `X-Hub-Signature-256`, Jira Cloud in
`X-Hub-Signature` (the WebSub form). The check runs on the bytes received,
before any parsing, and compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="

GITHUB_HEADER = "x-hub-signature-256"
JIRA_HEADER = "x-hub-signature"


def sign(secret: str, body: bytes) -> str:
    """The header value a sender holding `secret` puts on `body`.

    Args:
        secret: The hook's shared secret.
        body: The raw request body.

    Returns:
        `sha256=` followed by the lower-case hex HMAC-SHA256 digest.
    """
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` under `secret`.

    Args:
        secret: The hook's shared secret.
        body: The raw request body, exactly as received.
        header: The signature header's value, or None when it was missing.

    Returns:
        True only for a `sha256=` signature that matches.
    """
    if not header:
        return False
    algorithm, _, digest = header.strip().partition("=")
    if algorithm.lower() != "sha256" or not digest:
        return False
    expected = sign(secret, body).encode("ascii")
    # Hex digits are case-insensitive; bytes keep compare_digest happy with
    # whatever a forged header holds.
    received = (PREFIX + digest.lower()).encode("utf-8", "replace")
    return hmac.compare_digest(expected, received)
