"""Each answer set generates a service whose own tests, lint and type checks pass."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter
from packaging.requirements import Requirement

from .conftest import TEMPLATE, answers_for, generate, run_in, run_make

# Together the variants cover every combination of the choice variables
# (deploy x ci x origin_registry); test_every_choice_combination_is_generated keeps it so.
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-credentials-all-origins-in-dev": {
        "allow_credentials": False,
        "dev_origins": "*",
        "origin_registry": "database",
    },
    "wildcard-patterns": {
        "dev_origins": "http://localhost:*,http://127.0.0.1:*",
        "staging_origins": "https://*.staging.example.com",
        "prod_origins": "https://*.example.com,https://app.example.org:8443",
        "deploy": "none",
    },
    "custom-protocol-options": {
        "project_name": "Billing API",
        "partner_origins": "https://dashboard.partner.io,https://*.widgets.partner.io",
        "public_paths": "/public,/status/",
        "allow_methods": "GET,POST,DELETE",
        "allow_headers": "Authorization,X-Request-ID,X-Tenant",
        "expose_headers": "X-Total-Count,X-Request-ID",
        "max_age": "7200",
        "deploy": "none",
        "ci": "gitlab",
    },
    "empty-staging-and-expose": {"staging_origins": "", "expose_headers": "", "max_age": "0", "ci": "none"},
    "normalised-answers": {
        "dev_origins": "HTTP://LocalHost:3000/, http://localhost:80",
        "prod_origins": "https://App.Example.com:443/",
        "allow_methods": "get, post",
        "ci": "gitlab",
    },
    "no-deployment-no-ci": {"project_name": "Plain Worker", "deploy": "none", "ci": "none"},
    "origin-registry": {"origin_registry": "database", "project_name": "Tenant API", "deploy": "none", "ci": "none"},
    "registry-patterns-gitlab": {
        "origin_registry": "database",
        "partner_origins": "https://dashboard.partner.io",
        "public_paths": "/docs",
        "prod_origins": "https://*.tenants.example.com",
        "ci": "gitlab",
    },
    "registry-no-ci": {"origin_registry": "database", "allow_credentials": False, "ci": "none"},
    "registry-no-deployment": {"origin_registry": "database", "deploy": "none"},
    "registry-no-deployment-gitlab": {"origin_registry": "database", "deploy": "none", "ci": "gitlab"},
}

# Paths that exist only for one answer of a choice variable.
CHOICE_PATHS = {
    ("deploy", "kubernetes"): ["deploy/kubernetes/base/kustomization.yaml", "deploy/kubernetes/README.md"],
    ("ci", "github"): [
        ".github/workflows/ci.yml",
        ".github/workflows/template-check.yml",
        ".github/workflows/cors-verify.yml",
        ".github/dependabot.yml",
    ],
    ("ci", "gitlab"): [".gitlab-ci.yml", ".gitlab/cors-verify.yml", "renovate.json"],
}

# `${{ github.ref }}` is GitHub Actions' own expression syntax, not a Jinja leftover.
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^{}]*\}\}")
REGISTRY_WORDS = re.compile(r"origin.registry|sqlalchemy|database_url|admin_token|/admin|origins\.db", re.IGNORECASE)


def variants_where(**choices: str) -> list[str]:
    """The names of the variants whose answers include ``choices``."""
    return sorted(n for n, a in VARIANTS.items() if all(answers_for(a)[k] == v for k, v in choices.items()))


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest, generated: Callable[[str, Mapping[str, Any]], Path]) -> Path:
    return generated(request.param, VARIANTS[request.param])


def test_every_choice_combination_is_generated() -> None:
    cookiecutter_json = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    choices = {k: v for k, v in cookiecutter_json.items() if isinstance(v, list) and not k.startswith("_")}
    combinations = set(itertools.product(*choices.values()))

    covered = {tuple(answers_for(a)[k] for k in choices) for a in VARIANTS.values()}

    assert combinations - covered == set()


def test_generated_tests_pass(variant: Path, request: pytest.FixtureRequest) -> None:
    env = {}
    if answers_for(VARIANTS[request.node.callspec.params["variant"]])["origin_registry"] == "database":
        env["TEST_POSTGRESQL_URL"] = request.getfixturevalue("postgresql_url")

    result = run_make(variant, "test", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout)
    assert "skipped" not in result.stdout, result.stdout


@pytest.mark.parametrize("target", ["lint", "typecheck"])
def test_generated_code_is_clean(variant: Path, target: str) -> None:
    result = run_make(variant, target)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_only_chosen_options_leave_files(generated: Callable[[str, Mapping[str, Any]], Path], name: str) -> None:
    project, answers = generated(name, VARIANTS[name]), answers_for(VARIANTS[name])

    for (variable, value), paths in CHOICE_PATHS.items():
        for path in paths:
            assert (project / path).is_file() == (answers[variable] == value), (variable, path)


def test_no_template_syntax_is_left_behind(variant: Path) -> None:
    leftovers = [
        path
        for path in variant.rglob("*")
        if path.is_file()
        and not any(part.endswith("cache") or part == "__pycache__" for part in path.parts)
        and path.suffix != ".db"  # the registry's SQLite file, made when a test serves the service
        and re.search(r"{{|}}|{%|%}|cookiecutter\.", GITHUB_EXPRESSION.sub("", path.read_text(encoding="utf-8")))
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


@pytest.mark.parametrize("deploy", ["kubernetes", "none"])
def test_generating_again_over_a_project_changes_nothing(tmp_path: Path, deploy: str) -> None:
    """The hook is idempotent: rendering and running it again over a project gives the same files."""
    answers = VARIANTS["normalised-answers"] | {"deploy": deploy}
    first = generate(tmp_path / "again", answers)
    before = {p.relative_to(first): p.read_bytes() for p in first.rglob("*") if p.is_file()}

    again = cookiecutter(
        str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(first.parent), overwrite_if_exists=True
    )

    assert Path(again) == first
    assert {p.relative_to(first): p.read_bytes() for p in first.rglob("*") if p.is_file()} == before


def test_dependencies_have_compatible_ranges(variant: Path) -> None:
    """Every runtime and development dependency has a floor and a ceiling (PEP 621 metadata)."""
    project = tomllib.loads((variant / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *(d for group in project["optional-dependencies"].values() for d in group)]

    unbounded = [
        text for text in declared if not {">=", "<"} <= {spec.operator for spec in Requirement(text).specifier}
    ]

    assert declared and unbounded == []


def test_make_install_then_check_works_from_scratch(tmp_path: Path) -> None:
    """The README's own path: a fresh virtual environment from `make install`, then `make check`."""
    project = generate(tmp_path)

    installed = run_make(project, "install", venv=project / ".venv")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    checked = run_make(project, "check", venv=project / ".venv")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"\d+ passed", checked.stdout)


def test_uv_sync_and_run_work(tmp_path: Path) -> None:
    """uv users: `uv sync --extra dev` installs the project, `uv run pytest` runs its tests."""
    project = generate(tmp_path, {"deploy": "none", "ci": "none"})

    synced = run_in(project, "uv", "sync", "--extra", "dev")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    tested = run_in(project, "uv", "run", "pytest", "-q", "-p", "no:cacheprovider")

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"\d+ passed", tested.stdout)
    assert (project / "uv.lock").is_file()
