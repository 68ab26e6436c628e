"""CORS as a browser sees it, for the origins answered when this service was generated."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cors_policy import ALL_ORIGINS, Environment
from {{ cookiecutter.package_name }}.settings import Settings

from .answers import ALL_CASES, ANSWERED_ORIGINS, CREDENTIALS, EXPOSED, HEADERS, LOOKALIKE_CASES, MAX_AGE, METHODS


def service(environment: Environment) -> TestClient:
    app: FastAPI = create_app(Settings(app_env=environment))
    return TestClient(app, raise_server_exceptions=False)


def preflight(client: TestClient, origin: str, method: str = "GET", headers: str | None = None) -> dict[str, str]:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    response = client.options("/health", headers=request_headers)
    return {"status": str(response.status_code), **response.headers}


def vary(headers: dict[str, str]) -> set[str]:
    return {part.strip().lower() for part in headers.get("vary", "").split(",")}


def cors_headers(headers: Mapping[str, str]) -> list[str]:
    """The names of the ``Access-Control-*`` headers of an answer: none for an origin that is refused."""
    return [name for name in headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES)
def test_preflight_from_an_allowed_origin(environment: Environment, origin: str) -> None:
    allow_all = ALL_ORIGINS in ANSWERED_ORIGINS[environment]
    answer = preflight(service(environment), origin, METHODS[0], ", ".join(HEADERS) or None)

    assert answer["status"] == "200"
    expected_origin = "*" if allow_all and not CREDENTIALS else origin
    assert answer["access-control-allow-origin"] == expected_origin
    assert answer.get("access-control-allow-credentials") == ("true" if CREDENTIALS else None)
    allowed_methods = {m.strip() for m in answer["access-control-allow-methods"].split(",")}
    assert set(METHODS) <= allowed_methods
    allowed_headers = {h.strip().lower() for h in answer.get("access-control-allow-headers", "").split(",")}
    assert {h.lower() for h in HEADERS} <= allowed_headers
    assert answer["access-control-max-age"] == str(MAX_AGE)
    assert "origin" in vary(answer)


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES)
def test_simple_request_from_an_allowed_origin(environment: Environment, origin: str) -> None:
    response = service(environment).get("/health", headers={"Origin": origin})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in (origin, "*")
    if CREDENTIALS:
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
    exposed = {h.strip().lower() for h in response.headers.get("access-control-expose-headers", "").split(",") if h}
    assert exposed == {h.lower() for h in EXPOSED}
    assert "origin" in vary(dict(response.headers))


@pytest.mark.parametrize(("environment", "origin"), LOOKALIKE_CASES)
def test_lookalike_origin_is_refused(environment: Environment, origin: str) -> None:
    client = service(environment)

    answer = preflight(client, origin)
    simple = client.get("/health", headers={"Origin": origin})

    assert answer["status"] == "400"
    assert cors_headers(answer) == []
    assert cors_headers(simple.headers) == []
    assert "origin" in vary(answer)
    assert "origin" in vary(dict(simple.headers))


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES[:1])
def test_preflight_refuses_a_method_and_a_header_not_allowed(environment: Environment, origin: str) -> None:
    client = service(environment)

    assert preflight(client, origin, method="TRACE")["status"] == "400"
    if "*" not in HEADERS:
        assert preflight(client, origin, headers="X-Not-Allowed")["status"] == "400"


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES[:1])
def test_a_crash_still_carries_cors_headers(environment: Environment, origin: str) -> None:
    app = create_app(Settings(app_env=environment))

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/crash", headers={"Origin": origin})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert response.headers["access-control-allow-origin"] in (origin, "*")
