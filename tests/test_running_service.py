"""A generated service, started as its README says, over real HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .support.commands import service_environment
from .support.servers import generated_service, package_of, preflight, uvicorn_command
from .support.template import GenerateOnce

ANSWERS = {
    "project_name": "Orders API",
    "dev_origins": "http://localhost:4200",
    "prod_origins": "https://shop.example.com,https://*.shop-partners.example.com",
    "allow_methods": "GET,POST",
    "allow_headers": "Authorization,X-Tenant",
    "expose_headers": "X-Total-Count",
    "max_age": "120",
}


@pytest.fixture(scope="module")
def project(generated: GenerateOnce) -> Path:
    return generated("orders", ANSWERS)


def production(**environment: str) -> dict[str, str]:
    """The environment of a service started with ``APP_ENV=production`` and ``environment``."""
    return {**service_environment(), "APP_ENV": "production", **environment}


@pytest.fixture(scope="module")
def production_url(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("production") / "server.log"
    with generated_service(project, production(), log) as url:
        yield url


def test_health(production_url: str) -> None:
    response = httpx.get(f"{production_url}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("origin", ["https://shop.example.com", "https://eu.shop-partners.example.com"])
def test_allowed_origins_get_their_preflight(production_url: str, origin: str) -> None:
    response = preflight(production_url, origin, headers={"Access-Control-Request-Headers": "authorization, x-tenant"})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert {"authorization", "x-tenant"} <= set(response.headers["access-control-allow-headers"].lower().split(", "))
    assert response.headers["access-control-max-age"] == "120"
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:4200",
        "http://shop.example.com",
        "https://shop.example.com.evil.test",
        "https://a.b.shop-partners.example.com",
        "https://shop-partners.example.com",
        "null",
    ],
)
def test_other_origins_are_refused(production_url: str, origin: str) -> None:
    refused = preflight(production_url, origin)
    simple = httpx.get(f"{production_url}/health", headers={"Origin": origin})

    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CORS_ALLOW_ORIGINS", "https://*.com"),
        ("CORS_MAX_AGE", "soon"),
        ("CORS_ALLOW_METHODS", "GET,PO ST"),
        ("CSRF_EXEMPT_PATHS", "/hooks,webhooks"),
    ],
)
def test_a_bad_variable_stops_the_start_with_one_line(project: Path, variable: str, value: str) -> None:
    server = subprocess.run(
        uvicorn_command(f"{package_of(project)}.main:app", project / "src"),
        cwd=project,
        env=production(**{variable: value}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    stderr = server.stderr

    assert server.returncode != 0
    assert stderr.strip().count("\n") == 0, stderr
    assert variable in stderr
    assert value.split(",")[-1] in stderr


def test_switching_the_write_protection_off_is_announced_at_start_up(project: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with generated_service(project, production(CSRF_PROTECTION="false"), log) as url:
        forged = httpx.post(f"{url}/health", headers={"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
    stderr = log.read_text()

    lines = [line for line in stderr.splitlines() if line.startswith("Cross-origin write protection")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Cross-origin write protection is off (CSRF_PROTECTION=false) in APP_ENV=production")
    assert forged.status_code == 405, "with the protection off, the forged write reaches the router"


def test_a_forged_write_is_refused_and_the_frontends_write_passes(production_url: str) -> None:
    forged = httpx.post(
        f"{production_url}/health", headers={"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}
    )
    frontend = httpx.post(
        f"{production_url}/health", headers={"Origin": "https://shop.example.com", "Sec-Fetch-Site": "cross-site"}
    )

    assert (forged.status_code, forged.json()) == (403, {"detail": "cross-origin request refused"})
    assert "access-control-allow-origin" not in forged.headers
    assert frontend.status_code == 405, "the frontend's write did not reach the router"
    assert frontend.headers["access-control-allow-origin"] == "https://shop.example.com"
