"""Running this environment's tools and a generated project's commands, with no CORS settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

TOOLS = Path(sys.executable).parent
"""Where this environment's command-line tools (hadolint, kubectl, cruft, ...) are installed."""


def tool(name: str) -> str:
    """The path of a command-line tool installed in this environment (never one found elsewhere on PATH)."""
    path = TOOLS / name
    assert path.is_file(), f"{name} is not installed in {TOOLS}; `make test` installs requirements.txt"
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
    """Run the generated Makefile's targets with the tools of ``venv`` (this environment by default)."""
    return run(project, ["make", f"VENV={venv}", f"PYTHON={sys.executable}", *targets], timeout=600, env=env)
