"""CORS as a browser sees it, for the origins answered when this service was generated."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.origin_grammar import ALL_ORIGINS
from {{ cookiecutter.package_name }}.settings import Settings

from .answers import ALL_CASES, ANSWERED_ORIGINS, CREDENTIALS, EXPOSED, HEADERS, LOOKALIKE_CASES, MAX_AGE, METHODS
from .cors_requests import client_of, cors_headers, preflight, varies_on_origin


def client_in(environment: Environment) -> TestClient:
    """A client of the service as generated, started with ``APP_ENV=environment``."""
    app: FastAPI = create_app(Settings(app_env=environment))
    return client_of(app)


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES)
def test_preflight_from_an_allowed_origin(environment: Environment, origin: str) -> None:
    allow_all = ALL_ORIGINS in ANSWERED_ORIGINS[environment]
    response = preflight(client_in(environment), origin, METHODS[0], ", ".join(HEADERS) or None)
    answer = response.headers

    assert response.status_code == 200
    expected_origin = "*" if allow_all and not CREDENTIALS else origin
    assert answer["access-control-allow-origin"] == expected_origin
    assert answer.get("access-control-allow-credentials") == ("true" if CREDENTIALS else None)
    allowed_methods = {m.strip() for m in answer["access-control-allow-methods"].split(",")}
    assert set(METHODS) <= allowed_methods
    allowed_headers = {h.strip().lower() for h in answer.get("access-control-allow-headers", "").split(",")}
    assert {h.lower() for h in HEADERS} <= allowed_headers
    assert answer["access-control-max-age"] == str(MAX_AGE)
    assert varies_on_origin(answer)


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES)
def test_simple_request_from_an_allowed_origin(environment: Environment, origin: str) -> None:
    response = client_in(environment).get("/health", headers={"Origin": origin})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in (origin, "*")
    if CREDENTIALS:
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
    exposed = {h.strip().lower() for h in response.headers.get("access-control-expose-headers", "").split(",") if h}
    assert exposed == {h.lower() for h in EXPOSED}
    assert varies_on_origin(response.headers)


@pytest.mark.parametrize(("environment", "origin"), LOOKALIKE_CASES)
def test_lookalike_origin_is_refused(environment: Environment, origin: str) -> None:
    client = client_in(environment)

    answer = preflight(client, origin)
    simple = client.get("/health", headers={"Origin": origin})

    assert answer.status_code == 400
    assert cors_headers(answer.headers) == []
    assert cors_headers(simple.headers) == []
    assert varies_on_origin(answer.headers)
    assert varies_on_origin(simple.headers)


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES[:1])
def test_preflight_refuses_a_method_and_a_header_not_allowed(environment: Environment, origin: str) -> None:
    client = client_in(environment)

    assert preflight(client, origin, method="TRACE").status_code == 400
    if "*" not in HEADERS:
        assert preflight(client, origin, headers="X-Not-Allowed").status_code == 400


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES[:1])
def test_a_crash_still_carries_cors_headers(environment: Environment, origin: str) -> None:
    app = create_app(Settings(app_env=environment))

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    response = client_of(app).get("/crash", headers={"Origin": origin})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert response.headers["access-control-allow-origin"] in (origin, "*")
