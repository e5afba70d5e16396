"""Sync benchmark: many key results against the sandbox with per-request latency.

    python bench/sync_bench.py [--sizes 1000 10000] [--latency 0.05]

For each size it builds a mapping of that many key results over Jira Cloud,
GitHub and a JSON source (a share of them repeating another's query), starts
the sandbox in its own process with a fixed latency on every request, and
measures in a fresh process of its own: the first sync's wall time against the
ideal, upstream requests, peak memory, and what a second sync of unchanged
data costs against GitHub's rate limit. See bench/README.md for how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import json
import logging
import multiprocessing
import pstats
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

UPSTREAMS = {"jira": "/jira-cloud", "github": "/github", "json": "/jira-dc"}
"""Sandbox path prefix each benchmark source talks to."""

JIRA_PROJECTS = ("MOB", "WEB", "PLAT")
REPOS = ("acme/app", "acme/api", "acme/web")
MILESTONES = (("acme/app", 1), ("acme/app", 2), ("acme/app", 3), ("acme/api", 1))
"""Milestones that exist in the sandbox, read by number."""

KEY_RESULTS_PER_OBJECTIVE = 10


# --- the mapping -----------------------------------------------------------


def json_source_available() -> bool:
    """Whether the http_json connector can be imported."""
    return importlib.util.find_spec("connectors.http_json") is not None


def key_result_block(source: str, index: int) -> list[str]:
    """The YAML lines (after `id:` and `title:`) of one distinct query.

    Queries carry a bench label that matches no issue, so every one is
    distinct, valid and answered in one page.
    """
    label = f"bench-{index}"
    if source == "jira":
        project = JIRA_PROJECTS[index % len(JIRA_PROJECTS)]
        metric = "issue_count" if index % 2 else "done_percent"
        jql = f'project = {project} AND labels = "{label}"'
        return [f"metric: {metric}", f"query: {json.dumps(jql)}"]
    if source == "github":
        repo = REPOS[index % len(REPOS)]
        kind = ("issue", "pr")[index // 3 % 2]
        state = ("open", "closed")[index // 6 % 2]
        search = f"repo:{repo} is:{kind} is:{state} label:{label}"
        return ["metric: issue_count", f"query: {json.dumps(search)}"]
    # The sandbox has no generic JSON route, so the JSON source reads a total
    # from Jira Data Center's search: a JSON API as good as any.
    jql = f'project = PLAT AND labels = "{label}"'
    return [
        "metric: value",
        "params:",
        "  path: /search",
        "  method: POST",
        "  select: total",
        "  body:",
        f"    jql: {json.dumps(jql)}",
        "    maxResults: 0",
    ]


def milestone_block(repo: str, number: int) -> list[str]:
    return [
        "metric: milestone_percent",
        "params:",
        f"  repo: {repo}",
        f"  milestone: {number}",
    ]


def plan_key_results(
    size: int, sources: list[str], repeat_share: float, seed: int
) -> list[tuple[str, list[str]]]:
    """(source, query lines) per key result, shuffled.

    `repeat_share` of them repeat another's query exactly, so the engine can
    ask it once for all of them.
    """
    rng = random.Random(seed)
    repeats = round(size * repeat_share)
    distinct: list[tuple[str, list[str]]] = [
        ("github", milestone_block(repo, number)) for repo, number in MILESTONES
    ]
    index = 0
    while len(distinct) < size - repeats:
        source = sources[index % len(sources)]
        distinct.append((source, key_result_block(source, index)))
        index += 1
    chosen = distinct + [rng.choice(distinct) for _ in range(repeats)]
    rng.shuffle(chosen)
    return chosen


def build_mapping(
    size: int,
    url: str,
    *,
    concurrency: int,
    repeat_share: float,
    seed: int,
    sources: list[str],
) -> str:
    """Mapping text with `size` key results in objectives of ten."""
    lines = ["version: 1", "timezone: Europe/Oslo", "sources:"]
    if "jira" in sources:
        lines += ["  jira:", "    type: jira", f"    url: {url}/jira-cloud"]
        lines += ["    deployment: cloud", f"    concurrency: {concurrency}"]
    if "github" in sources:
        lines += ["  github:", "    type: github", f"    url: {url}/github"]
        lines += [f"    concurrency: {concurrency}"]
    if "json" in sources:
        lines += [
            "  json:",
            "    type: http_json",
            f"    url: {url}/jira-dc/rest/api/2",
        ]
        lines += [f"    concurrency: {concurrency}"]

    lines.append("objectives:")
    key_results = plan_key_results(size, sources, repeat_share, seed)
    for number, (source, body) in enumerate(key_results):
        if number % KEY_RESULTS_PER_OBJECTIVE == 0:
            objective = number // KEY_RESULTS_PER_OBJECTIVE
            lines += [
                f"  - id: bench-{objective:05d}",
                f"    title: Benchmark objective {objective}",
                "    period: 2026-Q4",
                "    key_results:",
            ]
        lines += [
            f"      - id: kr-{number:05d}",
            f"        title: Benchmark key result {number}",
            f"        source: {source}",
            *(f"        {line}" for line in body),
            "        target: 10",
        ]
    return "\n".join(lines) + "\n"


# --- the sandbox, in its own process ---------------------------------------


def serve_sandbox(conn: Connection, latency: float) -> None:
    """Run the sandbox and answer the benchmark's questions about it.

    Runs in a child process, so its CPU time and memory are not the
    benchmark's. GitHub's rate-limit windows are frozen so a long run is
    counted in one window.
    """
    from app.sandbox import SandboxServer
    from app.sandbox.state import RateLimits

    with SandboxServer() as sandbox:
        sandbox.state.rate_limits = RateLimits(clock=lambda: 0.0)
        if latency > 0:
            sandbox.faults.set_latency("/", latency)
        conn.send(sandbox.url)
        while True:
            command = conn.recv()
            if command == "stop":
                break
            if command == "clear":
                sandbox.log.clear()
                sandbox.rate_limits.reset()
                conn.send(None)
            elif command == "summary":
                conn.send(sandbox_summary(sandbox))


def sandbox_summary(sandbox: Any) -> dict[str, Any]:
    """Requests per upstream (all, distinct, 304) and GitHub's rate use."""
    entries = sandbox.log.entries
    summary: dict[str, Any] = {"upstreams": {}}
    for source, prefix in UPSTREAMS.items():
        mine = [e for e in entries if e.path.startswith(prefix + "/")]
        distinct = {
            (e.method, e.path, json.dumps(e.query, sort_keys=True), json.dumps(e.json))
            for e in mine
        }
        summary["upstreams"][source] = {
            "requests": len(mine),
            "distinct": len(distinct),
            "not_modified": sum(e.status == 304 for e in mine),
            "statuses": dict(Counter(e.status for e in mine)),
        }
    limits = sandbox.rate_limits
    summary["github_charged"] = {
        resource: limits.peek(resource).used for resource in ("core", "search")
    }
    summary["github_not_modified"] = limits.not_modified
    summary["cpu_seconds"] = time.process_time()
    return summary


class SandboxProcess:
    """The sandbox in a child process, and a line to ask it things."""

    def __init__(self, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_sandbox, args=(child, latency))
        self._process.start()
        self.url: str = self._conn.recv()

    def ask(self, command: str) -> Any:
        """Send "clear" or "summary" and return the answer."""
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=30)


@contextmanager
def sandbox_process(latency: float) -> Iterator[SandboxProcess]:
    """Run the sandbox in its own process for the length of the block."""
    sandbox = SandboxProcess(latency)
    try:
        yield sandbox
    finally:
        sandbox.stop()


# --- one size, in its own process ------------------------------------------


@dataclass
class SyncFigures:
    """What one sync cost."""

    wall: float
    state: str
    sandbox: dict[str, Any]
    stats: dict[str, dict[str, Any]]
    sandbox_cpu: float
    fetching: dict[str, tuple[float, float]]
    """Per source, when its fetching started and ended (s from the sync's start)."""
    client_cpu: float
    """CPU seconds of the benchmark process (engine, connectors, database)."""


@dataclass
class SizeFigures:
    """Everything measured for one size."""

    size: int
    sources: list[str]
    concurrency: int
    latency: float
    key_results: dict[str, int]
    load_seconds: float
    definitions_seconds: float
    first: SyncFigures
    second: SyncFigures
    max_rss_before: int
    max_rss_after_first: int
    max_rss_after_second: int
    traced_wall: float | None = None
    traced_peak: int | None = None
    traced_top: list[str] = field(default_factory=list)
    profile: str = ""


async def new_service(path: Path, database: Path) -> tuple[Any, float, float]:
    """A service on a fresh SQLite file with the mapping loaded.

    Returns:
        The service, seconds spent loading the mapping, and seconds spent
        storing its definitions.
    """
    from app.mapping import load_mapping_set
    from app.service import Service
    from app.settings import Settings

    settings = Settings(database_url=f"sqlite:///{database}", sync_interval=0)
    service = Service(settings)
    await service.database.create_schema()

    started = time.perf_counter()
    mappings = load_mapping_set([path], env={})
    loaded = time.perf_counter()
    await service.use_mappings(mappings)
    stored = time.perf_counter()
    return service, loaded - started, stored - loaded


@contextmanager
def fetch_spans() -> Iterator[dict[str, tuple[float, float]]]:
    """Note when each source's fetching starts and ends during the block.

    Wraps `SourceRun.fetch_all` for the block only; the engine is unchanged.
    """
    from app.sync.source_run import SourceRun

    original = SourceRun.fetch_all
    spans: dict[str, tuple[float, float]] = {}

    async def timed(run: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(run)
        finally:
            spans[run.plan.source.name] = (started, time.perf_counter())

    setattr(SourceRun, "fetch_all", timed)  # noqa: B010 - mypy forbids assigning methods
    try:
        yield spans
    finally:
        setattr(SourceRun, "fetch_all", original)  # noqa: B010


async def timed_sync(
    service: Any, sandbox: SandboxProcess, profiler: cProfile.Profile | None = None
) -> SyncFigures:
    """One sync, timed, with the sandbox's count of what it was asked."""
    sandbox.ask("clear")
    cpu_before = sandbox.ask("summary")["cpu_seconds"]

    with fetch_spans() as spans:
        cpu_started = time.process_time()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = await service.sync()
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_started

    summary = sandbox.ask("summary")
    stats = {
        name: {
            **asdict(item),
            "deferred_until": None,
            "counted_requests": item.counted_requests,
            "saved_by_dedupe": item.saved_by_dedupe,
        }
        for name, item in report.stats.items()
    }
    cpu = summary["cpu_seconds"] - cpu_before
    fetching = {
        name: (start - started, end - started) for name, (start, end) in spans.items()
    }
    return SyncFigures(wall, report.state, summary, stats, cpu, fetching, client_cpu)


def max_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


async def measure(size: int, options: dict[str, Any]) -> SizeFigures:
    """Measure one size: two syncs, then optionally a traced first sync."""
    sources = ["jira", "github"] + (["json"] if json_source_available() else [])
    with (
        sandbox_process(options["latency"]) as sandbox,
        tempfile.TemporaryDirectory(prefix="okrsync-bench-") as tmp,
    ):
        folder = Path(tmp)
        text = build_mapping(
            size,
            sandbox.url,
            concurrency=options["concurrency"],
            repeat_share=options["repeat_share"],
            seed=options["seed"],
            sources=sources,
        )
        path = folder / "bench.yaml"
        path.write_text(text, encoding="utf-8")
        counts = Counter(
            line.strip().removeprefix("source: ")
            for line in text.splitlines()
            if line.startswith("        source: ")
        )

        service, load_seconds, definitions_seconds = await new_service(
            path, folder / "bench.db"
        )
        profiler = cProfile.Profile() if options["profile"] else None
        rss_before = max_rss_bytes()
        try:
            first = await timed_sync(service, sandbox, profiler)
            rss_first = max_rss_bytes()
            second = await timed_sync(service, sandbox)
            rss_second = max_rss_bytes()
        finally:
            await service.close()

        figures = SizeFigures(
            size=size,
            sources=sources,
            concurrency=options["concurrency"],
            latency=options["latency"],
            key_results=dict(counts),
            load_seconds=load_seconds,
            definitions_seconds=definitions_seconds,
            first=first,
            second=second,
            max_rss_before=rss_before,
            max_rss_after_first=rss_first,
            max_rss_after_second=rss_second,
        )
        if profiler is not None:
            figures.profile = profile_text(profiler)
        if options["tracemalloc"]:
            await traced_first_sync(figures, path, folder / "traced.db", sandbox)
    return figures


async def traced_first_sync(
    figures: SizeFigures, path: Path, database: Path, sandbox: SandboxProcess
) -> None:
    """A first sync on another fresh database, with tracemalloc on.

    Notes its peak, and the biggest allocation sites still held at its end.
    """
    service, _, _ = await new_service(path, database)
    try:
        tracemalloc.start()
        traced = await timed_sync(service, sandbox)
        _, peak = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
    finally:
        await service.close()
    figures.traced_wall = traced.wall
    figures.traced_peak = peak
    top = snapshot.statistics("lineno")[:8]
    figures.traced_top = [f"{stat.size / 2**20:7.1f} MiB  {stat}" for stat in top]


def profile_text(profiler: cProfile.Profile) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def run_size(size: int, options: dict[str, Any], conn: Connection) -> None:
    """Child-process entry: measure one size and send the figures back."""
    logging.basicConfig(level=logging.WARNING)
    conn.send(asdict(asyncio.run(measure(size, options))))


def measure_in_child(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """Measure one size in a fresh process, so its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=run_size, args=(size, options, child))
    process.start()
    figures: dict[str, Any] = parent.recv()
    process.join()
    return figures


# --- the report --------------------------------------------------------------


def mib(size: float) -> str:
    return f"{size / 2**20:.1f} MiB"


def ideal_seconds(figures: dict[str, Any]) -> tuple[float, dict[str, float]]:
    """Ideal wall time: max over sources of distinct requests / concurrency x
    latency, since sources run side by side."""
    per_source = {
        source: figures["first"]["sandbox"]["upstreams"][source]["distinct"]
        / figures["concurrency"]
        * figures["latency"]
        for source in figures["sources"]
    }
    return max(per_source.values(), default=0.0), per_source


def print_size(figures: dict[str, Any]) -> None:
    """Print every figure measured for one size."""
    sources = figures["sources"]
    shares = ", ".join(f"{s} {figures['key_results'].get(s, 0)}" for s in sources)
    print(
        f"\n== {figures['size']:,} key results ({shares}); "
        f"latency {figures['latency'] * 1000:g} ms per request; "
        f"concurrency {figures['concurrency']} per source =="
    )
    if "json" not in sources:
        print("  JSON source: NOT RUN (connectors.http_json is not importable)")
    print(
        f"  mapping load {figures['load_seconds']:.2f} s, storing definitions "
        f"{figures['definitions_seconds']:.2f} s (neither is in the wall times)"
    )
    print_first_sync(figures)
    print_second_sync(figures)
    if figures["profile"]:
        print("cProfile of the first sync (main thread only):")
        print(figures["profile"])


def print_first_sync(figures: dict[str, Any]) -> None:
    first, sources = figures["first"], figures["sources"]
    print(f"first sync (fresh database): state {first['state']}")
    print(f"  wall time                 {first['wall']:.2f} s")
    print_phases(first)
    print(
        "  requests per source       sandbox log (all / distinct) | report "
        "(requests, queries, key results, saved by dedupe)"
    )
    for source in sources:
        seen = first["sandbox"]["upstreams"][source]
        stats = first["stats"].get(source, {})
        print(
            f"    {source:<8}                {seen['requests']:>6} / "
            f"{seen['distinct']:<6}   | {stats.get('requests', 0):>6}, "
            f"{stats.get('queries', 0):>6}, {stats.get('key_results', 0):>6}, "
            f"{stats.get('saved_by_dedupe', 0):>6}"
        )
    total_seen = sum(first["sandbox"]["upstreams"][s]["requests"] for s in sources)
    total_stats = sum(first["stats"].get(s, {}).get("requests", 0) for s in sources)
    print(f"    total                   {total_seen:>6}            | {total_stats:>6}")

    ideal, per_source = ideal_seconds(figures)
    print("  ideal = max over sources of (distinct requests / concurrency x latency)")
    for source, seconds in per_source.items():
        distinct = first["sandbox"]["upstreams"][source]["distinct"]
        print(
            f"    {source:<8} {distinct} / {figures['concurrency']} x "
            f"{figures['latency']:g} s = {seconds:.2f} s"
        )
    print(f"  ideal wall time           {ideal:.2f} s")
    ratio = first["wall"] / ideal if ideal else float("nan")
    print(f"  wall / ideal              {ratio:.2f}")
    print(
        f"  peak RSS: ru_maxrss of the benchmark process (whole life so far, "
        f"sandbox excluded): {mib(figures['max_rss_before'])} before the first "
        f"sync (mapping loaded), {mib(figures['max_rss_after_first'])} after it, "
        f"{mib(figures['max_rss_after_second'])} after the second"
    )
    if figures["traced_peak"] is not None:
        print(
            f"  tracemalloc peak (Python allocations only) of a separate first "
            f"sync on a fresh database: {mib(figures['traced_peak'])}; that sync "
            f"took {figures['traced_wall']:.2f} s under tracing"
        )
        if figures["profile"]:
            print("  largest allocation sites still held when that sync ended:")
            for line in figures["traced_top"]:
                print(f"    {line}")


def print_second_sync(figures: dict[str, Any]) -> None:
    second, sources = figures["second"], figures["sources"]
    print(f"second sync (unchanged data): state {second['state']}")
    print(f"  wall time                 {second['wall']:.2f} s")
    print_phases(second)
    for source in sources:
        seen = second["sandbox"]["upstreams"][source]
        stats = second["stats"].get(source, {})
        print(
            f"    {source:<8} sandbox: {seen['requests']} requests, "
            f"{seen['not_modified']} answered 304 | report: "
            f"{stats.get('requests', 0)} requests, {stats.get('not_modified', 0)} "
            f"not modified, {stats.get('counted_requests', 0)} counted"
        )
    charged = second["sandbox"]["github_charged"]
    print(
        "  counted against GitHub's limit: sandbox accounting "
        f"{sum(charged.values())} (core {charged['core']}, search "
        f"{charged['search']}; free 304s {second['sandbox']['github_not_modified']})"
        ", report counted_requests "
        f"{second['stats'].get('github', {}).get('counted_requests', 0)}"
    )


def print_phases(sync: dict[str, Any]) -> None:
    """When fetching ended per source, and what came after (storing, scoring)."""
    spans = sync["fetching"]
    if not spans:
        return
    ends = ", ".join(f"{name} {end:.2f} s" for name, (_, end) in spans.items())
    last = max(end for _, end in spans.values())
    print(f"    fetching ended at       {ends}")
    print(f"    after fetching          {sync['wall'] - last:.2f} s (store, score)")
    print(
        f"    CPU                     benchmark process {sync['client_cpu']:.2f} s, "
        f"sandbox process {sync['sandbox_cpu']:.2f} s"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds added to every request"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="per source")
    parser.add_argument(
        "--repeat-share",
        type=float,
        default=0.3,
        help="share of key results repeating another's query",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-tracemalloc",
        dest="tracemalloc",
        action="store_false",
        help="skip the extra traced first sync",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the first sync"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    options = {
        "latency": args.latency,
        "concurrency": args.concurrency,
        "repeat_share": args.repeat_share,
        "seed": args.seed,
        "tracemalloc": args.tracemalloc,
        "profile": args.profile,
    }
    print(
        f"okrsync sync benchmark: sizes {args.sizes}, latency {args.latency:g} s, "
        f"concurrency {args.concurrency} per source, "
        f"{args.repeat_share:.0%} of key results repeat a query"
    )
    for size in args.sizes:
        print_size(measure_in_child(size, options))


if __name__ == "__main__":
    main()
