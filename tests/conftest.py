"""Helpers to generate services from this template in isolation."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

from .postgresql import PostgreSQLServer, postgresql_server

TEMPLATE = Path(__file__).resolve().parents[1]
TOOLS = Path(sys.executable).parent
"""Where this environment's command-line tools (hadolint, kubectl, cruft, ...) are installed."""


@pytest.fixture(scope="session", autouse=True)
def cookiecutter_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep replay files and clones out of the user's home directory."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(f"replay_dir: {home / 'replay'}\ncookiecutters_dir: {home / 'cookiecutters'}\n")
    previous = os.environ.get("COOKIECUTTER_CONFIG")
    os.environ["COOKIECUTTER_CONFIG"] = str(config)
    yield home
    if previous is None:
        del os.environ["COOKIECUTTER_CONFIG"]
    else:
        os.environ["COOKIECUTTER_CONFIG"] = previous


def generate(output_dir: Path, answers: Mapping[str, Any] | None = None) -> Path:
    """Generate a service with the default answers, changed by ``answers``."""
    project = cookiecutter(str(TEMPLATE), no_input=True, extra_context=dict(answers or {}), output_dir=str(output_dir))
    return Path(project)


def answers_for(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The plain answers a generation with ``overrides`` uses: choices default to their first option."""
    defaults = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    answers = {k: v[0] if isinstance(v, list) else v for k, v in defaults.items() if not k.startswith("_")}
    return answers | dict(overrides)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Mapping[str, Any]], Path]:
    """Generate each named answer set once per test session (per xdist worker)."""
    projects: dict[str, Path] = {}

    def project(name: str, answers: Mapping[str, Any]) -> Path:
        if name not in projects:
            projects[name] = generate(tmp_path_factory.mktemp(name), answers)
        return projects[name]

    return project


def cors_policy_module() -> ModuleType:
    """The template's own ``cors_policy.py`` (plain Python, no template syntax)."""
    path = next(TEMPLATE.glob("*/src/*/cors_policy.py"))
    spec = importlib.util.spec_from_file_location("template_cors_policy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def tool(name: str) -> str:
    """The path of a command-line tool installed in this environment (never one found elsewhere on PATH)."""
    path = TOOLS / name
    assert path.is_file(), f"{name} is not installed in {TOOLS}; install requirements.txt"
    return str(path)


def service_environment() -> dict[str, str]:
    """The environment a generated service's checks run in: no CORS settings leak in."""
    return {k: v for k, v in os.environ.items() if k != "APP_ENV" and not k.startswith(("CORS_", "CSRF_"))}


def run(
    cwd: Path, argv: list[str], timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd`` with the service environment and ``env`` added, capturing its output."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env={**service_environment(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_in(
    project: Path, *command: str, timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a tool of this environment inside a generated project."""
    return run(project, [sys.executable, "-m", *command], timeout, env)


def run_tool(cwd: Path, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command-line tool of this environment inside ``cwd``."""
    return run(cwd, [tool(command[0]), *command[1:]], timeout)


def run_make(
    project: Path, *targets: str, venv: Path = Path(sys.prefix), env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the generated Makefile's targets with the tools of ``venv`` (this environment by default).

    mypy keeps one cache per test worker, so the dependencies' types are read
    once, not once per generated variant (the variants' own modules are
    re-checked whenever they differ).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    cache = {"MYPY_CACHE_DIR": str(Path(tempfile.gettempdir()) / f"template-tests-mypy-{worker}")}
    return run(
        project,
        ["make", f"VENV={venv}", f"PYTHON={sys.executable}", *targets],
        timeout=600,
        env=cache | dict(env or {}),
    )


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQLServer]:
    """A PostgreSQL server on loopback for this test session (per xdist worker)."""
    with postgresql_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgresql_url(postgresql: PostgreSQLServer) -> str:
    """The URL of the session's PostgreSQL server."""
    return postgresql.url
