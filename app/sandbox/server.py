"""The sandbox upstream: one local server that answers like Jira and GitHub.

Three upstreams share one port:

=============  ===========================================================
`/jira-cloud`  Jira Cloud (REST v3 enhanced search, token paging)
`/jira-dc`     Jira Data Center (REST v2 search, startAt paging)
`/github`      GitHub REST (issue search, milestones, issues, rate limit)
=============  ===========================================================

Every request is logged (`RequestLog`), may be delayed or answered by an
injected fault (`Faults`), and GitHub answers carry rate-limit headers.
`SandboxServer` runs it on loopback in a background thread for tests and
benchmarks; `serve_forever` runs it in the foreground for `okrsync sandbox`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from collections.abc import MutableMapping
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.analytics import mount_analytics
from app.sandbox.data import Company, build_company
from app.sandbox.faults import (
    DroppedConnection,
    Faults,
    HeldRequest,
    InjectedAnswer,
)
from app.sandbox.github_api import DOCS_URL, github_router
from app.sandbox.github_api import PREFIX as GITHUB_PREFIX
from app.sandbox.github_graphql import github_graphql_router
from app.sandbox.jira_api import cloud_router, datacenter_router, jira_error
from app.sandbox.requestlog import LoggedRequest, RequestLog
from app.sandbox.state import RateLimits, SandboxState

logger = logging.getLogger(__name__)

UPSTREAMS = {"jira-cloud": "/jira-cloud", "jira-dc": "/jira-dc", "github": "/github"}
STARTUP_TIMEOUT = 10.0
RATE_LIMITED = (
    "API rate limit exceeded. (But here's the good news: this is the okrsync "
    "sandbox, so the limit resets within the hour.)"
)


def rate_resource(path: str) -> str | None:
    """The GitHub rate-limit resource a path counts against, if any."""
    if path.startswith(f"{GITHUB_PREFIX}/search/"):
        return "search"
    if path == f"{GITHUB_PREFIX}/rate_limit":
        return None
    return "core"


def injected_response(answer: InjectedAnswer, path: str) -> Response:
    """The response for an injected fault, with the upstream's error body."""
    headers = dict(answer.headers)
    body = answer.body
    if body is None and answer.status not in (204, 304):
        body = _default_error_body(answer.status, path)
    if isinstance(body, dict | list):
        return JSONResponse(body, status_code=answer.status, headers=headers)
    media_type = headers.pop("content-type", "text/plain; charset=utf-8")
    return Response(
        body, status_code=answer.status, headers=headers, media_type=media_type
    )


def _default_error_body(status: int, path: str) -> dict[str, Any]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if path.startswith(GITHUB_PREFIX):
        return {"message": phrase, "documentation_url": DOCS_URL}
    return {"errorMessages": [phrase], "errors": {}}


class SandboxMiddleware:
    """Logs each request, applies faults, and stamps GitHub's rate headers."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        body = await _read_body(receive)
        path: str = scope["path"]
        entry = self.state.log.record(
            scope["method"],
            path,
            scope.get("query_string", b""),
            scope["headers"],
            body,
        )
        replay = _replay(body, receive)
        send = self._watch(send, entry, path)

        delay = self.state.faults.latency_for(path)
        if delay > 0:
            await self.state.faults.sleep(delay)

        fault = self.state.faults.take(path)
        if fault is not None:
            entry.injected = True
        if isinstance(fault, DroppedConnection):
            await drop_connection(receive)
            return
        if isinstance(fault, InjectedAnswer):
            await injected_response(fault, path)(scope, replay, send)
            return
        if isinstance(fault, HeldRequest):
            # The client has likely given up by now; answering anyway is
            # harmless, as the server discards answers to closed connections.
            await self.state.faults.sleep(fault.seconds)
        refusal = self._refusal(path)
        if refusal is not None:
            await refusal(scope, replay, send)
            return
        await self.app(scope, replay, send)

    def _refusal(self, path: str) -> Response | None:
        """GitHub's 403 when rate limits are enforced and one is used up."""
        limits = self.state.rate_limits
        resource = rate_resource(path) if path.startswith(GITHUB_PREFIX) else None
        if not limits.enforce or resource is None:
            return None
        window = limits.peek(resource)
        if window.remaining > 0:
            return None
        body = {"message": RATE_LIMITED, "documentation_url": DOCS_URL}
        return JSONResponse(body, status_code=403, headers=window.headers())

    def _watch(self, send: Send, entry: LoggedRequest, path: str) -> Send:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                if path.startswith(GITHUB_PREFIX):
                    self._stamp_rate_headers(message, path, entry)
            await send(message)

        return watched

    def _stamp_rate_headers(
        self, message: MutableMapping[str, Any], path: str, entry: LoggedRequest
    ) -> None:
        """Charge the answer to its resource (304s are free) and say so."""
        limits = self.state.rate_limits
        status = message["status"]
        if status == 304:
            limits.note_not_modified()
        headers = MutableHeaders(scope=message)
        if "x-ratelimit-remaining" in headers:
            return
        resource = rate_resource(path)
        if resource is not None and status != 304 and not entry.injected:
            window = limits.consume(resource)
        else:
            window = limits.peek(resource or "core")
        for name, value in window.headers().items():
            headers[name] = value


async def drop_connection(receive: Receive) -> None:
    """Reset the client's connection without answering.

    ASGI has no message for this, and raising only makes the server answer
    500. So it closes the socket itself, reached through the server's
    per-request cycle, whose bound `receive` uvicorn hands to the app; with
    SO_LINGER at 0 the close sends a reset (RST) rather than an orderly FIN.

    Raises:
        RuntimeError: The app is not served by uvicorn (e.g. called in-process
            through httpx's ASGI transport), so there is no connection to drop.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if not isinstance(transport, asyncio.Transport):
        raise RuntimeError(
            "The sandbox can reset a connection only when uvicorn serves it; "
            "run it with SandboxServer to inject connection resets."
        )
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let uvicorn see the connection lost before the app returns, or it would
    # try to answer 500 on the dead connection and log an error.
    await asyncio.sleep(0)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the app, then pass through the rest."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _http_error(request: Request, error: Exception) -> Response:
    """Unknown routes and methods, in the error shape of the upstream asked."""
    status = error.status_code if isinstance(error, StarletteHTTPException) else 500
    path = request.url.path
    if path.startswith(GITHUB_PREFIX):
        message = HTTPStatus(status).phrase
        body = {
            "message": message,
            "documentation_url": DOCS_URL,
            "status": str(status),
        }
        return JSONResponse(body, status_code=status)
    if path.startswith(("/jira-cloud", "/jira-dc")):
        return jira_error(status, f"No Jira REST resource answers {path}.")
    return JSONResponse({"message": HTTPStatus(status).phrase}, status_code=status)


async def _index(request: Request) -> Response:
    """What the sandbox serves, for a newcomer opening it in a browser."""
    base = f"{request.url.scheme}://{request.url.netloc}"
    company: Company = request.app.state.sandbox.company
    return JSONResponse(
        {
            "name": "okrsync sandbox",
            "company": company.name,
            "seed": company.seed,
            "upstreams": {name: base + prefix for name, prefix in UPSTREAMS.items()},
        }
    )


def create_app(
    company: Company | None = None,
    faults: Faults | None = None,
    *,
    seed: int = 7,
    rate_limits: RateLimits | None = None,
) -> FastAPI:
    """Build the sandbox app.

    Args:
        company: The data to serve; `build_company(seed)` when None.
        faults: Fault switches to consult; a fresh, empty set when None.
        seed: The seed for the default company.
        rate_limits: GitHub rate-limit counters; fresh ones when None.

    Returns:
        The app; `app.state.sandbox` holds its company, faults, log and
        rate limits.
    """
    state = SandboxState(
        company=company or build_company(seed),
        faults=faults or Faults(),
        log=RequestLog(),
        rate_limits=rate_limits or RateLimits(),
    )
    app = FastAPI(
        title="okrsync sandbox", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.sandbox = state
    app.include_router(cloud_router())
    app.include_router(datacenter_router())
    app.include_router(github_router())
    app.include_router(github_graphql_router())
    mount_analytics(app, state.company.seed)
    app.add_api_route("/", _index, methods=["GET"])
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(SandboxMiddleware, state=state)
    return app


class SandboxServer:
    """The sandbox on 127.0.0.1 in a background thread.

    Use it as a context manager::

        with SandboxServer() as sandbox:
            httpx.get(f"{sandbox.url}/github/rate_limit")
            sandbox.faults.add("/github/search/issues", status=503)
            assert sandbox.log.count("/github") == 1
    """

    def __init__(
        self,
        company: Company | None = None,
        *,
        seed: int = 7,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        """Prepare a server; nothing listens until `start`.

        Args:
            company: The data to serve; `build_company(seed)` when None.
            seed: The seed for the default company.
            faults: Fault switches; a fresh set when None.
            host: The address to bind; keep it on loopback.
            port: The port; 0 picks a free one.
            startup_timeout: Seconds to wait for the server to accept
                connections before giving up.
        """
        self.app = create_app(company, faults, seed=seed)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def state(self) -> SandboxState:
        """The app's shared state."""
        state: SandboxState = self.app.state.sandbox
        return state

    @property
    def company(self) -> Company:
        """The data served."""
        return self.state.company

    @property
    def faults(self) -> Faults:
        """The fault switches the server consults."""
        return self.state.faults

    @property
    def log(self) -> RequestLog:
        """Every request received."""
        return self.state.log

    @property
    def rate_limits(self) -> RateLimits:
        """GitHub rate-limit counters."""
        return self.state.rate_limits

    @property
    def running(self) -> bool:
        """Whether the server accepts connections."""
        return self._server is not None and self._server.started

    @property
    def url(self) -> str:
        """Base URL, e.g. "http://127.0.0.1:PORT".

        Raises:
            RuntimeError: The server has not been started.
        """
        if self._socket is None:
            raise RuntimeError(
                "The sandbox is not running: call start() or use it in a with block."
            )
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def jira_cloud_url(self) -> str:
        """Site URL of the Jira Cloud upstream."""
        return self.url + UPSTREAMS["jira-cloud"]

    @property
    def jira_dc_url(self) -> str:
        """Site URL of the Jira Data Center upstream."""
        return self.url + UPSTREAMS["jira-dc"]

    @property
    def github_url(self) -> str:
        """API base URL of the GitHub upstream."""
        return self.url + UPSTREAMS["github"]

    def start(self) -> Self:
        """Listen and serve in a background thread; return once it accepts.

        Raises:
            OSError: The address could not be bound.
            RuntimeError: The server stopped or did not start in time.
        """
        if self._server is not None:
            return self
        # The protocol must be named: asyncio sets TCP_NODELAY on accepted
        # connections only for IPPROTO_TCP sockets, and without it every
        # answer stalls for a delayed ACK (about 40 ms).
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [listener]},
            name="okrsync-sandbox",
            daemon=True,
        )
        self._server, self._thread, self._socket = server, thread, listener
        thread.start()
        try:
            self._wait_until_started(server, thread)
        except RuntimeError:
            self.stop()
            raise
        logger.info("Sandbox listening on %s", self.url)
        return self

    def _wait_until_started(
        self, server: uvicorn.Server, thread: threading.Thread
    ) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(
                    "The sandbox server stopped while starting; its log says why."
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"The sandbox did not accept connections within "
                    f"{self.startup_timeout:g} s; check that {self.host} is local."
                )
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        server, thread, listener = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=STARTUP_TIMEOUT)
        if listener is not None:
            listener.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(host: str = "127.0.0.1", port: int = 8930, seed: int = 7) -> None:
    """Serve the sandbox in the foreground until interrupted (`okrsync sandbox`).

    Args:
        host: The address to bind; keep it on loopback.
        port: The port to listen on.
        seed: The seed of the made-up company.
    """
    app = create_app(seed=seed)
    base = f"http://{host}:{port}"
    logger.info(
        "Sandbox (seed %s): Jira Cloud at %s, Jira Data Center at %s, GitHub at %s",
        seed,
        base + UPSTREAMS["jira-cloud"],
        base + UPSTREAMS["jira-dc"],
        base + UPSTREAMS["github"],
    )
    config = uvicorn.Config(
        app, host=host, port=port, lifespan="off", ws="none", http="h11"
    )
    uvicorn.Server(config).run()
