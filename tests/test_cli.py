"""The okrsync command as an admin uses it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.store.db import Database
from connectors.base import ConfigurationError

runner = CliRunner()

FAKE_FILE = """\
version: 1
sources:
  fake:
    type: fake
objectives:
  - id: obj
    title: Grow
    period: 2026-Q4
    key_results:
      - {id: a, title: Signups, source: fake, metric: count, query: q1, target: 100}
      - {id: b, title: Bugs, source: fake, metric: count, query: q2, start: 9,
         target: 1}
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OKRSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("OKRSYNC_MAPPINGS", raising=False)


class TestValidate:
    def test_valid_file(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OKRSYNC_SANDBOX_POSTHOG_TOKEN", "phx_test")

        result = runner.invoke(cli, ["validate", "mappings/example.yaml"])

        assert result.exit_code == 0, result.output
        assert "objective(s)" in result.output

    def test_a_missing_variable_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("OKRSYNC_SANDBOX_POSTHOG_TOKEN", raising=False)

        result = runner.invoke(cli, ["validate", "mappings/example.yaml"])

        assert result.exit_code == 1
        assert "OKRSYNC_SANDBOX_POSTHOG_TOKEN is not set" in result.output

    def test_broken_file_names_file_line_and_field(
        self, write_mapping: Callable[..., Path]
    ) -> None:
        path = write_mapping(
            "version: 1\nobjectives:\n  - id: o\n    title: O\n    period: 2026-Q4\n"
            "    key_results:\n      - id: k\n        title: K\n        target: x\n"
        )

        result = runner.invoke(cli, ["validate", str(path)])

        assert result.exit_code == 1
        assert f"{path}:9: objectives[0].key_results[0].target:" in result.output
        assert "Traceback" not in result.output

    def test_missing_file(self, tmp_path: Path) -> None:
        result = runner.invoke(cli, ["validate", str(tmp_path / "nope.yaml")])

        assert result.exit_code == 1
        assert "no such file or folder" in result.output


class TestSync:
    def test_prints_table_and_succeeds(
        self, fake_connector: type[Any], write_mapping: Callable[..., Path]
    ) -> None:
        fake_connector.answers = {"q1": 40.0, "q2": 5.0}
        path = write_mapping(FAKE_FILE)

        result = runner.invoke(cli, ["sync", "--mappings", str(path)])

        assert result.exit_code == 0, result.output
        assert "Signups" in result.output
        assert "40 %" in result.output
        assert "fake: 2 requests for 2 distinct queries" in result.output

    def test_exits_non_zero_when_a_key_result_failed(
        self, fake_connector: type[Any], write_mapping: Callable[..., Path]
    ) -> None:
        fake_connector.answers = {"q1": 40.0, "q2": ConfigurationError("bad JQL")}
        path = write_mapping(FAKE_FILE)

        result = runner.invoke(cli, ["sync", "--mappings", str(path)])

        assert result.exit_code == 1
        assert "stale: bad JQL" in result.output

    def test_without_mappings_says_how_to_give_them(self) -> None:
        result = runner.invoke(cli, ["sync"])

        assert result.exit_code == 2
        assert "--mappings" in result.output

    def test_bad_database_url_is_a_clear_error(
        self, fake_connector: type[Any], write_mapping: Callable[..., Path]
    ) -> None:
        path = write_mapping(FAKE_FILE)

        result = runner.invoke(
            cli, ["sync", "--mappings", str(path), "--database-url", "nonsense"]
        )

        assert result.exit_code == 2
        assert "is not a database URL" in result.output


class TestDatabase:
    def test_sync_creates_the_schema_of_an_empty_database(
        self, fake_connector: type[Any], write_mapping: Callable[..., Path]
    ) -> None:
        fake_connector.answers = {"q1": 40.0, "q2": 5.0}

        result = runner.invoke(
            cli, ["sync", "--mappings", str(write_mapping(FAKE_FILE))]
        )

        assert result.exit_code == 0, result.output

    def test_a_schema_behind_the_code_is_refused_with_what_to_run(
        self, tmp_path: Path, write_mapping: Callable[..., Path], fake_connector: Any
    ) -> None:
        url = f"sqlite:///{tmp_path / 'old.db'}"

        async def old_schema() -> None:
            database = Database(url)
            await database.create_schema()
            await database.dispose()

        asyncio.run(old_schema())

        result = runner.invoke(
            cli,
            [
                "sync",
                "--mappings",
                str(write_mapping(FAKE_FILE)),
                "--database-url",
                url,
            ],
        )

        assert result.exit_code == 2
        assert "okrsync db upgrade" in result.output

    def test_db_upgrade_brings_an_empty_database_to_head(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'new.db'}"

        result = runner.invoke(cli, ["db", "upgrade", "--database-url", url])

        assert result.exit_code == 0, result.output
        assert (tmp_path / "new.db").exists()
