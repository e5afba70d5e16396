"""The Dockerfile and docker-compose.yml configure okrsync through settings
that exist and run commands that exist (no Docker engine is needed)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OKRSYNC_SERVICES = ("migrate", "okrsync-1", "okrsync-2")
# Variables the mapping names, not okrsync settings.
MAPPING_VARIABLES = {"OKRSYNC_SANDBOX_URL", "OKRSYNC_SANDBOX_POSTHOG_TOKEN"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(ROOT / "docker-compose.yml")
    return loaded


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in joined.splitlines()]
    found = [line.split(None, 1) for line in lines if line and not line[0] == "#"]
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "") for parts in found]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            for pair in arguments.split():
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [name for name in os.environ if name.startswith("OKRSYNC_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, interpolate(str(value)))
    return Settings()


def unknown_settings(env: dict[str, Any]) -> set[str]:
    fields = {f"OKRSYNC_{name.upper()}" for name in Settings.model_fields}
    names = {name for name in env if name.startswith("OKRSYNC_")}
    return names - fields - MAPPING_VARIABLES


def test_every_okrsync_variable_in_the_image_and_compose_file_is_a_setting(
    compose: dict[str, Any],
) -> None:
    assert unknown_settings(dockerfile_env()) == set()
    for name in OKRSYNC_SERVICES:
        assert unknown_settings(compose["services"][name]["environment"]) == set()


def test_each_replica_gets_postgres_the_schedule_and_a_port_of_its_own(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = []
    for name in ("okrsync-1", "okrsync-2"):
        env = {**dockerfile_env(), **compose["services"][name]["environment"]}
        settings = settings_from(env, monkeypatch)
        assert settings.database_url.startswith("postgresql://")
        assert "@postgres:5432/" in settings.database_url
        assert settings.sync_interval > 0
        assert settings.schedule_lease_ttl >= 3
        assert settings.host == "0.0.0.0"
        ports.append(settings.port)

    published = compose["services"]["sandbox"]["ports"]
    assert published == [f"127.0.0.1:{port}:{port}" for port in ports]
    assert len(set(ports)) == 2


def test_the_services_run_commands_that_the_cli_has(compose: dict[str, Any]) -> None:
    [(_, cmd)] = [pair for pair in dockerfile_instructions() if pair[0] == "CMD"]
    commands = [json.loads(cmd)]
    commands += [
        compose["services"][name]["command"] for name in ("migrate", "sandbox")
    ]
    runner = CliRunner()

    for command in commands:
        assert command[0] == "okrsync"
        words = [word for word in command[1:] if not word.startswith("-")]
        words = [word for word in words if not word.isdigit()]
        result = runner.invoke(cli, [*words, "--help"])
        assert result.exit_code == 0, (command, result.output)

    assert commands[0] == ["okrsync", "serve"]


def test_the_image_runs_as_a_numeric_non_root_user_with_a_health_check() -> None:
    instructions = dockerfile_instructions()
    [user] = [arguments for name, arguments in instructions if name == "USER"]
    [health] = [arguments for name, arguments in instructions if name == "HEALTHCHECK"]

    uid, _, gid = user.partition(":")
    assert int(uid) >= 1000
    assert int(gid) >= 1000
    assert "/healthz" in health
    assert "OKRSYNC_PORT" in health
