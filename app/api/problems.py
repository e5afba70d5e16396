"""RFC 9457 problem details: every error answer has the same JSON shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

MEDIA_TYPE = "application/problem+json"

_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "too-many-requests",
    500: "internal-error",
}


class ProblemBody(BaseModel):
    """An error, as RFC 9457 describes."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


_PROBLEM_CONTENT = {
    MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}
}

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ProblemBody,
        "description": "No valid token",
        "content": _PROBLEM_CONTENT,
    },
    403: {
        "model": ProblemBody,
        "description": "The token lacks the scope",
        "content": _PROBLEM_CONTENT,
    },
    404: {
        "model": ProblemBody,
        "description": "Not found",
        "content": _PROBLEM_CONTENT,
    },
    422: {
        "model": ProblemBody,
        "description": "Invalid request",
        "content": _PROBLEM_CONTENT,
    },
}
"""Error answers every API route may give, for the OpenAPI document."""

BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ProblemBody,
        "description": "The body cannot be read as JSON text (e.g. not UTF-8)",
        "content": _PROBLEM_CONTENT,
    },
    413: {
        "model": ProblemBody,
        "description": "The body is larger than OKRSYNC_MAX_BODY_BYTES",
        "content": _PROBLEM_CONTENT,
    },
}
"""Further error answers of the routes that take a JSON body."""


class Problem(Exception):
    """An error to answer with; routes and services raise it."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or _TYPES.get(status, "error")
        self.headers = headers or {}


class NotFound(Problem):
    """The id names nothing."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(404, "Not Found", f"No {what} with id {ident!r}.")


def problem_response(
    status: int,
    title: str,
    detail: str,
    kind: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """A problem+json answer."""
    body = ProblemBody(
        type=f"urn:okrsync:problem:{kind or _TYPES.get(status, 'error')}",
        title=title,
        status=status,
        detail=detail,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE
    )


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    response = problem_response(exc.status, exc.title, exc.detail, exc.kind)
    response.headers.update(exc.headers)
    return response


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    title = _title(exc.status_code)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.url.path}."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    response = problem_response(exc.status_code, title, detail)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        response.headers["Allow"] = allowed
    return response


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts on this path, for a 405's Allow header.

    Starlette names only the methods of the first route whose path matched,
    while RFC 9110 asks for all of them; each method is tried against the
    routes as the router itself would.
    """
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in routes
        )
    ]
    return ", ".join(allowed)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "location": ".".join(str(part) for part in error["loc"]),
            "message": error["msg"],
        }
        for error in exc.errors()
    ]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
    return problem_response(422, "Invalid request", detail, errors=errors)


async def _on_crash(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        500, "Internal error", "The server failed; the error has been logged."
    )


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install(app: FastAPI) -> None:
    """Route every error through the problem+json handlers."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(Exception, _on_crash)
