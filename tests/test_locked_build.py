"""The generated project locks with uv, installs from its lock as the image does, and runs under FastAPI's CLI.

``uv lock`` resolves from PyPI once per session (generation itself stays
offline: the hook never locks); the tests share that locked copy.
"""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from .support.commands import TOOLS, run, run_in, service_environment
from .support.servers import package_of, preflight, serving
from .support.template import GenerateOnce
from .support.variants import answers_for

ANSWERS = answers_for({})
PRODUCTION_ORIGIN = ANSWERS["prod_origins"].split(",")[0].strip()
DEV_ORIGIN = ANSWERS["dev_origins"].split(",")[0].strip()


@pytest.fixture(scope="module")
def locked(generated: GenerateOnce, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the default project, locked with ``uv lock`` as its README says to do first."""
    project = tmp_path_factory.mktemp("locked") / "project"
    shutil.copytree(generated("defaults", {}), project)
    result = run_in(project, "uv", "lock")
    assert result.returncode == 0, result.stdout + result.stderr
    return project


def test_the_lock_pins_every_runtime_dependency(locked: Path) -> None:
    lock = tomllib.loads((locked / "uv.lock").read_text(encoding="utf-8"))
    pinned = {package["name"] for package in lock["package"] if "version" in package}

    assert {"fastapi", "starlette", "pydantic-settings", "uvicorn", "pydantic"} <= pinned
    assert run_in(locked, "uv", "lock", "--check").returncode == 0


def test_the_lock_check_fails_after_a_dependency_edit(locked: Path, tmp_path: Path) -> None:
    project = tmp_path / "edited"
    shutil.copytree(locked, project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"fastapi>=0.160,<1",', '"fastapi>=0.160,<1",\n    "idna>=3,<4",')
    )

    result = run_in(project, "uv", "lock", "--check")

    assert result.returncode != 0
    assert "uv lock" in result.stderr, result.stderr


def test_the_images_install_gives_a_service_that_serves(locked: Path, tmp_path: Path) -> None:
    """``uv sync --locked --no-dev --no-editable`` into a fresh environment, as the Dockerfile runs it."""
    venv = tmp_path / "image-venv"
    synced = run_in(
        locked, "uv", "sync", "--locked", "--no-dev", "--no-editable", env={"UV_PROJECT_ENVIRONMENT": str(venv)}
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    package = package_of(locked)
    elsewhere = tmp_path / "elsewhere"  # no src/ and no .env here: only what was installed runs
    elsewhere.mkdir()

    where = run(elsewhere, [str(venv / "bin/python"), "-c", f"import {package}; print({package}.__file__)"])
    assert Path(where.stdout.strip()).is_relative_to(venv), "installed, not editable"
    assert not (venv / "bin/pytest").exists(), "no development tools"
    command = [str(venv / "bin/uvicorn"), f"{package}.main:app", "--host", "127.0.0.1", "--port", "0"]
    env = service_environment() | {"APP_ENV": "production"}
    with serving(command, cwd=elsewhere, env=env, log=tmp_path / "server.log") as url:
        health = httpx.get(f"{url}/health", timeout=10)
        allowed = preflight(url, PRODUCTION_ORIGIN)

    assert health.json() == {"status": "ok"}
    assert (allowed.status_code, allowed.headers["access-control-allow-origin"]) == (200, PRODUCTION_ORIGIN)
    assert allowed.headers["x-request-id"]


@pytest.mark.parametrize("mode", ["run", "dev"])
def test_fastapi_cli_serves_the_entrypoint_from_pyproject(generated: GenerateOnce, tmp_path: Path, mode: str) -> None:
    """``fastapi run`` / ``fastapi dev`` with no app argument: ``[tool.fastapi] entrypoint`` names it."""
    project = generated("defaults", {})
    entrypoint = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["fastapi"]["entrypoint"]
    assert entrypoint == f"{package_of(project)}.main:app"
    log = tmp_path / "server.log"
    command = [str(TOOLS / "fastapi"), mode, "--host", "127.0.0.1", "--port", "0"]
    env = service_environment() | {"PYTHONPATH": str(project / "src")}
    if mode == "run":
        env["APP_ENV"] = "production"
    origin = PRODUCTION_ORIGIN if mode == "run" else DEV_ORIGIN

    with serving(command, cwd=project, env=env, log=log) as url:
        allowed = preflight(url, origin)
        refused = preflight(url, "https://evil.example.net")
        sent = httpx.get(f"{url}/health", headers={"X-Request-ID": "cli-check-1"}, timeout=10)

    assert (allowed.status_code, allowed.headers["access-control-allow-origin"]) == (200, origin)
    assert refused.status_code == 400
    assert sent.headers["x-request-id"] == "cli-check-1"
    output = log.read_text()
    assert re.search(r'request_id=cli-check-1 - "GET /health HTTP/1.1" 200', output), output
    assert f'request_id="{refused.headers["x-request-id"]}"' in output, "the refused-preflight line names its ID"
    if mode == "dev":
        assert "reload" in output.lower(), output


def test_the_uv_pin_is_the_released_uv_this_environment_installed(
    generated: GenerateOnce,
) -> None:
    """The uv of the Dockerfile and both CI files is a released one: the version requirements.txt installed."""
    project, gitlab = generated("defaults", {}), generated("gitlab-ci", {"ci": "gitlab", "deploy": "none"})
    installed = run(project, [sys.executable, "-m", "uv", "--version"]).stdout.split()[1]
    texts = [(project / name).read_text() for name in ("Dockerfile", ".github/workflows/ci.yml")]
    texts.append((gitlab / ".gitlab-ci.yml").read_text())

    pins = {pin for text in texts for pin in re.findall(r"uv(?:==|:)(\d+\.\d+\.\d+)", text)}

    assert pins == {installed}
