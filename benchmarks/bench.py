"""Measure what CORS costs: the generated service against stock components, in one interleaved run.

Run it with ``make bench`` (or ``.venv/bin/python benchmarks/bench.py``). It
generates two services from this template (static origins, and the origin
registry), starts every server once under uvicorn with uvloop and httptools
(and the generated service under Granian too), pinned to CPU 0, and loads
them in turn with wrk pinned to CPU 1. Each round
visits every (server, request kind) cell once, kind by kind and the servers in
a new order each time, so drift on a shared machine spreads over all of them
and compared cells are measured close together; the table gives medians over
rounds, and each target its median per-round ratio.

Two numbers per cell: requests per second, and the server's CPU time per
request (the user + system CPU seconds of its processes from /proc/<pid>/stat,
divided by the requests wrk completed). The second holds steady when other work shares the
machine, so the targets are judged on it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import in_process
import replicas

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE))
from tests.support.servers import free_port, wait_until_answering  # noqa: E402  (the template's own helpers)
from tests.support.template import generate  # noqa: E402

HERE = Path(__file__).resolve().parent
SERVER_CPU, LOAD_CPU = "0", "1"
TARGET = "https://app-target.example.com"
COUNTS = (1, 100, 10_000)
TICKS = os.sysconf("SC_CLK_TCK")
GENERATED, GRANIAN = "generated service", "generated service on Granian"
WITHOUT_CORS = in_process.WITHOUT_CORS
NO_CORS_KINDS = ("simple", "no-origin")
UNCOMPARED_HEADERS = {"date", "server"}
GRANIAN_TARGET = 0.70

KINDS: dict[str, tuple[str, dict[str, str]]] = {
    "preflight": (
        "OPTIONS",
        {
            "Origin": TARGET,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    ),
    "simple": ("GET", {"Origin": TARGET}),
    "no-origin": ("GET", {}),
}


@dataclass
class Server:
    """One uvicorn process serving one application configuration."""

    name: str
    origins: int | None
    app: str
    cwd: Path
    environment: dict[str, str]
    kinds: tuple[str, ...] = tuple(KINDS)
    cors: bool = True
    fast: bool = True
    granian: bool = False
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name if self.origins is None else f"{self.name} @ {self.origins:,}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"


def origin_entries(count: int) -> list[str]:
    """``count`` entries, exact origins and wildcard patterns mixed; the target is the last one."""
    others = [
        f"https://tenant-{n}.example.com" if n % 2 else f"https://*.customer-{n}.example.net" for n in range(count - 1)
    ]
    return [*others, TARGET]


def prepare(work: Path) -> list[Server]:
    """Generate the services, write each configuration, and describe every server to start."""
    static = generate(work, {"project_name": "Bench Static", "prod_origins": TARGET})
    registry = generate(work, {"project_name": "Bench Registry", "origin_registry": "database"})
    python_path = os.pathsep.join([str(static / "src"), str(registry / "src"), str(HERE)])
    sys.path[:0] = python_path.split(os.pathsep)  # for the in-process measurement and the registry's setup
    base = {**os.environ, "PYTHONPATH": python_path, "APP_ENV": "production", "BENCH_PACKAGE": "bench_static"}
    base = {k: v for k, v in base.items() if not k.startswith("CORS_") and k not in ("DATABASE_URL", "ADMIN_TOKEN")}
    servers = [
        Server("bare ASGI app", None, "apps:bare", work, base, kinds=("simple",), cors=False),
        Server("pure-ASGI preflight floor", None, "apps:preflight_floor", work, base, kinds=("preflight",)),
        Server("FastAPI, no CORS", None, "apps:plain", work, base, kinds=NO_CORS_KINDS, cors=False),
    ]
    for count in COUNTS:
        directory = work / f"origins-{count}"
        directory.mkdir()
        entries = origin_entries(count)
        (directory / "origins.json").write_text(json.dumps(entries), encoding="utf-8")
        # A .env file, since 10,000 origins do not fit in one environment variable.
        (directory / ".env").write_text(f"CORS_ALLOW_ORIGINS={json.dumps(entries)}\n", encoding="utf-8")
        servers.append(
            Server(
                "FastAPI + stock CORSMiddleware",
                count,
                "apps:stock",
                directory,
                {**base, "BENCH_ORIGINS_FILE": str(directory / "origins.json")},
            )
        )
        servers.append(Server("generated service", count, "bench_static.main:app", directory, base))
        if count == 1:
            servers.append(
                Server(WITHOUT_CORS, None, "apps:generated_without_cors", directory, base, NO_CORS_KINDS, cors=False)
            )
        servers.append(registry_server(work, count, entries, base))
    servers.append(
        Server(
            "generated service, h11 + asyncio",
            1,
            "bench_static.main:app",
            work / "origins-1",
            base,
            kinds=("preflight", "simple"),
            fast=False,
        )
    )
    for count in (1, 10_000):
        servers.append(Server(GRANIAN, count, "bench_static.main:app", work / f"origins-{count}", base, granian=True))
    return servers


def registry_server(work: Path, count: int, entries: list[str], base: dict[str, str]) -> Server:
    """The registry service with ``count`` stored origins and one static origin."""
    from bench_registry.origin_store import OriginStore

    directory = work / f"registry-{count}"
    directory.mkdir()
    url = f"sqlite:///{directory / 'origins.db'}"
    store = OriginStore(url)
    store.create_schema()
    store.add(entries)
    store.engine.dispose()
    environment = {
        **base,
        "DATABASE_URL": url,
        "CORS_ALLOW_ORIGINS": "https://static.example.com",
        "BENCH_PACKAGE": "bench_registry",
        "BENCH_QUERY_LOG": str(directory / "queries.json"),
    }
    return Server("generated service + registry", count, "apps:counted_registry", directory, environment)


def start(server: Server) -> None:
    server.port = free_port()
    factory = ["--factory"] if server.app.startswith("apps:") else []
    if server.granian:
        granian = str(Path(sys.executable).with_name("granian"))
        command = [granian, "--interface", "asgi", "--http", "1", "--loop", "uvloop", "--no-ws", "--workers", "1"]
        command += ["--runtime-threads", "1", "--port", str(server.port), *factory, server.app]
    else:
        flags = ["--loop", "uvloop", "--http", "httptools"] if server.fast else ["--loop", "asyncio", "--http", "h11"]
        command = [sys.executable, "-m", "uvicorn", server.app, *factory, "--port", str(server.port), *flags]
        command.append("--no-access-log")
    server.process = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, *command, "--log-level", "warning"],
        cwd=server.cwd,
        env=server.environment,
    )


def answer(server: Server, kind: str) -> tuple[int, str | None]:
    method, headers = KINDS[kind]
    request = urllib.request.Request(server.url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("access-control-allow-origin")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("access-control-allow-origin")


def full_answer(server: Server, kind: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers (names lower-cased, in order; without the server's own Date and Server) and body.

    The request carries its own X-Request-ID, which the service keeps, so two answers can be equal.
    """
    method, headers = KINDS[kind]
    request = urllib.request.Request(server.url, method=method, headers={**headers, "X-Request-ID": "bench-check"})
    try:
        response = urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        kept = [(name.lower(), value) for name, value in response.headers.items()]
        return response.status, [h for h in kept if h[0] not in UNCOMPARED_HEADERS], response.read()


def check_answers(servers: list[Server]) -> None:
    """Refuse to measure a server that does not answer as CORS requires, or Granian answering unlike uvicorn."""
    by_label = {(server.name, server.origins): server for server in servers}
    for server in servers:
        for kind in server.kinds:
            status, allowed = answer(server, kind)
            expected: tuple[int, str | None] = (200, TARGET if server.cors and kind != "no-origin" else None)
            if (status, allowed) != expected:
                raise SystemExit(f"{server.label}, {kind}: answered {(status, allowed)}, expected {expected}")
            if server.granian:
                uvicorn = by_label[(GENERATED, server.origins)]
                if full_answer(server, kind) != full_answer(uvicorn, kind):
                    raise SystemExit(
                        f"{server.label}, {kind}: answers {full_answer(server, kind)},"
                        f" uvicorn {full_answer(uvicorn, kind)}"
                    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (Granian serves from a worker process)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # the process ended meanwhile
    tree, added = {pid}, True
    while added:
        found = {other for other, fields in stats.items() if int(fields[1]) in tree} - tree
        tree |= found
        added = bool(found)
    return sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats) / TICKS


def load(server: Server, kind: str, seconds: int, connections: int, script: Path) -> tuple[float, float]:
    """Run wrk once; return (requests per second, server CPU microseconds per request)."""
    assert server.process is not None
    method, headers = KINDS[kind]
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if method == "OPTIONS":
        command += ["-s", str(script)]
    before = cpu_seconds(server.process.pid)
    output = subprocess.run([*command, server.url], capture_output=True, text=True, check=True).stdout
    spent = cpu_seconds(server.process.pid) - before
    found = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if found is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    requests = int(found.group(1))
    elapsed = float(found.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[found.group(3)]
    return requests / elapsed, spent / requests * 1e6


@dataclass
class Cell:
    rps: float
    cpu_us: float


def median_cell(samples: list[tuple[float, float]]) -> Cell:
    return Cell(statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))


def run(servers: list[Server], rounds: int, seconds: int, connections: int, script: Path) -> None:
    """Each round loads every cell once: kind by kind, servers in a new order each time.

    Cells compared with each other are thus measured close together in time,
    and each round gives one ratio per comparison.
    """
    shuffle = random.Random(4)
    for server in servers:
        for kind in server.kinds:
            load(server, kind, 1, connections, script)  # warm-up, not recorded
    kinds = list(KINDS)
    for number in range(1, rounds + 1):
        started = time.monotonic()
        shuffle.shuffle(kinds)
        for kind in kinds:
            group = [server for server in servers if kind in server.kinds]
            shuffle.shuffle(group)
            for server in group:
                server.samples.setdefault(kind, []).append(load(server, kind, seconds, connections, script))
        print(f"round {number}/{rounds} done in {time.monotonic() - started:.0f} s", file=sys.stderr)


def stop(servers: list[Server]) -> None:
    for server in servers:
        if server.process is not None and server.process.poll() is None:
            server.process.send_signal(signal.SIGINT)  # uvicorn exits normally, so atexit hooks run
    for server in servers:
        if server.process is not None:
            server.process.wait(timeout=30)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    versions = ", ".join(
        f"{name} {version(name)}" for name in ("uvicorn", "uvloop", "httptools", "granian", "starlette", "fastapi")
    )
    return (
        f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}; {versions}; "
        f"load average {os.getloadavg()[0]:.2f} at the end"
    )


def verdict(ratio: float, target: float) -> str:
    if ratio <= target:
        return f"met, {(target - ratio) / target:.0%} under the target"
    return f"MISSED by {(ratio - target) / target:.0%}"


def report(servers: list[Server], rounds: int, seconds: int, connections: int) -> str:
    cells = {(s.name, s.origins, kind): median_cell(samples) for s in servers for kind, samples in s.samples.items()}
    lines = [
        "# CORS benchmark",
        "",
        f"Machine: {machine()}.",
        f"Medians of {rounds} interleaved rounds of {seconds} s per cell; wrk -t1 -c{connections} on CPU {LOAD_CPU},"
        f" one uvicorn (or Granian) worker on CPU {SERVER_CPU}. Each cell: requests/s | server CPU µs per request.",
        "",
        "| server | origins | " + " | ".join(KINDS) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in KINDS) + " |",
    ]
    for server in servers:
        row = [server.name, "" if server.origins is None else f"{server.origins:,}"]
        for kind in KINDS:
            cell = cells.get((server.name, server.origins, kind))
            row.append("" if cell is None else f"{cell.rps:,.0f} \\| {cell.cpu_us:.1f}")
        lines.append("| " + " | ".join(row) + " |")

    def cpu(name: str, origins: int | None, kind: str) -> float:
        return cells[(name, origins, kind)].cpu_us

    by_label = {(s.name, s.origins): s for s in servers}

    def ratios(kind: str, mine: tuple[str, int | None], theirs: tuple[str, int | None]) -> list[float]:
        """Per-round ratios of CPU time per request, mine over theirs."""
        pairs = zip(by_label[mine].samples[kind], by_label[theirs].samples[kind], strict=True)
        return [own[1] / other[1] for own, other in pairs]

    generated, registry, stock = GENERATED, "generated service + registry", "FastAPI + stock CORSMiddleware"
    floor_app, plain_app = ("pure-ASGI preflight floor", None), ("FastAPI, no CORS", None)
    without_cors = (WITHOUT_CORS, None)
    checks: list[tuple[str, list[float], float]] = []
    for kind in KINDS:
        name = f"{kind}: generated at 10,000 origins / at 1"
        checks.append((name, ratios(kind, (generated, 10_000), (generated, 1)), 1.05))
    for count in COUNTS:
        name = f"preflight: generated / stock CORSMiddleware, {count:,} origins"
        checks.append((name, ratios("preflight", (generated, count), (stock, count)), 0.70))
    for count in (1, 10_000):
        name = f"preflight: generated / pure-ASGI floor, {count:,} origins"
        checks.append((name, ratios("preflight", (generated, count), floor_app), 1.15))
        for kind, target in (("simple", 1.05), ("no-origin", 1.02)):
            name = f"{kind}: generated ({count:,} origins) / generated without CORS"
            checks.append((name, ratios(kind, (generated, count), without_cors), target))
            name = f"{kind}: generated ({count:,} origins) / FastAPI without CORS (nor request ID, write protection)"
            checks.append((name, ratios(kind, (generated, count), plain_app), target))
    for count in COUNTS:
        for kind in KINDS:
            name = f"{kind}: registry / static, {count:,} origins"
            checks.append((name, ratios(kind, (registry, count), (generated, count)), 1.05))
    lines += [
        "",
        "## Targets (ratios of server CPU time per request)",
        "",
        "Median of the per-round ratios, with the lowest and highest round beside it.",
        "",
        "| ratio | median | rounds | target | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, found, target in checks:
        middle = statistics.median(found)
        spread = f"{min(found):.2f} to {max(found):.2f}"
        lines.append(f"| {name} | {middle:.2f} | {spread} | ≤ {target:.2f} | {verdict(middle, target)} |")
    granian_checks = [
        (f"{kind}: Granian / uvicorn, {count:,} origins", ratios(kind, (GRANIAN, count), (generated, count)))
        for count in (1, 10_000)
        for kind in KINDS
    ]
    adopted = all(statistics.median(found) <= GRANIAN_TARGET for _, found in granian_checks)
    lines += [
        "",
        "## Granian instead of uvicorn (the generated service, server CPU time per request)",
        "",
        f"Granian is offered as a server choice only if it costs at most {GRANIAN_TARGET:.2f}x uvicorn"
        " (30 % less) on every request kind, with identical answers (checked before measuring: status,"
        f" headers and body equal but for {', '.join(sorted(UNCOMPARED_HEADERS))}).",
        "",
        "| ratio | median | rounds | target | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, found in granian_checks:
        middle = statistics.median(found)
        spread = f"{min(found):.2f} to {max(found):.2f}"
        lines.append(
            f"| {name} | {middle:.2f} | {spread} | ≤ {GRANIAN_TARGET:.2f} | {verdict(middle, GRANIAN_TARGET)} |"
        )
    lines += ["", f"Decision: {'offer Granian' if adopted else 'keep uvicorn'} (by this run's medians)."]

    lines += ["", "## Context", ""]
    slow = cells[("generated service, h11 + asyncio", 1, "simple")]
    fast = cells[(generated, 1, "simple")]
    lines.append(
        f"- Server set-up: the generated service on h11 + asyncio costs {slow.cpu_us:.1f} µs per simple request,"
        f" {slow.cpu_us / fast.cpu_us:.2f}x its default uvloop + httptools ({fast.cpu_us:.1f} µs)."
    )
    floor = cpu("pure-ASGI preflight floor", None, "preflight")
    lines.append(
        f"- Preflight floor (fixed answer in front of a bare app): {floor:.1f} µs; the generated service's preflight"
        f" at 1 origin: {cpu(generated, 1, 'preflight'):.1f} µs; stock: {cpu(stock, 1, 'preflight'):.1f} µs."
    )
    for server in servers:
        log = server.environment.get("BENCH_QUERY_LOG")
        if log and Path(log).exists():
            counts = json.loads(Path(log).read_text())
            lines.append(
                f"- Database queries, registry @ {server.origins:,}: {counts['event_loop_thread']} on the request path"
                f" (the event loop's thread), {counts['other_threads']} by the start-up load and background refresh."
            )
    return "\n".join(lines) + "\n"


@contextmanager
def running(servers: list[Server]) -> Iterator[None]:
    try:
        for server in servers:
            start(server)
        for server in servers:
            wait_until_answering(server.process, server.url.removesuffix("/health"))
        yield
    finally:
        stop(servers)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    options.add_argument("--seconds", type=int, default=2, help="seconds of load per cell and round (default 2)")
    options.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    options.add_argument("--output", type=Path, default=HERE / "results.md", help="where to write the table")
    options.add_argument(
        "--in-process-only",
        action="store_true",
        help="only call the applications in-process (about 2 minutes, no servers) and print that section",
    )
    arguments = options.parse_args()
    if arguments.in_process_only:
        with tempfile.TemporaryDirectory(prefix="cors-bench-") as temporary:
            prepare(Path(temporary))
            print(in_process.section(in_process.measure(Path(temporary), COUNTS, KINDS), list(KINDS), COUNTS))
        return 0
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install -y {'wrk' if tool == 'wrk' else 'util-linux'}")
    with tempfile.TemporaryDirectory(prefix="cors-bench-") as temporary:
        work = Path(temporary)
        script = work / "preflight.lua"
        script.write_text('wrk.method = "OPTIONS"\n', encoding="utf-8")
        servers = prepare(work)
        with running(servers):
            check_answers(servers)
            run(servers, arguments.rounds, arguments.seconds, arguments.connections, script)
        table = report(servers, arguments.rounds, arguments.seconds, arguments.connections)
        print("measuring the applications in-process", file=sys.stderr)
        table += "\n" + in_process.section(in_process.measure(work, COUNTS, KINDS), list(KINDS), COUNTS)
        print("measuring the registry's replicas on PostgreSQL", file=sys.stderr)
        table += "\n" + replicas.section(work, servers[0].environment)
    arguments.output.write_text(table, encoding="utf-8")
    print(table)
    print(f"written to {arguments.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
