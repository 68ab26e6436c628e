"""The ASGI applications the benchmark compares with the generated service.

Each function is a uvicorn factory (``uvicorn --factory apps:NAME``). They read
their configuration from the environment that ``bench.py`` gives each server.
"""

from __future__ import annotations

import atexit
import copy
import importlib
import json
import os
import threading
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

BODY = b'{"status":"ok"}'
JSON_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ceiling: the smallest complete HTTP answer an ASGI app can give."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": JSON_HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def bare() -> Any:
    return bare_app


PREFLIGHT_HEADERS = [
    (b"access-control-allow-origin", b"https://app-target.example.com"),
    (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE"),
    (b"access-control-allow-headers", b"Accept, Accept-Language, Authorization, Content-Language, Content-Type"),
    (b"access-control-allow-credentials", b"true"),
    (b"access-control-max-age", b"600"),
    (b"vary", b"Origin"),
    (b"content-length", b"2"),
]


def preflight_floor() -> Any:
    """The floor for a preflight: a fixed answer given in front of the bare app, nothing checked."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 200, "headers": PREFLIGHT_HEADERS})
            await send({"type": "http.response.body", "body": b"OK"})
            return
        await bare_app(scope, receive, send)

    return app


def plain() -> FastAPI:
    """FastAPI serving the generated service's routes, with no CORS at all."""
    app = FastAPI()
    app.include_router(importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.routes").router)
    return app


def without_cors(generated: Any) -> Any:
    """The generated app with its CORS layer alone left out: its front layers (the request ID) in front of
    what CORS wraps (the write protection, FastAPI and the routes)."""
    front = copy.copy(generated.front)
    if front.app not in (generated.cors, generated.cors_rules):
        raise SystemExit("the generated app's front stack changed: update benchmarks/apps.py:without_cors")
    front.app = generated.cors.app
    return front


def front_layers_alone(generated: Any) -> Any:
    """The generated app's front layers (the request ID), in front of the bare app instead of CORS."""
    front = without_cors(generated)
    front.app = bare_app
    return front


def cors_layer_alone(generated: Any) -> Any:
    """The generated service's CORS middleware for its frontend rule, built again in front of the bare app."""
    cors = generated.cors
    return type(cors)(bare_app, cors.rule, cors.refusals.environment, cors.current_matcher)


def generated_without_cors() -> Any:
    """The generated service (``BENCH_PACKAGE``) from the environment's settings, without its CORS layer."""
    return without_cors(importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.app").create_app())


def stock() -> FastAPI:
    """The same app with Starlette's CORSMiddleware given the origins as a list, as its docs show."""
    app = plain()
    with open(os.environ["BENCH_ORIGINS_FILE"], encoding="utf-8") as origins:
        allow_origins = json.load(origins)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=allow_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=True,
        expose_headers=["X-Request-ID"],
        max_age=600,
    )
    return app


def counted_registry() -> Any:
    """The generated registry service, counting its database queries by the thread that ran them.

    The service's requests run on the event loop's thread; its background
    refresh runs in worker threads. At exit the counts go to ``BENCH_QUERY_LOG``.
    """
    from sqlalchemy import event

    package = os.environ["BENCH_PACKAGE"]
    app = importlib.import_module(f"{package}.app").create_app()
    engine = app.state.origin_registry.store.engine
    loop_thread = threading.get_ident()
    counts = {"event_loop_thread": 0, "other_threads": 0}

    def count(*_: object) -> None:
        counts["event_loop_thread" if threading.get_ident() == loop_thread else "other_threads"] += 1

    event.listen(engine, "before_cursor_execute", count)

    def report() -> None:
        with open(os.environ["BENCH_QUERY_LOG"], "w", encoding="utf-8") as log:
            json.dump(counts, log)

    atexit.register(report)
    return app
