"""Settings of a GA4 source block and parameters of its `metric` metric."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)

from connectors.base import SourceConfig

DEFAULT_API_URL = "https://analyticsdata.googleapis.com"

REQUIRED_KEY_FIELDS = ("client_email", "private_key", "token_uri")
"""Fields of a service account key file that the JWT flow cannot do without."""

FILTER_KINDS = frozenset(
    {
        "andGroup",
        "orGroup",
        "notExpression",
        "filter",
        "and_group",
        "or_group",
        "not_expression",
    }
)
"""Top-level keys of a GA4 FilterExpression (proto JSON accepts both spellings)."""

YAML_BOOLEANS = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}

KEY_HINT = (
    "give the content of the service account's JSON key file, e.g. "
    "credentials: ${file:/run/secrets/ga4.json}"
)


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of a Google service account key the connector uses.

    The private key never shows in `repr`, so logging this object is safe.
    """

    client_email: str
    token_uri: str
    private_key_id: str | None
    private_key: RSAPrivateKey = field(repr=False)


def parse_service_account(text: str) -> ServiceAccount:
    """Read a service account JSON key, or raise ValueError saying what is wrong.

    Messages name the missing or bad field but never repeat any value of the
    key file.
    """
    data = _key_json(text)

    kind = data.get("type")
    if kind != "service_account":
        shown = repr(kind) if isinstance(kind, str) and len(kind) < 40 else "no"
        raise ValueError(
            f"the GA4 credentials have {shown} type where 'service_account' is "
            "needed; create a JSON key for a service account in the Google "
            "Cloud console and " + KEY_HINT
        )
    for name in REQUIRED_KEY_FIELDS:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"the GA4 service account key has no {name!r}; download a new "
                "JSON key for the service account and use the file whole"
            )

    token_uri = data["token_uri"].strip()
    if not token_uri.startswith(("https://", "http://")):
        raise ValueError(
            "the GA4 service account key's 'token_uri' is not an http(s) URL; "
            "download a new JSON key for the service account"
        )
    key_id = data.get("private_key_id")
    return ServiceAccount(
        client_email=data["client_email"].strip(),
        token_uri=token_uri,
        private_key_id=key_id if isinstance(key_id, str) and key_id else None,
        private_key=_rsa_key(data["private_key"]),
    )


def _key_json(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text.startswith("{"):
        # Often a path was put in an env var instead of the file's content.
        raise ValueError(
            "the GA4 credentials are not a JSON key (they do not start with "
            "'{'); " + KEY_HINT
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"the GA4 credentials are not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}); " + KEY_HINT
        ) from None
    if not isinstance(data, dict):
        raise ValueError("the GA4 credentials are not a JSON object; " + KEY_HINT)
    return data


def _rsa_key(pem: str) -> RSAPrivateKey:
    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(
            "the GA4 service account key's 'private_key' is not a PEM RSA "
            "private key; download a new JSON key for the service account"
        )
    return key


def check_base_url(value: str, what: str) -> str:
    """A cleaned http(s) base URL, or ValueError naming `what` it is for."""
    value = value.strip()
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise ValueError(f"the {what} {value!r} is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"the {what} {value!r} must start with http:// or https:// and name a host"
        )
    if url.userinfo or url.query or url.fragment:
        raise ValueError(
            f"the {what} must not carry credentials, a query or a fragment; "
            "give only scheme, host and path"
        )
    return value.rstrip("/")


class GA4Config(SourceConfig):
    """A Google Analytics 4 property read through the GA4 Data API."""

    # Validation errors would otherwise echo the block, key file included.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["ga4"] = Field(description="Selects the GA4 connector.")
    property_id: str = Field(
        description=(
            "The GA4 property's numeric id (Admin > Property details), "
            "e.g. 123456789. Not the measurement id G-XXXXXXX."
        )
    )
    credentials: SecretStr = Field(
        description=(
            "The service account's JSON key file content, e.g. "
            "${file:/run/secrets/ga4.json}. The service account needs Viewer "
            "access on the property."
        )
    )
    url: str = Field(
        default=DEFAULT_API_URL, description="Base URL of the GA4 Data API."
    )
    token_url: str | None = Field(
        default=None,
        description=(
            "Where access tokens are asked for; defaults to the key file's "
            "token_uri. Override only for tests or a sandbox."
        ),
    )

    @field_validator("property_id", mode="before")
    @classmethod
    def _check_property_id(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return value
        number = value.strip().removeprefix("properties/")
        if number.upper().startswith("G-"):
            raise ValueError(
                f"GA4 property_id {value!r} is a measurement id; use the "
                "property's numeric id from Admin > Property details"
            )
        if not number.isdigit():
            raise ValueError(
                f"GA4 property_id {value!r} must be the property's numeric id, "
                "e.g. 123456789"
            )
        return number

    @field_validator("credentials")
    @classmethod
    def _check_credentials(cls, value: SecretStr) -> SecretStr:
        parse_service_account(value.get_secret_value())
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_base_url(value, "GA4 Data API url")

    @field_validator("token_url")
    @classmethod
    def _check_token_url(cls, value: str | None) -> str | None:
        return None if value is None else check_base_url(value, "GA4 token_url")

    def service_account(self) -> ServiceAccount:
        """The parsed service account key (already checked at validation)."""
        return parse_service_account(self.credentials.get_secret_value())

    def token_endpoint(self, account: ServiceAccount) -> str:
        """Where to ask for access tokens: `token_url`, else the key's."""
        return self.token_url or account.token_uri


class MetricParams(BaseModel):
    """Which GA4 metric to read, optionally narrowed by a dimension filter."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(
        description=(
            "A GA4 metric API name, e.g. activeUsers, sessions, eventCount or "
            "keyEvents:purchase."
        )
    )
    dimension_filter: dict[str, Any] | None = Field(
        default=None,
        description=(
            "A GA4 FilterExpression, sent as the report's dimensionFilter, e.g. "
            "{filter: {fieldName: country, stringFilter: {value: France}}}."
        ),
    )

    @field_validator("metric")
    @classmethod
    def _check_metric(cls, value: str) -> str:
        value = value.strip()
        if not value or re.search(r"\s", value):
            raise ValueError(
                f"GA4 metric {value!r} must be a metric API name without spaces, "
                "e.g. activeUsers"
            )
        return value

    @field_validator("dimension_filter", mode="before")
    @classmethod
    def _check_dimension_filter(cls, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError(
                "dimension_filter must be a GA4 FilterExpression mapping, e.g. "
                "{filter: {fieldName: country, stringFilter: {value: France}}}"
            )
        kinds = sorted(set(value) & FILTER_KINDS)
        if len(kinds) != 1 or len(value) != 1:
            raise ValueError(
                "dimension_filter must have exactly one of andGroup, orGroup, "
                f"notExpression or filter at its top; it has {sorted(value)}"
            )
        return yaml_booleans(value)


def yaml_booleans(value: Any) -> Any:
    """Turn unquoted YAML true/false back into booleans, everything else as is.

    The mapping loader keeps unquoted scalars as text. GA4's JSON parser takes
    numbers as strings but wants real booleans (e.g. `caseSensitive`), so only
    those are converted; quoted strings stay strings.
    """
    if isinstance(value, dict):
        return {key: yaml_booleans(item) for key, item in value.items()}
    if isinstance(value, list):
        return [yaml_booleans(item) for item in value]
    # Matched by name: connectors do not depend on the app's YAML reader.
    if type(value).__name__ == "PlainScalar" and str(value) in YAML_BOOLEANS:
        return YAML_BOOLEANS[str(value)]
    return value
