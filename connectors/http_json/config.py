"""Settings of an http_json source and parameters of its `value` metric."""

from __future__ import annotations

import re
from typing import Any, Literal, Self

import httpx
import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.functions import Functions
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from connectors.base import BearerOrBasicAuth
from connectors.http_json.yamlcore import resolve_plain_scalars

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
"""An HTTP header name (an RFC 9110 token)."""

_FUNCTIONS = Functions().FUNCTION_TABLE


def check_url(value: str) -> str:
    """A base URL with scheme and host, no credentials, no query or fragment."""
    value = value.strip()
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"http_json url {value!r} is not a valid URL") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"http_json url {value!r} must start with http:// or https:// and "
            "name a host, e.g. https://api.example.com/v1"
        )
    if url.userinfo:
        raise ValueError(
            "http_json url must not carry credentials; use `username` and "
            "`password`, `token` or `headers` instead"
        )
    if url.query or url.fragment:
        raise ValueError(
            f"http_json url {value!r} must not carry a query or fragment; put "
            "query parameters in the key result's `params.query`"
        )
    return value.rstrip("/")


def check_headers(headers: dict[str, str], where: str) -> dict[str, str]:
    """Header names must be tokens and values single lines; values are stripped."""
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not HEADER_NAME.match(name):
            raise ValueError(f"{where} header name {name!r} is not a valid HTTP name")
        # A value read from a file or an env var often ends in a newline.
        value = str(value).strip()
        if "\r" in value or "\n" in value:
            # Say which header only: its value may be a secret.
            raise ValueError(
                f"{where} header {name!r} has a line break in its value; "
                "header values must be one line"
            )
        checked[name] = value
    return checked


def has_header(headers: dict[str, str], name: str) -> bool:
    """Whether `headers` sets `name`, compared without regard to case."""
    return any(key.lower() == name.lower() for key in headers)


class HttpJsonConfig(BearerOrBasicAuth):
    """Any HTTP API that answers with JSON."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["http_json"] = Field(description="Selects the http_json connector.")
    url: str = Field(
        description=(
            "Base URL of the API, with any path prefix, e.g. "
            "https://api.example.com/v1. Each key result's `path` is appended."
        )
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description=(
            "Headers sent with every request, e.g. an API key header written "
            "as ${ENV_VAR}. Their values never appear in evidence or messages."
        ),
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_headers(value, "http_json source")

    @model_validator(mode="after")
    def _check_header_auth(self) -> Self:
        sets_auth = self.token is not None or self.username
        if sets_auth and has_header(self.headers, "Authorization"):
            raise ValueError(
                "http_json source sets an Authorization header and also "
                "`token` or `username`; keep one"
            )
        return self


def compile_select(expression: str) -> Any:
    """Compile a JMESPath expression and check the functions it calls.

    Raises:
        ValueError: The expression does not parse, or calls an unknown
            function or one with the wrong number of arguments.
    """
    try:
        parsed = jmespath.compile(expression)
    except jmespath_errors.JMESPathError as exc:
        raise ValueError(
            f"select {expression!r} is not a valid JMESPath expression "
            f"({_parse_problem(exc)}); e.g. data.total or items[0].count"
        ) from None
    _check_functions(parsed.parsed, expression)
    return parsed


def _parse_problem(error: Exception) -> str:
    """A short reason for a JMESPath parse error, without its ASCII-art marker."""
    if isinstance(error, jmespath_errors.IncompleteExpressionError):
        return "it ends too early"
    position = getattr(error, "lex_position", None)
    at = f" at character {position + 1}" if isinstance(position, int) else ""
    if isinstance(error, jmespath_errors.LexerError):
        return f"{str(error.message).lower()}{at}"
    message = str(getattr(error, "msg", "") or "")
    if not message or message == "Invalid jmespath expression":
        message = f"unexpected {getattr(error, 'token_value', None)!r}"
    return f"{message[:1].lower()}{message[1:]}{at}"


def _check_functions(node: dict[str, Any], expression: str) -> None:
    # JMESPath only notices these when a search reaches the call; catching
    # them here turns a typo into a load-time error.
    if node.get("type") == "function_expression":
        name = node["value"]
        entry = _FUNCTIONS.get(name)
        if entry is None:
            raise ValueError(
                f"select {expression!r} calls the unknown function {name}(); "
                f"JMESPath has: {', '.join(sorted(_FUNCTIONS))}"
            )
        signature = entry["signature"]
        given = len(node["children"])
        variadic = bool(signature) and signature[-1].get("variadic", False)
        if given < len(signature) or (given > len(signature) and not variadic):
            raise ValueError(
                f"select {expression!r} calls {name}() with {given} arguments; "
                f"it takes {len(signature)}"
            )
    for child in node.get("children", []):
        if isinstance(child, dict):
            _check_functions(child, expression)


class ValueParams(BaseModel):
    """Which request to send and which number of the answer to take."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    select: str = Field(
        description=(
            "A JMESPath expression picking the number from the JSON answer, "
            "e.g. data.total or length(items)."
        )
    )
    path: str = Field(
        default="", description="Appended to the source's url, e.g. /stats."
    )
    method: Literal["GET", "POST"] = Field(
        default="GET", description="GET, or POST to send `body`."
    )
    query: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Query-string parameters. Not for credentials: key result params "
            "are stored and served by the API."
        ),
    )
    body: Any = Field(
        default=None,
        description=(
            "JSON body sent with POST. Unquoted YAML values are read as YAML "
            "1.2 core values: 10 is a number, true a boolean, '10' text."
        ),
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description=(
            "Extra headers for this request only. Not for credentials: key "
            "result params are stored and served by the API; put those in "
            "the source's `headers`."
        ),
    )

    @field_validator("select")
    @classmethod
    def _check_select(cls, value: str) -> str:
        value = str(value).strip()
        if not value:
            raise ValueError(
                "select must not be empty; give a JMESPath expression such as "
                "data.total"
            )
        compile_select(value)
        return value

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        value = str(value).strip()
        if "://" in value or value.startswith("//"):
            raise ValueError(
                f"path {value!r} must be relative to the source's url; a full "
                "URL would send the source's credentials elsewhere"
            )
        if "?" in value or "#" in value:
            raise ValueError(
                f"path {value!r} must not carry a query or fragment; put query "
                "parameters in `query:`"
            )
        return value

    @field_validator("query", mode="before")
    @classmethod
    def _query_as_text(cls, value: Any) -> Any:
        # Query strings are text; a number given through JSON is sent as typed.
        if not isinstance(value, dict):
            return value
        return {key: _query_text(item) for key, item in value.items()}

    @field_validator("body", mode="before")
    @classmethod
    def _resolve_body(cls, value: Any) -> Any:
        return resolve_plain_scalars(value)

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_headers(value, "key result")

    @model_validator(mode="after")
    def _body_needs_post(self) -> Self:
        if self.body is not None and self.method != "POST":
            raise ValueError("body is only sent with POST; add `method: POST`")
        return self


def _query_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
