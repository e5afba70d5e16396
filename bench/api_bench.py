"""Read-path benchmark of the REST API, measured against a trivial route.

Builds a realistic dataset (500 objectives, 2,000 key results, 90 days of
history), starts `okrsync serve` the way the README does, and drives it with
wrk (a load tool in a separate process) on 127.0.0.1. For each read it prints
requests per second as a ratio to `/healthz` measured in the same run, and
p50 / p99 / max latency.

    python bench/api_bench.py [--seconds 10] [--connections 50]

Needs wrk on the PATH (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

OBJECTIVES = 500
KEY_RESULTS_EACH = 4
HISTORY_DAYS = 90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--heavy-connections", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    with tempfile.TemporaryDirectory(prefix="okrsync-api-bench-") as folder:
        work = Path(folder)
        mapping = write_mapping(work / "okrs.yaml")
        database = work / "bench.db"
        env = {
            **os.environ,
            "OKRSYNC_DATABASE_URL": f"sqlite:///{database}",
            "OKRSYNC_SYNC_INTERVAL": "0",
            "OKRSYNC_LOG_LEVEL": "WARNING",
        }
        run(["okrsync", "db", "upgrade"], env)
        port = free_port()
        server = start_server(mapping, port, env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base)
            fill_history(database)
            token = create_token(env)
            report(base, token, args)
        finally:
            server.terminate()
            server.wait(timeout=20)


def write_mapping(path: Path) -> Path:
    lines = ["version: 1", "timezone: UTC", "objectives:"]
    for n in range(OBJECTIVES):
        lines += [
            f"  - id: obj-{n}",
            f"    title: Objective number {n} of the company",
            "    period: 2026-Q4",
            f"    team: team-{n % 25}",
            "    key_results:",
        ]
        for k in range(KEY_RESULTS_EACH):
            lines += [
                f"      - id: kr-{n}-{k}",
                f"        title: Key result {k} of objective {n}",
                f"        start: {k * 10}",
                f"        target: {100 + k * 50}",
                "        unit: points",
            ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_server(
    mapping: Path, port: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    command = ["okrsync", "serve", "--mappings", str(mapping), "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not start within 60 s")


def fill_history(database: Path) -> None:
    """90 days of daily values per key result, written straight to the table."""
    rng = random.Random(7)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    rows = []
    for n in range(OBJECTIVES):
        for k in range(KEY_RESULTS_EACH):
            value = float(k * 10)
            for day in range(HISTORY_DAYS):
                value += rng.random() * 2
                moment = end - timedelta(days=HISTORY_DAYS - day)
                rows.append((f"kr-{n}-{k}", moment.replace(tzinfo=None), value))
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO measurement (key_result_id, measured_at, value, source) "
            "VALUES (?, ?, ?, 'check-in')",
            rows,
        )
    print(
        f"dataset: {OBJECTIVES} objectives, {OBJECTIVES * KEY_RESULTS_EACH} key "
        f"results, {len(rows)} measurements"
    )


def create_token(env: dict[str, str]) -> str:
    output = run(
        ["okrsync", "tokens", "create", "--scope", "read", "--name", "bench"], env
    )
    match = re.search(r"okr_[\w-]+", output)
    if match is None:
        sys.exit(f"no token in: {output}")
    return match.group(0)


def report(base: str, token: str, args: argparse.Namespace) -> None:
    auth = f"Authorization: Bearer {token}"
    reads = {
        "objectives list (100 of 500)": "/api/v1/objectives",
        "one objective": "/api/v1/objectives/obj-123",
        "history (90 values)": "/api/v1/key-results/kr-123-1/history",
    }
    trivial = wrk(f"{base}/healthz", [], args.seconds, args.connections)
    print(
        f"\nwrk, 1 thread, {args.connections} connections, {args.seconds} s each; "
        "server: one okrsync serve process (uvicorn, 1 worker), SQLite\n"
    )
    columns = ("req/s", "ratio", "p50 ms", "p99 ms", "max ms", "errors")
    widths = (9, 6, 8, 8, 8, 7)
    print(f"{'read':42}", *(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    line("trivial route /healthz", trivial, trivial)
    for name, path in reads.items():
        full = wrk(f"{base}{path}", [auth], args.seconds, args.connections)
        line(name, full, trivial)
        etag = httpx.get(
            f"{base}{path}", headers={"Authorization": f"Bearer {token}"}
        ).headers["etag"]
        cached = wrk(
            f"{base}{path}",
            [auth, f"If-None-Match: {etag}"],
            args.seconds,
            args.connections,
        )
        line("  same, If-None-Match (304)", cached, trivial)
    heavy = wrk(
        f"{base}/api/v1/objectives", [auth], args.seconds, args.heavy_connections
    )
    print(
        f"\nobjectives list with {args.heavy_connections} connections: "
        f"{heavy['rps']:.0f} req/s, p99 {heavy['p99']:.0f} ms, "
        f"max {heavy['max']:.0f} ms, errors {heavy['errors']}, "
        f"timeouts {heavy['timeouts']}"
    )


def wrk(
    url: str, headers: list[str], seconds: int, connections: int
) -> dict[str, float]:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(
        command + [url], capture_output=True, text=True, check=True
    ).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> dict[str, float]:
    """Requests per second, latencies in ms, and error counts from wrk's text."""

    def found(pattern: str) -> str:
        # Anchored per line: a "+/- Stdev" column such as "72.50%" must not be
        # taken for the 50% percentile.
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            sys.exit(f"wrk printed no {pattern!r}; its output was:\n{output}")
        return match.group(1)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"timeout (\d+)", output)
    return {
        "rps": float(found(r"Requests/sec:\s+([\d.]+)")),
        "p50": millis(found(r"^\s*50%\s+(\S+)")),
        "p99": millis(found(r"^\s*99%\s+(\S+)")),
        "max": millis(found(r"^\s*Latency\s+\S+\s+\S+\s+(\S+)")),
        "errors": int(errors.group(1)) if errors else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


def millis(text: str) -> float:
    """wrk's time text (e.g. 812.00us, 1.20ms, 1.05s, 1.10m) in milliseconds;
    NaN when wrk had no sample (it prints -nan or nothing usable)."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        return float("nan")
    number, unit = match.groups()
    scale = {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]
    return float(number) * scale


def line(name: str, result: dict[str, float], trivial: dict[str, float]) -> None:
    """One table row; errors are non-2xx/3xx answers plus wrk's timeouts (5 s)."""
    ratio = result["rps"] / trivial["rps"]
    errors = int(result["errors"] + result["timeouts"])
    print(
        f"{name:42} {result['rps']:9.0f} {ratio:6.2f} {result['p50']:8.1f} "
        f"{result['p99']:8.1f} {result['max']:8.1f} {errors:7d}"
    )


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
