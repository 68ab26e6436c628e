"""``python -m {{ cookiecutter.package_name }} origins``: the registry from the command line, on SQLite."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import PROGRAM, main

PROJECT = Path(__file__).resolve().parents[1]

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'origins.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def origins(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the command in this process; return its exit status, output and error output."""

    def run(*arguments: str) -> tuple[int, str, str]:
        status = main(["origins", *arguments])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def test_add_list_and_remove(origins: Run) -> None:
    assert origins("add", "https://b.example.com", "HTTPS://A.example.com/") == (
        0,
        "added: https://b.example.com\nadded: https://a.example.com\n",
        "",
    )
    assert origins("add", "https://a.example.com")[1] == "already stored: https://a.example.com\n"
    assert origins("list")[1] == "https://a.example.com\nhttps://b.example.com\n"

    assert origins("remove", "https://a.example.com", "https://c.example.com")[1] == (
        "removed: https://a.example.com\nnot stored: https://c.example.com\n"
    )
    assert origins("list")[1] == "https://b.example.com\n"


def test_one_refused_entry_stores_nothing(origins: Run) -> None:
    status, _, error = origins("add", "https://a.example.com", "https://a.example.com/app")

    assert status == 1
    assert "origin: 'https://a.example.com/app' has a path" in error
    assert "Write 'https://a.example.com'" in error
    assert origins("list")[1] == ""


def test_the_environment_rules_apply(monkeypatch: pytest.MonkeyPatch, origins: Run) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://app.example.com")

    status, _, error = origins("add", "http://tenant.example.com")

    assert status == 1
    assert "plain http, which is refused in production" in error
    assert origins("list")[1] == ""


def test_a_stored_origin_the_environment_refuses_is_listed_and_named_as_ignored(
    monkeypatch: pytest.MonkeyPatch, origins: Run, caplog: pytest.LogCaptureFixture
) -> None:
    """The command opens the registry as the service does, so it reports the same ignored rows."""
    origins("add", "http://tenant.example.com")
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://app.example.com")

    with caplog.at_level(logging.WARNING):
        status, output, _ = origins("list")

    assert (status, output) == (0, "http://tenant.example.com\n")
    assert "ignoring stored origin 'http://tenant.example.com': " in caplog.text
    assert "plain http, which is refused in production" in caplog.text


def test_migrate_brings_the_schema_to_this_version_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    first = capsys.readouterr().out
    assert main(["migrate"]) == 0
    again = capsys.readouterr().out

    assert first.startswith("schema migrated from revision (none) to ")
    assert again == f"schema already at revision {first.split()[-1]}\n"


def test_runs_as_a_module(database: str, tmp_path: Path) -> None:
    environment = {**os.environ, "DATABASE_URL": database, "PYTHONPATH": str(PROJECT / "src")}

    def as_a_module(*arguments: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "origins", *arguments]
        return subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60)  # noqa: S603 (this test's own arguments)

    added = as_a_module("add", "https://a.example.com")
    listed = as_a_module("list")

    assert added.returncode == 0, added.stderr
    assert listed.stdout == "https://a.example.com\n"


def test_cors_explain_sees_the_stored_origins(origins: Run, capsys: pytest.CaptureFixture[str]) -> None:
    explain = ["cors", "explain", "https://tenant-7.example.com", "--env", "production"]
    assert main(explain) == 1
    capsys.readouterr()
    origins("add", "https://tenant-7.example.com")

    assert main(explain) == 0
    assert "rule: frontend (https://tenant-7.example.com)" in capsys.readouterr().out


@pytest.mark.parametrize("action", [("add", "https://a.example.com"), ("remove", "https://a.example.com"), ("list",)])
def test_a_locked_database_is_one_line_and_a_failure(
    monkeypatch: pytest.MonkeyPatch, origins: Run, tmp_path: Path, action: tuple[str, ...]
) -> None:
    database = tmp_path / "locked.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}?timeout=0.1")
    assert origins("add", "https://b.example.com")[0] == 0
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        status, output, error = origins(*action)
    finally:
        holder.close()

    assert status == 1
    assert output == ""
    assert error.count("\n") == 1
    assert error.startswith(f"{PROGRAM}: nothing was changed: DATABASE_URL: ")
    assert "database is locked" in error
    assert origins("list")[1] == "https://b.example.com\n"


def test_a_database_in_a_missing_directory_is_one_line(
    monkeypatch: pytest.MonkeyPatch, origins: Run, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'origins.db'}")

    status, _, error = origins("list")

    assert status == 1
    assert error.count("\n") == 1
    assert "unable to open database file" in error
