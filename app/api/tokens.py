"""API tokens: create (shown once), list, revoke. Admin only."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from app.api.auth import Scope
from app.api.deps import ServiceDep, SessionDep
from app.api.problems import BODY_RESPONSES, NotFound
from app.store import tokens

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


# What a new token is for.
class TokenCreate(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=100, description="Who uses it.")
    scope: Scope = Field(description="read, write (check-ins) or admin.")


# A token as listed: never the token itself.
class TokenPublic(BaseModel):
    id: str
    name: str
    scope: str
    hint: str = Field(description="The token's first characters.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# A new token: the only answer that carries the token.
class TokenCreated(TokenPublic):
    token: str = Field(description="Shown once; only a hash is kept.")


# Every token.
class TokenList(BaseModel):
    items: list[TokenPublic]


@router.post(
    "",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses=BODY_RESPONSES,
)
async def create_token(
    body: TokenCreate, session: SessionDep, service: ServiceDep
) -> TokenCreated:
    """Create a token; the answer is the only place it is ever shown."""
    row, token = await tokens.create(session, body.name, body.scope, service.clock())
    await session.commit()
    public = TokenPublic.model_validate(row, from_attributes=True)
    return TokenCreated(**public.model_dump(), token=token)


@router.get("", response_model=TokenList)
async def list_tokens(session: SessionDep) -> TokenList:
    """List tokens with their scope and last use."""
    rows = await tokens.list_all(session)
    return TokenList(
        items=[TokenPublic.model_validate(row, from_attributes=True) for row in rows]
    )


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(
    token_id: str, session: SessionDep, service: ServiceDep
) -> Response:
    """Revoke a token; replicas stop accepting it within seconds."""
    if not await tokens.revoke(session, token_id, service.clock()):
        raise NotFound("live token", token_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
