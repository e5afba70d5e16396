"""Database set-up: async engine, session factory, schema creation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store import tables  # noqa: F401  (registers the tables)

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


class DatabaseURLError(ValueError):
    """The database URL cannot be used."""


def async_url(url: str) -> str:
    """Give a plain SQLAlchemy URL the async driver this service uses."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseURLError(f"{url!r} is not a database URL") from exc
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL mode and a busy timeout."""
    full = async_url(url)
    is_sqlite = full.startswith("sqlite")
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": 30}
    try:
        engine = create_async_engine(full, **kwargs)
    except (ArgumentError, ImportError) as exc:
        shown = make_url(full).render_as_string(hide_password=True)
        raise DatabaseURLError(f"cannot use database URL {shown}: {exc}") from exc
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Create missing tables; existing ones are left as they are."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)


class Database:
    """The engine and session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.session = session_factory(self.engine)

    async def create_schema(self) -> None:
        """Create missing tables."""
        await create_schema(self.engine)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
