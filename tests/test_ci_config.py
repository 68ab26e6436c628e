"""The generated CI files validate against their published schemas and run the Makefile's checks;
a fresh project already passes its own pre-commit hygiene hooks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support.commands import run_tool
from .support.template import GenerateOnce
from .support.variants import VARIANTS, answers_for, variants_where

SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}
# The update bot that keeps each platform's pins fresh, and its configuration's schema.
UPDATE_BOTS = {
    "github": (".github/dependabot.yml", "vendor.dependabot"),
    "gitlab": ("renovate.json", "vendor.renovate"),
}
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
EXACT_IMAGE = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+(-[\w.-]+)?(@sha256:[0-9a-f]{64})?$")
CHECK_TARGETS = {"lint", "typecheck", "test"}


def ci_files(project: Path, ci: str) -> list[Path]:
    return sorted((project / ".github/workflows").glob("*.yml")) if ci == "github" else [project / ".gitlab-ci.yml"]


def make_targets(project: Path) -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (project / "Makefile").read_text(encoding="utf-8"), flags=re.MULTILINE))


def commands_of(document: Any) -> list[str]:
    """Every shell command in a workflow or pipeline: GitHub's `run:` and GitLab's script lines."""
    if isinstance(document, dict):
        found = [document["run"]] if isinstance(document.get("run"), str) else []
        for key in ("before_script", "script"):
            found += document.get(key, [])
        return found + [c for value in document.values() for c in commands_of(value)]
    if isinstance(document, list):
        return [c for item in document for c in commands_of(item)]
    return []


def scheduled_commands(ci: str, documents: list[dict[Any, Any]]) -> list[str]:
    """The commands that run only on a schedule."""
    if ci == "github":
        # PyYAML reads the key `on` as the boolean True.
        return [c for d in documents if set(d[True]) <= {"schedule", "workflow_dispatch"} for c in commands_of(d)]
    [pipeline] = documents
    jobs = [j for j in pipeline.values() if isinstance(j, dict) and "rules" in j]
    only_scheduled = [j for j in jobs if [r["if"] for r in j["rules"]] == ['$CI_PIPELINE_SOURCE == "schedule"']]
    return [c for job in only_scheduled for c in commands_of(job)]


@pytest.fixture(scope="module", params=sorted(set(VARIANTS) - set(variants_where(ci="none"))))
def project_and_ci(request: pytest.FixtureRequest, generated: GenerateOnce) -> tuple[Path, str]:
    return generated(request.param, VARIANTS[request.param]), answers_for(VARIANTS[request.param])["ci"]


def test_ci_files_validate_against_the_published_schema(project_and_ci: tuple[Path, str]) -> None:
    project, ci = project_and_ci
    files = [str(f.relative_to(project)) for f in ci_files(project, ci)]

    result = run_tool(project, "check-jsonschema", "--builtin-schema", SCHEMAS[ci], *files)

    assert files and result.returncode == 0, result.stdout + result.stderr


def test_ci_installs_then_runs_every_check_with_make(project_and_ci: tuple[Path, str]) -> None:
    project, ci = project_and_ci
    commands = [c for f in ci_files(project, ci) for c in commands_of(yaml.safe_load(f.read_text()))]

    made = [m for c in commands for m in re.findall(r"^make (\w+)$", c)]
    assert set(made) <= make_targets(project)
    assert made[0] == "sync", "CI installs from uv.lock (make sync: uv lock --check, uv sync --locked)"
    assert set(made) >= CHECK_TARGETS


def test_ci_checks_template_updates_on_a_schedule(project_and_ci: tuple[Path, str]) -> None:
    project, ci = project_and_ci
    documents = [yaml.safe_load(f.read_text()) for f in ci_files(project, ci)]

    assert "cruft check" in scheduled_commands(ci, documents)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fresh_project_passes_its_pre_commit_hygiene_hooks(generated: GenerateOnce, name: str) -> None:
    project = generated(name, VARIANTS[name])
    files = [
        p
        for p in project.rglob("*")
        if p.is_file() and "cache" not in str(p.relative_to(project)) and p.suffix != ".db"  # a served registry's file
    ]
    by_suffix = {s: [str(p.relative_to(project)) for p in files if p.suffix == s] for s in (".yaml", ".yml", ".toml")}
    every_file = [str(p.relative_to(project)) for p in files]
    assert (project / ".pre-commit-config.yaml").is_file()

    checks = [
        ("pre-commit", "validate-config", ".pre-commit-config.yaml"),
        ("trailing-whitespace-fixer", *every_file),
        ("end-of-file-fixer", *every_file),
        ("check-yaml", "--allow-multiple-documents", *by_suffix[".yaml"], *by_suffix[".yml"]),
        ("check-toml", *by_suffix[".toml"]),
    ]
    for check in checks:
        result = run_tool(project, *check)
        assert result.returncode == 0, f"{check[0]}: {result.stdout}{result.stderr}"


def test_pre_commit_runs_ruff_and_ruff_format(generated: GenerateOnce) -> None:
    config = yaml.safe_load((generated("defaults", VARIANTS["defaults"]) / ".pre-commit-config.yaml").read_text())

    hooks = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}

    assert {"ruff-check", "ruff-format", "trailing-whitespace", "end-of-file-fixer"} <= hooks


def test_update_bot_configuration_validates_against_its_schema(project_and_ci: tuple[Path, str]) -> None:
    project, ci = project_and_ci
    configuration, schema = UPDATE_BOTS[ci]

    result = run_tool(project, "check-jsonschema", "--builtin-schema", schema, configuration)

    assert result.returncode == 0, result.stdout + result.stderr
    other_bots = {path for platform, (path, _) in UPDATE_BOTS.items() if platform != ci}
    assert not any((project / path).exists() for path in other_bots)


@pytest.mark.parametrize("name", variants_where(ci="github"))
def test_dependabot_updates_actions_python_and_the_base_image(name: str, generated: GenerateOnce) -> None:
    config = yaml.safe_load((generated(name, VARIANTS[name]) / ".github/dependabot.yml").read_text())

    assert {update["package-ecosystem"] for update in config["updates"]} == {"github-actions", "pip", "docker"}


@pytest.mark.parametrize("name", variants_where(ci="github"))
def test_every_action_is_pinned_to_a_commit_with_its_version_alongside(name: str, generated: GenerateOnce) -> None:
    workflows = sorted((generated(name, VARIANTS[name]) / ".github/workflows").glob("*.yml"))
    lines = [line.strip() for path in workflows for line in path.read_text(encoding="utf-8").splitlines()]

    uses = [line.split("uses:", 1)[1].strip() for line in lines if line.removeprefix("- ").startswith("uses:")]
    assert uses and [u for u in uses if not PINNED_ACTION.fullmatch(u)] == []
    by_action: dict[str, set[str]] = {}
    for pin in uses:
        by_action.setdefault(pin.split("@")[0], set()).add(pin)
    assert all(len(pins) == 1 for pins in by_action.values()), "one pin per action across the workflows"


@pytest.mark.parametrize("name", variants_where(ci="gitlab"))
def test_gitlab_images_are_exact_releases(name: str, generated: GenerateOnce) -> None:
    pipeline = yaml.safe_load((generated(name, VARIANTS[name]) / ".gitlab-ci.yml").read_text())
    jobs = [pipeline["default"], *(job for job in pipeline.values() if isinstance(job, dict))]

    images = {job["image"] for job in jobs if "image" in job}
    assert images and {image for image in images if not EXACT_IMAGE.fullmatch(image)} == set()
