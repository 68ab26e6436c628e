"""An origin that is not allowed learns nothing, and a flood of them cannot flood the log."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cors_fastapi import CORSFastAPI
from {{ cookiecutter.package_name }}.refusal_log import DEFAULT_BURST
from {{ cookiecutter.package_name }}.settings import Settings

from .cors_requests import client_of, cors_headers, preflight, stock_starlette_client, varies_on_origin

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example.net"
CONFIGURATION = {
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["Authorization"],
    "allow_credentials": True,
    "expose_headers": ["X-Total-Count"],
}


def configured_client() -> TestClient:
    """A client of the service configured so that Starlette has every kind of CORS header to add."""
    app = create_app(
        Settings(
            app_env="staging",
            cors_allow_origins=ALLOWED,
            cors_allow_methods="GET,POST",
            cors_allow_headers="Authorization",
            cors_allow_credentials=True,
            cors_expose_headers="X-Total-Count",
        )
    )

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    return client_of(app)


def test_stock_starlette_tells_a_refused_origin_the_configuration() -> None:
    """Why the service strips: without it, these headers reach every origin."""
    client = stock_starlette_client(allow_origins=[ALLOWED], **CONFIGURATION)

    assert "access-control-allow-methods" in cors_headers(preflight(client, REFUSED, "POST").headers)
    simple = client.get("/health", headers={"Origin": REFUSED}).headers
    assert cors_headers(simple) == ["access-control-allow-credentials", "access-control-expose-headers"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/health"), ("GET", "/missing"), ("GET", "/crash"), ("POST", "/health")]
)
def test_a_refused_origin_gets_no_cors_header_on_any_response(method: str, path: str) -> None:
    response = configured_client().request(method, path, headers={"Origin": REFUSED})

    assert cors_headers(response.headers) == []
    assert varies_on_origin(response.headers)


def test_a_refused_preflight_carries_no_cors_header_fresh_or_kept() -> None:
    client = configured_client()

    for _ in range(2):
        response = preflight(client, REFUSED, "POST")
        assert response.status_code == 400
        assert cors_headers(response.headers) == []
        assert varies_on_origin(response.headers)


def test_an_allowed_origin_still_gets_every_header() -> None:
    client = configured_client()

    assert cors_headers(preflight(client, ALLOWED, "POST").headers) == [
        "access-control-allow-credentials",
        "access-control-allow-headers",
        "access-control-allow-methods",
        "access-control-allow-origin",
        "access-control-max-age",
    ]
    simple = client.get("/health", headers={"Origin": ALLOWED}).headers
    assert cors_headers(simple) == [
        "access-control-allow-credentials",
        "access-control-allow-origin",
        "access-control-expose-headers",
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_of_refused_preflights_writes_a_few_lines_then_one_count(caplog: pytest.LogCaptureFixture) -> None:
    client = configured_client()
    app = client.app
    assert isinstance(app, CORSFastAPI)
    clock = app.cors.refusals.log.clock = Clock()
    flood = 200

    with caplog.at_level(logging.WARNING):
        statuses = {
            client.options(
                "/health", headers={"Origin": f"https://{n}.evil.test", "Access-Control-Request-Method": "GET"}
            ).status_code
            for n in range(flood)
        }
        during = [record.getMessage() for record in caplog.records]
        clock.now += 1
        client.options("/health", headers={"Origin": REFUSED, "Access-Control-Request-Method": "GET"})

    assert statuses == {400}, "every preflight is still answered"
    assert len(during) == DEFAULT_BURST
    assert all(line.startswith("CORS preflight refused") for line in during)
    summary, resumed = [record.getMessage() for record in caplog.records][DEFAULT_BURST:]
    assert summary.startswith(f"suppressed {flood - DEFAULT_BURST} refusal log line(s)")
    assert f'origin="{REFUSED}"' in resumed
