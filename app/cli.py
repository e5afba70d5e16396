"""The `okrsync` command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from app.api import create_app
from app.mapping import MappingError, MappingSet, load_mapping_set
from app.service import Service
from app.settings import Settings
from app.store.db import Database, DatabaseURLError, SchemaOutOfDateError
from app.sync.engine import SyncReport
from app.sync.source_run import SourceStats

cli = typer.Typer(
    help="Keep OKR key-result progress in step with Jira, GitHub and analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MAPPING = REPO_ROOT / "mappings" / "example.yaml"
OPENAPI_FILE = REPO_ROOT / "openapi" / "openapi.json"
SCHEMA_FILE = REPO_ROOT / "schema" / "mapping.schema.json"

MappingsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--mappings",
        "-m",
        help="A mapping file or a folder of *.yaml; repeatable. "
        "Default: OKRSYNC_MAPPINGS.",
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy database URL. Default: OKRSYNC_DATABASE_URL."),
]


def main() -> None:
    """Entry point of the console script."""
    cli()


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line values on top."""
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            name = "OKRSYNC_" + "_".join(str(part) for part in error["loc"]).upper()
            err.print(f"Invalid setting {name}: {error['msg']}", style="red")
        raise typer.Exit(2) from None
    _configure_logging(settings.log_level)
    return settings


def _configure_logging(level_name: str) -> None:
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        err.print(f"Unknown log level {level_name!r}; using INFO.")
        level = logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # One line per upstream request is debugging detail, not news.
    quiet = logging.WARNING if level > logging.DEBUG else logging.DEBUG
    for name in ("httpx", "httpcore", "alembic"):
        logging.getLogger(name).setLevel(quiet)


def _load_or_exit(paths: list[Path]) -> MappingSet:
    if not paths:
        err.print(
            "No mapping files: pass --mappings PATH or set OKRSYNC_MAPPINGS.",
            style="red",
        )
        raise typer.Exit(2)
    try:
        return load_mapping_set(paths)
    except MappingError as exc:
        _print_problems(exc)
        raise typer.Exit(1) from None


def _print_problems(exc: MappingError) -> None:
    for problem in exc.problems:
        err.print(
            str(problem), style="red", markup=False, highlight=False, soft_wrap=True
        )
    count = len(exc.problems)
    err.print(f"{count} problem{'s' if count != 1 else ''} found; nothing was loaded.")


@cli.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Mapping files or folders.")],
) -> None:
    """Check mapping files and print every problem with file, line and field."""
    mappings = _load_or_exit(paths)
    out.print(
        f"OK: {len(mappings.files)} file(s), {len(mappings.objectives)} objective(s), "
        f"{len(mappings.key_results)} key result(s)."
    )


@cli.command()
def sync(mappings: MappingsOption = None, database_url: DatabaseOption = None) -> None:
    """Sync every key result once, print a table, and exit.

    Exits 1 when any key result failed to sync.
    """
    settings = _settings(database_url=database_url, mappings=mappings)
    loaded = _load_or_exit(settings.mappings)
    report = _run(_sync_once(settings, loaded))
    if report.failed:
        raise typer.Exit(1)


async def _sync_once(settings: Settings, mappings: MappingSet) -> SyncReport:
    service = Service(settings)
    try:
        await service.database.prepare()
        await service.use_mappings(mappings)
        report = await service.sync(trigger="cli")
        await print_progress(service, report)
        return report
    finally:
        await service.close()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to bind.")
    ] = None,
    mappings: MappingsOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the API and sync on the schedule (OKRSYNC_SYNC_INTERVAL)."""
    settings = _settings(
        host=host, port=port, database_url=database_url, mappings=mappings
    )
    _load_or_exit(settings.mappings)
    _run(_prepare_database(settings.database_url))
    app = create_app(Service(settings))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


async def _prepare_database(url: str) -> None:
    """Create an empty database's schema; refuse one that is behind, clearly."""
    database = Database(url)
    try:
        await database.prepare()
    finally:
        await database.dispose()


tokens_cli = typer.Typer(help="API tokens.", no_args_is_help=True)
cli.add_typer(tokens_cli, name="tokens")


@tokens_cli.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="Who or what uses it, e.g. grafana.")],
    scope: Annotated[
        str, typer.Option(help="read, write (check-ins) or admin.")
    ] = "read",
    database_url: DatabaseOption = None,
) -> None:
    """Create a token and print it once; only a hash is kept."""
    if scope not in ("read", "write", "admin"):
        err.print(f"Unknown scope {scope!r}; use read, write or admin.", style="red")
        raise typer.Exit(2)
    settings = _settings(database_url=database_url)
    token_id, token = _run(_create_token(settings, name, scope))
    out.print(f"Token {token_id} ({scope}) for {name}. It is shown only now:")
    sys.stdout.write(token + "\n")


async def _create_token(settings: Settings, name: str, scope: str) -> tuple[str, str]:
    from app.store import tokens

    service = Service(settings)
    try:
        await service.database.prepare()
        async with service.database.session() as session:
            row, token = await tokens.create(session, name, scope, service.clock())
            await session.commit()
        return row.id, token
    finally:
        await service.close()


@tokens_cli.command("list")
def tokens_list(database_url: DatabaseOption = None) -> None:
    """List tokens: names, scopes, last use; never the tokens themselves."""
    settings = _settings(database_url=database_url)
    rows = _run(_list_tokens(settings))
    table = Table()
    for column in ("Id", "Name", "Scope", "Starts with", "Last used", "Revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.id,
            row.name,
            row.scope,
            row.hint + "...",
            f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never",
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
        )
    out.print(table)


async def _list_tokens(settings: Settings) -> list[Any]:
    from app.store import tokens

    service = Service(settings)
    try:
        await service.database.prepare()
        async with service.database.session() as session:
            return await tokens.list_all(session)
    finally:
        await service.close()


@tokens_cli.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tokens list).")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a token; running servers stop accepting it within seconds."""
    settings = _settings(database_url=database_url)
    if not _run(_revoke_token(settings, token_id)):
        err.print(f"No live token with id {token_id!r}.", style="red")
        raise typer.Exit(1)
    out.print(f"Token {token_id} revoked.")


async def _revoke_token(settings: Settings, token_id: str) -> bool:
    from app.store import tokens

    service = Service(settings)
    try:
        await service.database.prepare()
        async with service.database.session() as session:
            done = await tokens.revoke(session, token_id, service.clock())
            await session.commit()
            return done
    finally:
        await service.close()


db_cli = typer.Typer(help="Database schema commands.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


@db_cli.command("upgrade")
def db_upgrade(
    database_url: DatabaseOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply schema migrations (back up the database first)."""
    settings = _settings(database_url=database_url)
    _run(_upgrade(settings.database_url, revision))
    out.print(f"Database schema is at {revision}.")


async def _upgrade(url: str, revision: str) -> None:
    database = Database(url)
    try:
        await database.upgrade(revision)
    finally:
        await database.dispose()


@cli.command()
def demo(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port for the API.")
    ] = 8000,
    database_url: DatabaseOption = None,
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Keep serving the API.")
    ] = True,
) -> None:
    """Start the sandbox upstream, sync mappings/example.yaml, serve the API.

    Unless --database-url is given, the data lives in a temporary folder that
    is removed when the demo stops.
    """
    with tempfile.TemporaryDirectory(prefix="okrsync-demo-") as scratch:
        _demo_with_sandbox(
            database_url or f"sqlite:///{scratch}/demo.db", port, serve_api
        )


def _demo_with_sandbox(database_url: str, port: int, serve_api: bool) -> None:
    from app.sandbox.server import SandboxServer

    quiet = os.environ.get("OKRSYNC_LOG_LEVEL", "WARNING")
    settings = _settings(database_url=database_url, log_level=quiet)
    # The demo's API answers reads without a token; changes need the admin
    # token it prints.
    settings = settings.model_copy(update={"anonymous_read": True})
    with SandboxServer() as sandbox:
        os.environ["OKRSYNC_SANDBOX_URL"] = sandbox.url
        # The sandbox accepts any PostHog-style key; a real one is never needed.
        os.environ.setdefault("OKRSYNC_SANDBOX_POSTHOG_TOKEN", "phx_sandbox_demo")
        out.print(
            f"Sandbox upstream (fake Jira, GitHub and analytics tools): {sandbox.url}",
            soft_wrap=True,
        )
        out.print(f"Database: {settings.database_url}")
        mappings = _load_or_exit([EXAMPLE_MAPPING])
        _run(_demo(settings, mappings, port, serve_api))


async def _demo(
    settings: Settings, mappings: MappingSet, port: int, serve_api: bool
) -> None:
    service = Service(settings)
    try:
        await service.database.prepare()
        await service.use_mappings(mappings)
        report = await service.sync(trigger="demo")
        await print_progress(service, report)
        if not serve_api:
            return
        if not _port_free(settings.host, port):
            busy, port = port, _free_port(settings.host)
            out.print(f"Port {busy} is busy; the API uses port {port} instead.")
        base = f"http://{settings.host}:{port}"
        _, token = await _demo_token(service)
        out.print(f"\nAPI: {base}/api/v1/objectives", soft_wrap=True)
        out.print(f"Docs: {base}/docs", soft_wrap=True)
        out.print("Reads need no token here; for changes send this admin token:")
        out.print(f"Authorization: Bearer {token}", soft_wrap=True, highlight=False)
        out.print("Press Ctrl+C to stop.")
        service.start_schedule()
        app = create_app(service, manage=False)
        config = uvicorn.Config(app, host=settings.host, port=port, log_level="warning")
        await uvicorn.Server(config).serve()
    finally:
        await service.close()


async def _demo_token(service: Service) -> tuple[str, str]:
    from app.store import tokens

    async with service.database.session() as session:
        row, token = await tokens.create(session, "demo", "admin", service.clock())
        await session.commit()
    return row.id, token


@cli.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8930,
    host: Annotated[
        str,
        typer.Option(help="Address to bind; keep it on loopback outside a container."),
    ] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Seed of the made-up company.")] = 7,
) -> None:
    """Run only the sandbox upstream (fake Jira, GitHub and analytics tools)."""
    from app.sandbox.server import serve_forever

    out.print(f"Sandbox upstream on http://{host}:{port} (Ctrl+C to stop)")
    serve_forever(host=host, port=port, seed=seed)


@cli.command()
def openapi(
    check: Annotated[
        bool, typer.Option(help="Exit 1 if the committed file is out of date.")
    ] = False,
    output: Annotated[Path, typer.Option(help="Where to write.")] = OPENAPI_FILE,
) -> None:
    """Write the OpenAPI description of the REST API to openapi/openapi.json."""
    text = openapi_text()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            err.print(f"{output} is out of date; run `okrsync openapi`.", style="red")
            raise typer.Exit(1)
        out.print(f"{output} is up to date.")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    out.print(f"Wrote {output}.")


@cli.command()
def schema(
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of printing.")
    ] = None,
    builtin: Annotated[
        bool, typer.Option(help="Only the connectors that ship with okrsync.")
    ] = False,
    check: Annotated[
        bool, typer.Option(help="Exit 1 if the committed schema is out of date.")
    ] = False,
) -> None:
    """Print the JSON Schema of mapping files, for editors and CI checks."""
    from app.mapping.schema import schema_text

    if check:
        text = schema_text(builtin_only=True)
        if SCHEMA_FILE.read_text(encoding="utf-8") != text:
            err.print(
                f"{SCHEMA_FILE} is out of date; run `okrsync schema --builtin "
                f"--output {SCHEMA_FILE.relative_to(REPO_ROOT)}`.",
                style="red",
            )
            raise typer.Exit(1)
        out.print(f"{SCHEMA_FILE} is up to date.")
        return
    text = schema_text(builtin_only=builtin)
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    out.print(f"Wrote {output}.")


@cli.command()
def preview(
    key_result_id: Annotated[str, typer.Argument(help="The key result's id.")],
    mappings: MappingsOption = None,
) -> None:
    """Fetch one key result now and show value, progress and status; store nothing.

    Works on mapping files that are not loaded anywhere, to try a query first.
    """
    from app.clock import system_clock
    from app.sync.preview import preview as run_preview

    settings = _settings(mappings=mappings)
    loaded = _load_or_exit(settings.mappings)
    kr = loaded.key_results.get(key_result_id)
    if kr is None:
        known = ", ".join(sorted(loaded.key_results)[:20]) or "none"
        err.print(f"No key result {key_result_id!r} in the mappings; ids: {known}")
        raise typer.Exit(1)
    if kr.source is None:
        err.print(f"Key result {key_result_id!r} has no source; it takes check-ins.")
        raise typer.Exit(1)
    result = _run(run_preview(kr, system_clock()))
    _print_preview(kr, result)
    if result.error is not None:
        raise typer.Exit(1)


def _print_preview(kr: Any, result: Any) -> None:
    spec = kr.spec
    rows = [
        ("Key result", f"{spec.id}: {spec.title}"),
        ("Source", f"{spec.source} ({kr.source.config.type}), metric {spec.metric}"),
    ]
    if spec.query:
        rows.append(("Query", spec.query))
    if result.error is not None:
        rows.append(("Error", f"{result.error.kind}: {result.error.message}"))
    else:
        evidence = result.reading.evidence
        rows += [
            ("Request", evidence.request),
            ("Requests", str(result.requests)),
            ("Value", _number(result.reading.value, spec.unit)),
            ("Progress", _percent(result.progress)),
            (
                "Status",
                f"{_status(result.status.value)} "
                f"({_percent(result.expected)} of the period has passed)",
            ),
        ]
        if evidence.summary:
            rows.append(("Answer", json.dumps(evidence.summary, default=str)))
        if evidence.items:
            total = evidence.items_total or len(evidence.items)
            shown = ", ".join(evidence.items[:10])
            more = f" and {total - 10} more" if total > 10 else ""
            rows.append(("Items", f"{total}: {shown}{more}"))
        for note in result.reading.notes:
            rows.append(("Note", note))
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    out.print("Nothing was stored.", style="dim")


def openapi_text() -> str:
    """The OpenAPI document as committed: sorted keys, two-space indent."""
    settings = Settings(database_url="sqlite://", mappings=[])
    app = create_app(Service(settings), manage=False)
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


async def print_progress(service: Service, report: SyncReport) -> None:
    """Print objectives and key results with value, progress and status."""
    from app.store import repository

    async with service.database.session() as session:
        objectives, key_results = await repository.list_objectives(session)
    table = Table(title=f"Sync {report.sync_id[:8]}: {report.state}")
    for column in ("Objective / key result", "Value", "Target", "Progress", "Status"):
        table.add_column(column, justify="left" if column[0] in "OS" else "right")
    table.add_column("Note", overflow="fold", max_width=60)
    for objective in objectives:
        table.add_row(
            f"[bold]{objective.title}[/]",
            "",
            "",
            _percent(objective.progress),
            _status(objective.status),
            "",
        )
        for kr in key_results.get(objective.id, []):
            note = f"stale: {kr.last_error}" if kr.stale else ""
            table.add_row(
                f"  {kr.title}",
                _number(kr.value, kr.unit),
                _number(kr.target, kr.unit),
                _percent(kr.progress),
                _status(kr.status),
                note,
            )
    out.print(table)
    for name, stats in report.stats.items():
        out.print(f"  {name}: {_source_summary(stats)}", highlight=False)


def _source_summary(stats: SourceStats) -> str:
    text = (
        f"{_count(stats.requests, 'request')} for "
        f"{_count(stats.queries, 'distinct query', 'distinct queries')} "
        f"({_count(stats.key_results, 'key result')}, "
        f"{_count(stats.retries, 'retry', 'retries')}"
    )
    if stats.not_modified:
        text += f", {stats.not_modified} answered 304 Not Modified"
    if stats.wait_seconds:
        text += f", {stats.wait_seconds:.1f} s waited"
    text += ")"
    if stats.deferred_until:
        text += f"; deferred until {stats.deferred_until:%Y-%m-%d %H:%M} UTC"
    return text


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


_STATUS_STYLE = {
    "on_track": "green",
    "at_risk": "yellow",
    "off_track": "red",
    "no_data": "dim",
}


def _status(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    # Small values (ratios, seconds) keep enough digits to tell 0.9993 from 0.999.
    text = f"{value:,.2f}" if abs(value) >= 10 else f"{value:.4g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def _run(coroutine: Any) -> Any:
    try:
        return asyncio.run(coroutine)
    except DatabaseURLError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    except SchemaOutOfDateError as exc:
        err.print(f"Cannot start: {exc}.", style="red", markup=False)
        raise typer.Exit(2) from None
    except DBAPIError as exc:
        err.print(
            f"Cannot use the database: {exc.orig or exc}", style="red", markup=False
        )
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


if __name__ == "__main__":
    main()
