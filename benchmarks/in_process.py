"""The applications' own cost per request, called in this process without a server or a network.

Through uvicorn, a ±5 % question drowns in the noise of a shared machine. The
application's share of the work is deterministic Python, so calling each ASGI
app directly, many times, and keeping the fastest of several repeats answers
"does it cost more at 10,000 origins, or with the registry?" to within a few
tenths of a microsecond. Since the server's own cost is left out, these ratios
overstate the differences a client would see.

The CORS layer's own cost is the generated app minus the same app without
CORS, per request kind, paired run by run: the very same app with its CORS
layer alone left out (its request-ID layer in front of the write protection,
FastAPI and the routes: ``apps.without_cors``), and, for comparison, a plain
FastAPI app with the service's routes, which has neither. A preflight, which
an app without CORS does not answer, is compared with the pure-ASGI
preflight floor instead.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Apps = dict[tuple[str, int | None], Any]
WITHOUT_CORS = "generated service without CORS"
LAYER_ALONE = "generated CORS layer alone, around the bare ASGI app"
FRONT_ALONE = "generated request-ID layer alone, around the bare ASGI app"
BARE = ("bare ASGI app", None)


def scope(method: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/health",
        "raw_path": b"/health",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: dict[str, Any]) -> None:
    return None


async def microseconds(app: Any, method: str, headers: dict[str, str], calls: int) -> float:
    gc.collect()
    gc.disable()  # a collection landing in one run and not another would be noise
    try:
        started = time.process_time()
        for _ in range(calls):
            await app(scope(method, headers), receive, send)
        return (time.process_time() - started) / calls * 1e6
    finally:
        gc.enable()


def build_apps(work: Path, counts: tuple[int, ...]) -> Apps:
    """The same configurations as the servers, built here; the registry's snapshot is loaded once."""
    import apps
    from bench_registry.app import create_app as registry_app
    from bench_registry.settings import Settings as RegistrySettings
    from bench_static.app import create_app as static_app
    from bench_static.settings import Settings as StaticSettings

    os.environ["BENCH_PACKAGE"] = "bench_static"
    built: Apps = {
        ("bare ASGI app", None): apps.bare(),
        ("pure-ASGI preflight floor", None): apps.preflight_floor(),
        ("FastAPI, no CORS", None): apps.plain(),
    }
    for count in counts:
        origins_file = work / f"origins-{count}" / "origins.json"
        entries = json.loads(origins_file.read_text(encoding="utf-8"))
        os.environ["BENCH_ORIGINS_FILE"] = str(origins_file)
        built[("FastAPI + stock CORSMiddleware", count)] = apps.stock()
        settings = StaticSettings(app_env="production", cors_allow_origins=entries)
        built[("generated service", count)] = static_app(settings)
        built[(WITHOUT_CORS, count)] = apps.without_cors(built[("generated service", count)])
        built[(LAYER_ALONE, count)] = apps.cors_layer_alone(built[("generated service", count)])
        if count == counts[0]:
            built[(FRONT_ALONE, None)] = apps.front_layers_alone(built[("generated service", count)])
        registry = registry_app(
            RegistrySettings(
                app_env="production",
                cors_allow_origins="https://static.example.com",
                database_url=f"sqlite:///{work / f'registry-{count}' / 'origins.db'}",
            )
        )
        registry.state.origin_registry.refresh()
        built[("generated service + registry", count)] = registry
    return built


Samples = dict[tuple[str, int | None, str], list[float]]


def measure(
    work: Path,
    counts: tuple[int, ...],
    kinds: dict[str, tuple[str, dict[str, str]]],
    repeats: int = 9,
    calls: int = 2000,
) -> Samples:
    """µs per request of each of ``repeats`` runs of ``calls`` requests, per (app, origins, kind).

    Every repeat visits every cell once, so the runs of two cells pair up by position.
    """
    os.sched_setaffinity(0, {0})
    built = build_apps(work, counts)
    samples: Samples = {}

    async def run() -> None:
        for app in built.values():
            for method, headers in kinds.values():
                await microseconds(app, method, headers, 200)  # warm-up
        for _ in range(repeats):
            for (name, count), app in built.items():
                for kind, (method, headers) in kinds.items():
                    cost = await microseconds(app, method, headers, calls)
                    samples.setdefault((name, count, kind), []).append(cost)

    asyncio.run(run())
    return samples


def section(samples: Samples, kinds: list[str], counts: tuple[int, ...]) -> str:
    costs = {cell: min(runs) for cell, runs in samples.items()}
    names = list(dict.fromkeys((name, count) for name, count, _ in costs))
    lines = [
        "## The application alone, in-process",
        "",
        "Each app called directly (no server, no sockets), fastest of 9 runs of 2,000 requests:"
        " CPU µs per request. Same configurations as above.",
        "",
        "| app | origins | " + " | ".join(kinds) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in kinds) + " |",
    ]
    for name, count in names:
        cells = [f"{costs[(name, count, kind)]:.1f}" for kind in kinds]
        lines.append(f"| {name} | {'' if count is None else f'{count:,}'} | " + " | ".join(cells) + " |")
    generated, registry = "generated service", "generated service + registry"
    checks: list[tuple[str, Callable[[str], tuple[float, float]]]] = [
        ("generated at 10,000 origins / at 1", lambda k: (costs[(generated, counts[-1], k)], costs[(generated, 1, k)])),
        *(
            (
                f"registry / static, {count:,} origins",
                lambda k, c=count: (costs[(registry, c, k)], costs[(generated, c, k)]),
            )
            for count in counts
        ),
    ]
    lines += [
        "",
        "| ratio (in-process) | " + " | ".join(kinds) + " |",
        "| --- | " + " | ".join("---:" for _ in kinds) + " |",
    ]
    for name, pair in checks:
        lines.append(f"| {name} | " + " | ".join(f"{pair(k)[0] / pair(k)[1]:.3f}" for k in kinds) + " |")
    return "\n".join(lines + cors_layer_lines(samples, kinds, counts)) + "\n"


PLAIN, FLOOR = ("FastAPI, no CORS", None), ("pure-ASGI preflight floor", None)
LAYER_TARGET_US = 1.0
"""In-process, the CORS layer adds at most this much to a simple request and to one without ``Origin``."""


def cors_layer_lines(samples: Samples, kinds: list[str], counts: tuple[int, ...]) -> list[str]:
    """The generated app minus the same app without CORS (and minus the preflight floor), run by run."""
    lines = [
        "",
        "### The CORS layer alone, in-process",
        "",
        "Generated app minus the reference app, paired run by run: median of the 9 differences in µs per request,"
        " lowest to highest beside it.",
        "",
        "| difference | origins | median | runs | target | verdict |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind in kinds:
        for count in (counts[0], counts[-1]):
            pairs = [(("generated service", count), FLOOR)]
            if kind != "preflight":
                pairs = [(("generated service", count), (WITHOUT_CORS, count)), (("generated service", count), PLAIN)]
                pairs.append(((LAYER_ALONE, count), BARE))
            if count == counts[0]:
                pairs.append(((FRONT_ALONE, None), BARE))
            for subject, reference in pairs:
                mine, theirs = samples[(*subject, kind)], samples[(*reference, kind)]
                differences = [own - other for own, other in zip(mine, theirs, strict=True)]
                middle = statistics.median(differences)
                target, verdict = "", ""
                if reference[0] in (WITHOUT_CORS, BARE[0]) and subject[0] != FRONT_ALONE:
                    target = f"≤ {LAYER_TARGET_US:.1f}"
                    verdict = "met" if middle <= LAYER_TARGET_US else f"MISSED by {middle - LAYER_TARGET_US:.1f} µs"
                lines.append(
                    f"| {kind}: {subject[0]} minus {reference[0]} | {'' if subject[1] is None else f'{count:,}'} |"
                    f" {middle:+.2f} |"
                    f" {min(differences):+.2f} to {max(differences):+.2f} | {target} | {verdict} |"
                )
    lines += [
        "",
        f"'{WITHOUT_CORS}' is the same app object with its CORS layer alone left out (the request-ID layer, the"
        " write protection, FastAPI and the routes stay); 'FastAPI, no CORS' has neither request ID nor write"
        " protection; the floor is a fixed preflight answer with nothing checked. The CORS layer alone (the"
        " generated service's own middleware for its frontend rule, in front of the bare app) shows the layer's"
        " cost without FastAPI's noise around it; the request-ID layer alone, what the generated service adds in"
        " front of CORS.",
    ]
    return lines


Kinds = dict[str, tuple[str, dict[str, str]]]
"""Each kind of request by name: its method and headers."""
Costs = dict[tuple[str, str], float]
"""CPU µs per request, per (app, kind)."""


def fastest(apps: dict[str, Any], kinds: Kinds, repeats: int = 9, calls: int = 4000) -> Costs:
    """Each app's cost for each kind of request: the fastest of ``repeats`` runs of ``calls``, on CPU 0."""
    os.sched_setaffinity(0, {0})
    samples: dict[tuple[str, str], list[float]] = {}

    async def run() -> None:
        for app in apps.values():
            for method, headers in kinds.values():
                await microseconds(app, method, headers, 200)  # warm-up
        for _ in range(repeats):
            for name, app in apps.items():
                for kind, (method, headers) in kinds.items():
                    samples.setdefault((name, kind), []).append(await microseconds(app, method, headers, calls))

    asyncio.run(run())
    return {cell: min(costs) for cell, costs in samples.items()}


def costs_table(costs: Costs, first_column: str, apps: list[str], kinds: Kinds) -> list[str]:
    """A Markdown table of ``costs``: a row per app, a column per kind of request."""
    return [
        f"| {first_column} | " + " | ".join(kinds) + " |",
        "| --- | " + " | ".join("---:" for _ in kinds) + " |",
        *(f"| {name} | " + " | ".join(f"{costs[(name, kind)]:.2f}" for kind in kinds) + " |" for name in apps),
    ]


def costs_json(costs: Costs) -> str:
    return json.dumps({f"{name} / {kind}": round(cost, 3) for (name, kind), cost in costs.items()})


def print_costs(
    build: Callable[[Path], dict[str, Any]], kinds: Kinds, heading: str, table: Callable[[Costs, list[str]], str]
) -> None:
    """Build the apps in a scratch directory, measure them (:func:`fastest`), print the heading, table and JSON."""
    with tempfile.TemporaryDirectory(prefix="bench-in-process-") as work:
        apps = build(Path(work))
        costs = fastest(apps, kinds)
    print(heading + "\n")
    print(table(costs, list(apps)))
    print("\n" + costs_json(costs))


def silence(logger_name: str) -> None:
    """Let the service's log records go nowhere: the request path is measured, not a log handler."""
    logger = logging.getLogger(logger_name)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
