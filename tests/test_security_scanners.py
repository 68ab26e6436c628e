"""The generated files pass the scanners a platform team runs, as the generated README says to run them.

checkov reads the Dockerfile, the rendered Kubernetes overlays and the CI files; zizmor audits the
GitHub workflows and Dependabot's configuration (offline). Both come from requirements-scanners.txt,
installed by `make test` into .venv-scanners, apart from requirements.txt whose pins checkov's clash
with. A copy with known gaps put back shows that each scanner does flag them, so a clean result
means something. (hadolint's run on every Dockerfile is in test_container.py.)
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest

from .support.commands import TOOLS, run
from .support.template import TEMPLATE, GenerateOnce
from .support.variants import VARIANTS, variants_where

SCANNERS = TEMPLATE / ".venv-scanners" / "bin"
ENVIRONMENTS = ("development", "staging", "production")
# What each checkov framework reads, as a path of the generated project.
FRAMEWORK_INPUTS = {
    "dockerfile": "Dockerfile",
    "kustomize": "deploy/kubernetes",
    "github_actions": ".github/workflows",
    "gitlab_ci": ".gitlab-ci.yml",
}


def scanner(name: str) -> str:
    """A scanner's executable: checkov and zizmor from .venv-scanners, hadolint from this environment."""
    for directory in (SCANNERS, TOOLS):
        if (directory / name).is_file():
            return str(directory / name)
    raise AssertionError(f"{name} is not installed in {SCANNERS}; `make test` installs requirements-scanners.txt")


def documented_scans(project: Path) -> dict[str, list[str]]:
    """The README's Security review commands (``uvx [--from PACKAGE] TOOL ARGS...``), as {tool: args}."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Security review\n(.*?)^## ", readme, flags=re.DOTALL | re.MULTILINE)
    assert match, "the README has a Security review section"
    scans = {}
    for command in re.findall(r"`(uvx [^`]+)`", match[1]):
        words = shlex.split(command)[1:]
        if words[0] == "--from":
            words = words[2:]
        scans[words[0]] = words[1:]
    return scans


def run_scanner(project: Path, name: str, arguments: list[str]) -> tuple[int, str]:
    environment = {
        # checkov renders the overlays with this environment's kubectl.
        "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}",
        # One process: pytest-xdist already uses both cores, and checkov's forked
        # workers can block on a full pipe once their parent is gone.
        "CHECKOV_PARALLELIZATION_TYPE": "none",
    }
    result = run(project, [scanner(name), *arguments], timeout=300, env=environment)
    assert result.stdout.strip(), result.stderr
    return result.returncode, result.stdout


def checkov(project: Path, arguments: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """checkov's reports, one per framework, without downloading anything."""
    returncode, output = run_scanner(project, "checkov", [*arguments, "--skip-download", "--compact", "-o", "json"])
    reports = json.loads(output)
    return returncode, reports if isinstance(reports, list) else [reports]


def zizmor(project: Path, arguments: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """zizmor's findings of every severity and confidence (the pedantic persona)."""
    assert "--offline" in arguments, "zizmor runs offline"
    returncode, output = run_scanner(project, "zizmor", [*arguments, "--persona=pedantic", "--format=json"])
    return returncode, json.loads(output)


def failures(reports: list[dict[str, Any]]) -> list[str]:
    return [
        f"{report['check_type']}: {check['check_id']} {check['check_name']} ({check['file_path']}, {check['resource']})"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]


def shipped_frameworks(project: Path) -> set[str]:
    return {framework for framework, path in FRAMEWORK_INPUTS.items() if (project / path).exists()}


def documented_frameworks(project: Path) -> list[str]:
    arguments = documented_scans(project)["checkov"]
    return arguments[arguments.index("--framework") + 1 :]


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def project(request: pytest.FixtureRequest, generated: GenerateOnce) -> Path:
    return generated(request.param, VARIANTS[request.param])


def test_readme_runs_a_scanner_on_every_kind_of_shipped_file(project: Path) -> None:
    scans = documented_scans(project)

    assert set(scans) == {"hadolint", "checkov"} | ({"zizmor"} if (project / ".github").is_dir() else set())
    assert scans["hadolint"] == ["Dockerfile"]
    assert scans["checkov"][:2] == ["--directory", "."]
    assert set(documented_frameworks(project)) == shipped_frameworks(project)


def clean_checkov_scan(root: Path, frameworks: list[str]) -> list[tuple[str, str, str]]:
    """Run checkov in ``root``, assert that it fails no check and that every suppression gives a reason;
    return (first part of the file's path, framework, resource) for every check it made."""
    returncode, reports = checkov(root, ["--directory", ".", "--framework", *frameworks])

    assert failures(reports) == []
    assert returncode == 0
    assert all(report["summary"]["parsing_errors"] == 0 for report in reports)
    checks = []
    for report in reports:
        for skipped in report["results"]["skipped_checks"]:
            reason = skipped["check_result"].get("suppress_comment", "")
            assert len(reason.split()) >= 5, f"{skipped['check_id']} is suppressed without a reason"
        for check in report["results"]["passed_checks"] + report["results"]["skipped_checks"]:
            # Graph checks give an absolute path, the others one from the scanned directory.
            path = Path(check["file_path"])
            top = (path.relative_to(root) if path.is_relative_to(root) else path.relative_to("/")).parts[0]
            checks.append((top, report["check_type"], check["resource"].rsplit(":", 1)[0]))
    return checks


def assert_every_file_was_scanned(project: Path, checks: list[tuple[str, str, str]]) -> None:
    assert {framework for _, framework, _ in checks} == set(documented_frameworks(project))
    if (project / "deploy").is_dir():
        rendered = {resource for _, framework, resource in checks if framework == "kustomize"}
        assert rendered == {"base"} | {f"overlay:overlays/{environment}" for environment in ENVIRONMENTS}


@pytest.mark.parametrize("name", variants_where(deploy="kubernetes"))
def test_checkov_fails_no_check(name: str, generated: GenerateOnce) -> None:
    project = generated(name, VARIANTS[name])

    checks = clean_checkov_scan(project, documented_frameworks(project))

    assert_every_file_was_scanned(project, checks)


def test_checkov_fails_no_check_in_the_variants_without_manifests(generated: GenerateOnce, tmp_path: Path) -> None:
    """One checkov run (it takes seconds to start) reads their files, each variant's in its own directory.
    (Kustomize's resources are named alike in every variant: checkov would mix them up in one run.)"""
    projects = {name: generated(name, VARIANTS[name]) for name in variants_where(deploy="none")}
    for name, project in projects.items():
        for framework in shipped_frameworks(project):
            source, copy = project / FRAMEWORK_INPUTS[framework], tmp_path / name / FRAMEWORK_INPUTS[framework]
            copy.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copy)(source, copy)
    frameworks = sorted({f for project in projects.values() for f in documented_frameworks(project)})

    checks = clean_checkov_scan(tmp_path, frameworks)

    for name, project in projects.items():
        assert_every_file_was_scanned(project, [check for check in checks if check[0] == name])


@pytest.mark.parametrize("name", variants_where(ci="github"))
def test_zizmor_finds_nothing_in_the_workflows_or_dependabot(name: str, generated: GenerateOnce) -> None:
    project = generated(name, VARIANTS[name])

    returncode, findings = zizmor(project, documented_scans(project)["zizmor"])

    assert [f"{f['ident']}: {f['locations'][0]['concrete']['feature']}" for f in findings] == []
    assert returncode == 0


def test_scanners_flag_the_gaps_they_guard_against(generated: GenerateOnce, tmp_path: Path) -> None:
    """A copy with a tag-pinned action that keeps its token, a pod that mounts the
    service-account token, and no reason given for the image digest: each is found."""
    project = tmp_path / "project"
    shutil.copytree(generated("defaults", VARIANTS["defaults"]), project)
    workflow = project / ".github/workflows/ci.yml"
    text = workflow.read_text(encoding="utf-8")
    text = re.sub(r"actions/checkout@[0-9a-f]{40} # (v\d+)\S*", r"actions/checkout@\1", text)
    workflow.write_text(re.sub(r"\n *with:\n *persist-credentials: false.*", "", text), encoding="utf-8")
    deployment = project / "deploy/kubernetes/base/deployment.yaml"
    text = deployment.read_text(encoding="utf-8").replace("automountServiceAccountToken: false", "")
    deployment.write_text(text.replace("checkov.io/skip1:", "example.com/reviewed:"), encoding="utf-8")

    zizmor_status, findings = zizmor(project, documented_scans(project)["zizmor"])
    checkov_status, reports = checkov(project, documented_scans(project)["checkov"])

    assert zizmor_status != 0
    assert {f["ident"] for f in findings} == {"unpinned-uses", "artipacked"}
    assert checkov_status != 0
    failed = {check["check_id"] for report in reports for check in report["results"]["failed_checks"]}
    assert failed == {"CKV_K8S_38", "CKV_K8S_43"}
