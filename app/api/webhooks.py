"""Incoming webhooks from GitHub and Jira sources."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api.deps import ServiceDep
from app.api.problems import RESPONSES, ProblemBody
from app.webhooks.receive import Kind, receive

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


# The answer to a webhook delivery.
class WebhookAnswer(BaseModel):
    status: str = Field(description="accepted, duplicate or ignored (a ping).")
    key_results: list[str] | None = Field(
        default=None, description="Key results that will re-sync (when accepted)."
    )
    delivery_id: str | None = Field(
        default=None, description="The delivery id seen before (when duplicate)."
    )
    event: str | None = Field(default=None, description="The event ignored.")


def _problem(description: str) -> dict[str, Any]:
    return {**RESPONSES[404], "model": ProblemBody, "description": description}


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": WebhookAnswer, "description": "A duplicate delivery, or a ping"},
    400: _problem("The body is not a JSON object"),
    401: _problem("The signature is missing or wrong; nothing was stored"),
    404: _problem("No such source, wrong type, or the source has no webhook_secret"),
    413: _problem("The body is larger than OKRSYNC_WEBHOOK_MAX_BYTES"),
}


async def _answer(
    kind: Kind, source: str, request: Request, service: ServiceDep
) -> JSONResponse:
    answer = await receive(service, kind, source, request.headers, request.stream())
    body = WebhookAnswer.model_validate(answer.body).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=answer.status)


@router.post(
    "/github/{source}",
    status_code=202,
    response_model=WebhookAnswer,
    responses=_ANSWERS,
)
async def github_webhook(
    source: str, request: Request, service: ServiceDep
) -> JSONResponse:
    """Receive a GitHub webhook for a source; re-sync what it can affect.

    Signed with the source's `webhook_secret` in `X-Hub-Signature-256`;
    `X-GitHub-Delivery` makes it idempotent. Answers 202 at once; the
    re-sync follows within `OKRSYNC_WEBHOOK_DEBOUNCE_SECONDS`.
    """
    return await _answer("github", source, request, service)


@router.post(
    "/jira/{source}",
    status_code=202,
    response_model=WebhookAnswer,
    responses=_ANSWERS,
)
async def jira_webhook(
    source: str, request: Request, service: ServiceDep
) -> JSONResponse:
    """Receive a Jira webhook for a source; re-sync what it can affect.

    Signed with the source's `webhook_secret` in `X-Hub-Signature`;
    `X-Atlassian-Webhook-Identifier` (or, without it, the body's SHA-256)
    makes it idempotent.
    """
    return await _answer("jira", source, request, service)
