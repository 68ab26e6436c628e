"""Every bad setting stops a generated service at start-up with one line: no traceback, no secret.

Each case starts the real entry point in its own process (``import <package>.main``,
as uvicorn does; one case through uvicorn itself) in an empty directory, with
only the listed variables set. The refusal of each value by the settings is
checked in process by the generated project's own ``tests/test_settings.py``
(in every variant, by test_generation.py), so the cases here are the values it
does not hold and the failures that lie beyond the settings: a database URL or
a database that cannot be used, a ``.env`` that is not UTF-8, and uvicorn's own
start.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from .support.commands import service_environment
from .support.servers import package_of
from .support.template import GenerateOnce

SECRET = "s3cret-Pw"
"""Stands for a password or token: it must never reach the output."""

CASES: list[Any] = [
    pytest.param({"CORS_ALLOW_HEADERS": '["X-Ok", {"a": 1}]'}, "CORS_ALLOW_HEADERS", id="json-object-header"),
    pytest.param({"CORS_EXPOSE_HEADERS": "X:Bad"}, "CORS_EXPOSE_HEADERS", id="exposed-header"),
    pytest.param({"CORS_MAX_AGE": "9" * 5000}, "CORS_MAX_AGE", id="max-age-5000-digits"),
    pytest.param(
        {"DATABASE_URL": f"postgresql://svc:{SECRET}@db.internal:port/origins"}, "DATABASE_URL", id="url-bad-port"
    ),
    pytest.param(
        {"DATABASE_URL": f"postgresql://svc:{SECRET}@x@db.internal/origins"}, "DATABASE_URL", id="url-unencoded-at"
    ),
    pytest.param(
        {"DATABASE_URL": f"nosuchdb://svc:{SECRET}@db.internal/origins"}, "DATABASE_URL", id="url-unknown-database"
    ),
    pytest.param({"DATABASE_URL": "origins.db"}, "DATABASE_URL", id="url-not-a-url"),
    pytest.param({"DATABASE_URL": "sqlite:///{dir}/missing/origins.db"}, "DATABASE_URL", id="database-missing"),
    pytest.param({"DATABASE_URL": "sqlite:///{dir}/garbage.db"}, "DATABASE_URL", id="database-not-a-database"),
    pytest.param({"DATABASE_URL": "sqlite:///{dir}/locked.db?timeout=0.1"}, "DATABASE_URL", id="database-locked"),
]


@pytest.fixture(scope="module")
def project(generated: GenerateOnce) -> Path:
    return generated("runtime-refusals", {"origin_registry": "database", "deploy": "none", "ci": "none"})


@contextmanager
def locked(database: Path) -> Iterator[None]:
    """Hold SQLite's exclusive lock on ``database`` for the duration."""
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        holder.close()


def run_with_settings(
    project: Path, cwd: Path, variables: Mapping[str, str], argv: list[str]
) -> subprocess.CompletedProcess[str]:
    """Run the service's Python with ``variables`` as its settings, from ``cwd``."""
    environment = {k: v for k, v in service_environment().items() if k not in ("DATABASE_URL", "ADMIN_TOKEN")}
    environment |= {"PYTHONPATH": str(project / "src"), **variables}
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], named: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr
    assert f"configuration refused: {named}" in result.stderr


@pytest.mark.parametrize(("variables", "named"), CASES)
def test_a_bad_setting_stops_start_up_with_one_line(
    project: Path, tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    variables = {name: value.replace("{dir}", str(tmp_path)) for name, value in variables.items()}
    (tmp_path / "garbage.db").write_bytes(b"not SQLite " * 100)
    sqlite3.connect(tmp_path / "locked.db").close()
    guard = locked(tmp_path / "locked.db") if "locked" in variables.get("DATABASE_URL", "") else nullcontext()

    with guard:
        result = run_with_settings(project, tmp_path, variables, ["-c", f"import {package_of(project)}.main"])

    assert_one_line_refusal(result, named)


def test_a_dotenv_file_that_is_not_utf8_is_one_line(project: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"CORS_MAX_AGE=\xff\xfe\n")

    result = run_with_settings(project, tmp_path, {}, ["-c", f"import {package_of(project)}.main"])

    assert_one_line_refusal(result, ".env")


def test_uvicorn_prints_the_same_one_line(project: Path, tmp_path: Path) -> None:
    """The README's own command: uvicorn adds nothing to the refusal."""
    app = f"{package_of(project)}.main:app"
    variables = {"DATABASE_URL": f"postgresql://svc:{SECRET}@db.internal:port/origins"}

    result = run_with_settings(
        project, tmp_path, variables, ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "0"]
    )

    assert_one_line_refusal(result, "DATABASE_URL")
    assert os.listdir(tmp_path) == [], "nothing is written before the refusal"
