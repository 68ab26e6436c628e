"""Each answer set generates a service whose own tests, lint and type checks pass."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import generate, run_in

VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-credentials-all-origins-in-dev": {"allow_credentials": False, "dev_origins": "*"},
    "wildcard-patterns": {
        "dev_origins": "http://localhost:*,http://127.0.0.1:*",
        "staging_origins": "https://*.staging.example.com",
        "prod_origins": "https://*.example.com,https://app.example.org:8443",
    },
    "custom-protocol-options": {
        "project_name": "Billing API",
        "allow_methods": "GET,POST,DELETE",
        "allow_headers": "Authorization,X-Request-ID,X-Tenant",
        "expose_headers": "X-Total-Count,X-Request-ID",
        "max_age": "7200",
    },
    "empty-staging-and-expose": {"staging_origins": "", "expose_headers": "", "max_age": "0"},
    "normalised-answers": {
        "dev_origins": "HTTP://LocalHost:3000/, http://localhost:80",
        "prod_origins": "https://App.Example.com:443/",
    },
    "origin-registry": {"origin_registry": "database", "project_name": "Tenant API"},
}

REGISTRY_WORDS = re.compile(r"registry|sqlalchemy|database|admin|origins\.db", re.IGNORECASE)


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp(request.param), VARIANTS[request.param])


def test_generated_tests_pass(variant: Path, request: pytest.FixtureRequest) -> None:
    environment = {}
    if VARIANTS[request.node.callspec.params["variant"]].get("origin_registry") == "database":
        environment["TEST_POSTGRESQL_URL"] = request.getfixturevalue("postgresql_url")

    result = run_in(variant, "pytest", "-q", "-p", "no:cacheprovider", environment=environment)

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout)
    assert "skipped" not in result.stdout, result.stdout


@pytest.mark.parametrize(
    "check", [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy", "--no-incremental")], ids=" ".join
)
def test_generated_code_is_clean(variant: Path, check: tuple[str, ...]) -> None:
    result = run_in(variant, *check)

    assert result.returncode == 0, result.stdout + result.stderr


def test_no_template_syntax_is_left_behind(variant: Path) -> None:
    leftovers = [
        path
        for path in variant.rglob("*")
        if path.is_file()
        and not any(part.endswith("cache") or part == "__pycache__" for part in path.parts)
        and re.search(r"{{|}}|{%|%}|cookiecutter\.", path.read_text(encoding="utf-8"))
    ]

    assert leftovers == []


def test_without_the_registry_no_trace_of_it_is_left(tmp_path: Path) -> None:
    project = generate(tmp_path)

    mentions = [
        f"{path.relative_to(project)}: {match.group()}"
        for path in project.rglob("*")
        if path.is_file()
        for match in [REGISTRY_WORDS.search(path.read_text(encoding="utf-8"))]
        if match
    ]
    assert mentions == []


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first, second = generate(tmp_path / "a"), generate(tmp_path / "b")

    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
