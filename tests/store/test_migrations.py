"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from app.store.db import Database, SchemaOutOfDateError, head_revision


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        else:
            await connection.run_sync(SQLModel.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    yield database
    await database.dispose()


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_every_migration_from_empty_matches_the_models(
    empty_database: Database,
) -> None:
    await empty_database.upgrade()

    async with empty_database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_prepare_creates_an_empty_database_and_then_leaves_it(
    empty_database: Database,
) -> None:
    await empty_database.prepare()
    await empty_database.prepare()

    async with empty_database.engine.connect() as connection:
        version = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    assert version == head_revision()


async def test_prepare_refuses_a_schema_it_did_not_migrate(
    empty_database: Database,
) -> None:
    async with empty_database.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)

    with pytest.raises(SchemaOutOfDateError, match="okrsync db upgrade"):
        await empty_database.prepare()
