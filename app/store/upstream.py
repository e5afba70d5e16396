"""What okrsync keeps about each upstream source between syncs.

Deferrals (a source left alone until a time, after a long rate limit) and
readings kept with their ETags, for conditional requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.tables import ReadingCacheRow, SourceStateRow
from connectors.base import CachedReading, Evidence, Reading, ReadingCache


async def deferred_sources(
    session: AsyncSession, sources: list[str], now: datetime
) -> dict[str, SourceStateRow]:
    """Sources (by fingerprint) that must be left alone at `now`."""
    rows = await session.exec(
        select(SourceStateRow).where(col(SourceStateRow.source).in_(sources))
    )
    return {
        row.source: row
        for row in rows
        if row.deferred_until is not None and row.deferred_until > now
    }


async def set_deferral(
    session: AsyncSession,
    source: str,
    name: str,
    until: datetime | None,
    reason: str | None,
    now: datetime,
) -> None:
    """Leave a source alone until `until`, or (None) clear that."""
    row = await session.get(SourceStateRow, source)
    if row is None:
        if until is None:
            return
        row = SourceStateRow(source=source, name=name, updated_at=now)
    row.sqlmodel_update(
        {"name": name, "deferred_until": until, "reason": reason, "updated_at": now}
    )
    session.add(row)


async def load_reading_cache(session: AsyncSession, source: str) -> ReadingCache:
    """Every kept reading of a source, ready for conditional requests."""
    rows = await session.exec(
        select(ReadingCacheRow).where(ReadingCacheRow.source == source)
    )
    entries = {
        row.key: CachedReading(row.etag, _reading(row.reading or {})) for row in rows
    }
    return ReadingCache(entries)


async def save_reading_cache(
    session: AsyncSession, source: str, cache: ReadingCache, now: datetime
) -> None:
    """Store the readings that changed during a sync."""
    if not cache.changed:
        return
    stored = await session.exec(
        select(ReadingCacheRow)
        .where(ReadingCacheRow.source == source)
        .where(col(ReadingCacheRow.key).in_(list(cache.changed)))
    )
    existing = {row.key: row for row in stored}
    for key in cache.changed:
        entry = cache.entries[key]
        row = existing.get(key)
        if row is None:
            row = ReadingCacheRow(source=source, key=key, etag="", updated_at=now)
        row.etag = entry.etag
        row.reading = {
            "value": entry.reading.value,
            "evidence": entry.reading.evidence.model_dump(mode="json"),
            "notes": entry.reading.notes,
        }
        row.updated_at = now
        session.add(row)
    cache.changed.clear()


def _reading(data: dict[str, Any]) -> Reading:
    evidence = Evidence.model_validate(data.get("evidence") or {"request": ""})
    return Reading(data.get("value"), evidence, list(data.get("notes") or []))
