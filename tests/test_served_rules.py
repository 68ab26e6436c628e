"""The three audiences through uvicorn: frontends with credentials, partners read-only, public paths for anyone."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .support.commands import service_environment
from .support.servers import generated_service, preflight
from .support.template import GenerateOnce

ANSWERS = {
    "project_name": "Catalogue API",
    "prod_origins": "https://app.acme.io",
    "partner_origins": "https://dashboard.partner.io,https://*.widgets.partner.io",
    "public_paths": "/public,/status",
    "deploy": "none",
    "ci": "none",
}
STRANGER = "https://anyone.example.net"


@pytest.fixture(scope="module")
def production(generated: GenerateOnce, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    project = generated("three-audiences", ANSWERS)
    log = tmp_path_factory.mktemp("three-audiences") / "uvicorn.log"
    with generated_service(project, service_environment() | {"APP_ENV": "production"}, log) as url:
        yield url


def test_the_frontend_gets_credentials(production: str) -> None:
    answer = preflight(production, "https://app.acme.io", "DELETE")

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.acme.io"
    assert answer.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("partner", ["https://dashboard.partner.io", "https://eu.widgets.partner.io"])
def test_a_partner_reads_and_never_gets_credentials(production: str, partner: str) -> None:
    answer = preflight(production, partner)
    response = httpx.get(f"{production}/health", headers={"Origin": partner}, timeout=10)
    write = preflight(production, partner, "DELETE")

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == partner
    assert response.headers["access-control-allow-origin"] == partner
    assert "access-control-allow-credentials" not in {**answer.headers, **response.headers}
    assert write.status_code == 400


@pytest.mark.parametrize("path", ["/public", "/public/catalogue", "/status"])
def test_anyone_reads_a_public_path(production: str, path: str) -> None:
    answer = preflight(production, STRANGER, path=path)

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize("path", ["/publicity", "/health", "/statusboard"])
def test_a_lookalike_path_is_not_public(production: str, path: str) -> None:
    answer = preflight(production, STRANGER, path=path)

    assert answer.status_code == 400
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
