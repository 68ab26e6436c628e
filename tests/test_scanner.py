"""A published CORS misconfiguration scanner, CORScanner, finds nothing in any generated variant."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .support.commands import service_environment
from .support.cors_battery import concrete_origin
from .support.origin_oracle import entry_parts
from .support.servers import generated_service, uvicorn_server
from .support.template import TEMPLATE
from .support.variants import VARIANTS, intended_policy

SCANNER = Path(__file__).with_name("support") / "corscanner_offline.py"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Uvicorn options for a throw-away self-signed certificate (the scanner does not verify it)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to serve over https; `make test` installs it")
    folder = tmp_path_factory.mktemp("tls")
    key, certificate = folder / "key.pem", folder / "certificate.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=scan.test"]
    subprocess.run([*request, "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    return ["--ssl-keyfile", str(key), "--ssl-certfile", str(certificate)]


def scan(url: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(SCANNER), url],
        env=service_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    verdict: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return verdict


def on_host(base_url: str, origin: str) -> str:
    """The server's URL, named by the origin's host, as the scanner needs (it resolves to loopback)."""
    port = base_url.rpartition(":")[2]
    return f"https://{entry_parts(origin)[1]}:{port}/health"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_corscanner_finds_nothing_in_production(
    variant: str, generated_variant: Callable[[str], Path], tmp_path: Path, tls: list[str]
) -> None:
    project = generated_variant(variant)
    env = {**service_environment(), "APP_ENV": "production"}
    origin = concrete_origin(intended_policy(VARIANTS[variant], "production").origins[0])

    log = tmp_path / "server.log"

    with generated_service(project, env, log, options=tls) as url:
        verdict = scan(on_host(url, origin))

    assert verdict == {}
    assert log.read_text().count('"GET /health HTTP/1.1"') >= 30, "the scanner did not reach the service"


def test_corscanner_runs_offline_and_catches_a_reflecting_service(tmp_path: Path, tls: list[str]) -> None:
    app = "tests.support.broken_services:all_origins_with_credentials"
    env = service_environment()

    with uvicorn_server(
        app, app_dir=TEMPLATE, cwd=TEMPLATE, env=env, log=tmp_path / "server.log", factory=True, options=tls
    ) as url:
        verdict = scan(on_host(url, "https://app.example.com"))

    assert verdict["type"] == "reflect_origin"
    assert verdict["credentials"] == "true"
