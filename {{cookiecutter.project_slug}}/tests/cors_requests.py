"""How the tests talk to the service: one way to build a test client, and the preflight a browser sends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.routes import router

ClientFactory = Callable[..., TestClient]
"""The ``client_for`` fixture: ``client_for(**settings)`` is a client of the service built with those settings."""


def client_of(app: ASGIApp) -> TestClient:
    """A test client of ``app`` that answers an unhandled error with the 500 a browser gets, instead of raising it."""
    return TestClient(app, raise_server_exceptions=False)


def stock_starlette_client(**configuration: Any) -> TestClient:
    """A client of the service's routes behind stock Starlette's ``CORSMiddleware``, configured so: the reference."""
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(CORSMiddleware, **configuration)
    return client_of(app)


def preflight(
    client: TestClient,
    origin: str,
    method: str = "GET",
    headers: str | None = None,
    *,
    path: str = "/health",
    extra: Mapping[str, str] | None = None,
) -> httpx2.Response:
    """The answer to the preflight a browser sends from ``origin`` before ``method``, asking for ``headers``."""
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method, **(extra or {})}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request_headers)


def cors_headers(headers: Mapping[str, str]) -> list[str]:
    """The names of the ``Access-Control-*`` headers of an answer, sorted: none for a refused origin."""
    return sorted(name.lower() for name in headers if name.lower().startswith("access-control-"))


def varies_on_origin(headers: Mapping[str, str]) -> bool:
    """Whether an answer's ``Vary`` names ``Origin``, so that no cache hands it to another origin."""
    return "origin" in {part.strip().lower() for part in headers.get("vary", "").split(",")}
