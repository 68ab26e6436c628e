"""Helpers to generate services from this template in isolation."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]


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


def service_environment() -> dict[str, str]:
    """The environment a generated service's checks run in: no CORS settings leak in."""
    return {k: v for k, v in os.environ.items() if k != "APP_ENV" and not k.startswith("CORS_")}


def run_in(
    project: Path, *command: str, timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a tool of this environment inside a generated project, with ``env`` added to its environment."""
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=project,
        env={**service_environment(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
