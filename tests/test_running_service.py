"""A generated service, started as its README says, over real HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import generate, service_environment

ANSWERS = {
    "project_name": "Orders API",
    "dev_origins": "http://localhost:4200",
    "prod_origins": "https://shop.example.com,https://*.shop-partners.example.com",
    "allow_methods": "GET,POST",
    "allow_headers": "Authorization,X-Tenant",
    "expose_headers": "X-Total-Count",
    "max_age": "120",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(project: Path, **environment: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "orders_api.main:app", "--app-dir", "src", "--port", str(port)],
        cwd=project,
        env={**service_environment(), **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return server, f"http://127.0.0.1:{port}"


def wait_until_serving(server: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        try:
            httpx.get(f"{url}/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the service did not start within 30 s")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("orders"), ANSWERS)


@pytest.fixture(scope="module")
def production_url(project: Path) -> Iterator[str]:
    server, url = start(project, APP_ENV="production")
    try:
        wait_until_serving(server, url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def preflight(url: str, origin: str, **headers: str) -> httpx.Response:
    return httpx.options(f"{url}/health", headers={"Origin": origin, "Access-Control-Request-Method": "GET", **headers})


def test_health(production_url: str) -> None:
    response = httpx.get(f"{production_url}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("origin", ["https://shop.example.com", "https://eu.shop-partners.example.com"])
def test_allowed_origins_get_their_preflight(production_url: str, origin: str) -> None:
    response = preflight(production_url, origin, **{"Access-Control-Request-Headers": "authorization, x-tenant"})

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
    server, _ = start(project, APP_ENV="production", **{variable: value})
    _, stderr = server.communicate(timeout=30)

    assert server.returncode != 0
    assert stderr.strip().count("\n") == 0, stderr
    assert variable in stderr
    assert value.split(",")[-1] in stderr


def test_switching_the_write_protection_off_is_announced_at_start_up(project: Path) -> None:
    server, url = start(project, APP_ENV="production", CSRF_PROTECTION="false")
    try:
        wait_until_serving(server, url)
        forged = httpx.post(f"{url}/health", headers={"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)

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
