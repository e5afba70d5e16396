"""API tokens: created, listed, revoked, and looked up by hash."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.tables import ApiTokenRow

TOKEN_PREFIX = "okr_"


def hash_token(token: str) -> str:
    """The stored form of a token. Tokens are long and random, so a plain
    SHA-256 is enough: there is nothing to guess."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    session: AsyncSession, name: str, scope: str, now: datetime
) -> tuple[ApiTokenRow, str]:
    """A new token; returns its row and the token, which is not kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        id=uuid.uuid4().hex[:12],
        name=name,
        scope=scope,
        token_hash=hash_token(token),
        hint=token[: len(TOKEN_PREFIX) + 4],
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, token


async def find(session: AsyncSession, token: str) -> ApiTokenRow | None:
    """The live (not revoked) token with this value."""
    query = select(ApiTokenRow).where(
        ApiTokenRow.token_hash == hash_token(token),
        col(ApiTokenRow.revoked_at).is_(None),
    )
    return (await session.exec(query)).first()


async def list_all(session: AsyncSession) -> list[ApiTokenRow]:
    """Every token, newest first, revoked ones included."""
    query = select(ApiTokenRow).order_by(col(ApiTokenRow.created_at).desc())
    return list(await session.exec(query))


async def revoke(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Revoke a token by id; False when there is no live token with it."""
    row = await session.get(ApiTokenRow, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    session.add(row)
    return True


async def mark_used(session: AsyncSession, token_id: str, now: datetime) -> None:
    """Record use; callers limit how often, so polling does not write per read."""
    statement = (
        update(ApiTokenRow)
        .where(col(ApiTokenRow.id) == token_id)
        .values(last_used_at=now)
    )
    await session.exec(statement)
