"""An origin that is not allowed learns nothing, and a flood of them cannot flood the log."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }} import refused_preflights
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cors_fastapi import CORSFastAPI
from {{ cookiecutter.package_name }}.cors_reasons import BrokenRule, broken_rules
from {{ cookiecutter.package_name }}.refusal_log import DEFAULT_BURST
from {{ cookiecutter.package_name }}.settings import Settings

from .cors_requests import ClientFactory, client_of, cors_headers, preflight, stock_starlette_client, varies_on_origin

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


class CountedBrokenRules:
    """Stands in for ``broken_rules`` in :mod:`refused_preflights`, counting its calls and passing them on."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> list[BrokenRule]:
        self.calls += 1
        return broken_rules(*args, **kwargs)


def flood_of_refusals(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, origins: list[str]
) -> tuple[list[str], list[str], int]:
    """Preflights from refused ``origins`` while the log's clock stands still.

    Returns the answers' bodies, the lines written, and how often the broken rules were worked out.
    """
    app = client.app
    assert isinstance(app, CORSFastAPI)
    app.cors.refusals.log.clock = Clock()
    counted = CountedBrokenRules()
    monkeypatch.setattr(refused_preflights, "broken_rules", counted)
    with caplog.at_level(logging.WARNING):
        bodies = [preflight(client, origin, "GET").text for origin in origins]
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("CORS preflight")]
    return bodies, lines, counted.calls


@pytest.mark.parametrize("kept", [False, True], ids=["new-answers", "kept-answers"])
def test_a_flood_works_out_the_broken_rules_only_for_the_lines_written(
    kept: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A dropped line costs no explaining: the request path of a flood stays cheap, new answers or kept."""
    origins = [REFUSED if kept else f"https://{n}.evil.test" for n in range(30)]

    bodies, lines, worked_out = flood_of_refusals(configured_client(), monkeypatch, caplog, origins)

    assert set(bodies) == {"Disallowed CORS origin"}
    assert len(lines) == DEFAULT_BURST
    assert worked_out == len(lines)


def test_in_development_every_refusal_of_a_flood_is_still_explained(
    client_for: ClientFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The body needs the broken rules, written line or not; an answer kept is explained as when it was new."""
    client = client_for(app_env="development", cors_allow_origins="http://localhost:5173")
    origins = [f"https://{n}.evil.test" for n in range(20)] * 2

    bodies, lines, worked_out = flood_of_refusals(client, monkeypatch, caplog, origins)

    assert len(lines) == DEFAULT_BURST
    assert worked_out == len(set(origins)), "once for each new answer's body; a kept answer keeps its body"
    for origin, body in zip(origins, bodies, strict=True):
        verdict, refused, fix, *_ = body.splitlines()
        assert verdict == "Disallowed CORS origin"
        assert refused == "refused: origin not in CORS_ALLOW_ORIGINS for APP_ENV=development"
        assert origin in fix
