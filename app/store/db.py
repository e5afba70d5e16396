"""Database set-up: async engine, session factory, schema creation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


def register_tables() -> None:
    """Import every table module so that SQLModel.metadata knows them all."""
    import app.store.lease_tables  # noqa: F401
    import app.store.tables  # noqa: F401
    import app.store.webhook_tables  # noqa: F401


register_tables()

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


@dataclass(frozen=True)
class PoolOptions:
    """Connection pool of one process; used for PostgreSQL only.

    Every replica has its own pool, so `size + max_overflow` times the number
    of replicas must stay below the server's `max_connections`.
    """

    size: int = 5
    """Connections kept open."""
    max_overflow: int = 10
    """Extra connections opened under load and closed when returned."""
    timeout: float = 10.0
    """Seconds to wait for a free connection before giving up with an error."""
    pre_ping: bool = True
    """Test each connection as it is taken, so one the server dropped (a
    restart, an idle timeout) is replaced instead of failing a request."""


def create_engine(url: str, pool: PoolOptions | None = None) -> AsyncEngine:
    """An async engine; SQLite gets WAL mode and a busy timeout, PostgreSQL
    the pool `pool` describes (defaults when None)."""
    full = async_url(url)
    is_sqlite = full.startswith("sqlite")
    if is_sqlite:
        _check_sqlite_folder(full)
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(_pool_arguments(pool or PoolOptions()))
    try:
        engine = create_async_engine(full, **kwargs)
    except (ArgumentError, ImportError) as exc:
        shown = make_url(full).render_as_string(hide_password=True)
        raise DatabaseURLError(f"cannot use database URL {shown}: {exc}") from exc
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _pool_arguments(pool: PoolOptions) -> dict[str, Any]:
    return {
        "pool_size": pool.size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.timeout,
        "pool_pre_ping": pool.pre_ping,
    }


def _check_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().resolve().parent
    if not folder.is_dir():
        raise DatabaseURLError(
            f"cannot use database {database}: the folder {folder} does not exist"
        )


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


class SchemaOutOfDateError(RuntimeError):
    """The database schema is older (or newer) than this okrsync expects."""


def alembic_config(url: str) -> Any:
    """Alembic's configuration for this package's migrations and `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "app.store:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest migration this okrsync ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(engine: AsyncEngine) -> tuple[str | None, bool]:
    """The database's migration revision, and whether it has any okrsync table."""

    def read(connection: Any) -> tuple[str | None, bool]:
        from alembic.runtime.migration import MigrationContext

        names = set(inspect(connection).get_table_names())
        revision = MigrationContext.configure(connection).get_current_revision()
        return revision, bool(names & set(SQLModel.metadata.tables))

    async with engine.connect() as connection:
        return await connection.run_sync(read)


class Database:
    """The engine and session factory for one database URL."""

    def __init__(self, url: str, pool: PoolOptions | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, pool)
        self.session = session_factory(self.engine)

    async def create_schema(self) -> None:
        """Create missing tables straight from the models (tests only)."""
        await create_schema(self.engine)

    async def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to `revision`."""
        from alembic import command

        config = alembic_config(self.url)
        await asyncio.to_thread(command.upgrade, config, revision)

    async def prepare(self) -> None:
        """Make an empty database current; refuse one whose schema is behind.

        Raises:
            SchemaOutOfDateError: The schema is not at this okrsync's revision.
        """
        revision, has_tables = await current_revision(self.engine)
        head = head_revision()
        if revision == head:
            return
        if revision is None and not has_tables:
            await self.upgrade()
            return
        raise SchemaOutOfDateError(
            f"the database schema is at revision {revision or 'none'} but this "
            f"okrsync needs {head}; back up the database, then run "
            "`okrsync db upgrade`"
        )

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
