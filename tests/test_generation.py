"""Each answer set generates a service whose own tests, lint and type checks pass."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from packaging.requirements import Requirement

from .support.commands import run_in, run_make
from .support.template import TEMPLATE, GenerateOnce, generate
from .support.type_check import start_from_seed
from .support.variants import SAME_CODE_AS, VARIANTS, answers_for, code_of, own_code_variants

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

# Two variants are checked the way a user installs them, each in an environment of its own: the
# defaults with `make install` then `make check` (lint, typecheck, test), no-deployment-no-ci with
# `uv sync` then `uv run pytest`. This environment does not run those checks of theirs again.
CHECKED_IN_THEIR_OWN_ENVIRONMENT = {"defaults": ("lint", "typecheck", "test"), "no-deployment-no-ci": ("test",)}

# `${{ github.ref }}` is GitHub Actions' own expression syntax, not a Jinja leftover.
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^{}]*\}\}")
REGISTRY_WORDS = re.compile(r"origin.registry|sqlalchemy|database_url|admin_token|/admin|origins\.db", re.IGNORECASE)


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def project(request: pytest.FixtureRequest, generated: GenerateOnce) -> Path:
    return generated(request.param, VARIANTS[request.param])


def test_every_choice_combination_is_generated() -> None:
    cookiecutter_json = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    choices = {k: v for k, v in cookiecutter_json.items() if isinstance(v, list) and not k.startswith("_")}
    combinations = set(itertools.product(*choices.values()))

    covered = {tuple(answers_for(a)[k] for k in choices) for a in VARIANTS.values()}

    assert combinations - covered == set()


def checked_here(target: str) -> list[str]:
    """The variants whose ``make <target>`` runs in this environment: those with code of their own,
    but for those checked in an environment of their own."""
    return [name for name in own_code_variants() if target not in CHECKED_IN_THEIR_OWN_ENVIRONMENT.get(name, ())]


@pytest.mark.parametrize(("name", "same_as"), sorted(SAME_CODE_AS.items()))
def test_variants_checked_as_another_have_its_code(name: str, same_as: str, generated: GenerateOnce) -> None:
    """Their code is checked once, as the other variant's: it must be that code, byte for byte."""
    assert code_of(generated(name, VARIANTS[name])) == code_of(generated(same_as, VARIANTS[same_as]))


@pytest.mark.parametrize("name", checked_here("test"))
def test_generated_tests_pass(name: str, generated: GenerateOnce, request: pytest.FixtureRequest) -> None:
    env = {}
    if answers_for(VARIANTS[name])["origin_registry"] == "database":
        env["TEST_POSTGRESQL_URL"] = request.getfixturevalue("postgresql_url")

    result = run_make(generated(name, VARIANTS[name]), "test", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout)
    assert "skipped" not in result.stdout, result.stdout


@pytest.mark.parametrize(("name", "target"), [(n, t) for t in ("lint", "typecheck") for n in checked_here(t)])
def test_generated_code_is_clean(
    name: str, target: str, generated: GenerateOnce, request: pytest.FixtureRequest
) -> None:
    project = generated(name, VARIANTS[name])
    if target == "typecheck":
        start_from_seed(project, request.getfixturevalue("mypy_seed"))

    result = run_make(project, target)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_only_chosen_options_leave_files(generated: GenerateOnce, name: str) -> None:
    project, answers = generated(name, VARIANTS[name]), answers_for(VARIANTS[name])

    for (variable, value), paths in CHOICE_PATHS.items():
        for path in paths:
            assert (project / path).is_file() == (answers[variable] == value), (variable, path)


def test_no_template_syntax_is_left_behind(project: Path) -> None:
    leftovers = [
        path
        for path in project.rglob("*")
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


def test_dependencies_have_compatible_ranges(project: Path) -> None:
    """Every runtime and development dependency has a floor and a ceiling (PEP 621 metadata)."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*metadata["dependencies"], *(d for group in metadata["optional-dependencies"].values() for d in group)]

    unbounded = [
        text for text in declared if not {">=", "<"} <= {spec.operator for spec in Requirement(text).specifier}
    ]

    assert declared and unbounded == []


def test_make_install_then_check_works_from_scratch(tmp_path: Path) -> None:
    """The README's own path: a fresh virtual environment from `make install`, then `make check`."""
    project = generate(tmp_path, VARIANTS["defaults"])

    installed = run_make(project, "install", venv=project / ".venv")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    checked = run_make(project, "check", venv=project / ".venv")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"\d+ passed", checked.stdout)
    assert "skipped" not in checked.stdout, checked.stdout


def test_uv_sync_and_run_work(tmp_path: Path) -> None:
    """uv users: `uv sync --extra dev` installs the project, `uv run pytest` runs its tests."""
    project = generate(tmp_path, VARIANTS["no-deployment-no-ci"])

    synced = run_in(project, "uv", "sync", "--extra", "dev")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    tested = run_in(project, "uv", "run", "pytest", "-q", "-p", "no:cacheprovider")

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"\d+ passed", tested.stdout)
    assert "skipped" not in tested.stdout, tested.stdout
    assert (project / "uv.lock").is_file()
