"""Services generated with cruft take the template's later changes and keep their own edits.

A throwaway git copy of this template stands in for the template's repository:
a service is created from its first commit, the team edits the service, the
template changes in a second commit, and `cruft update` brings that change in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .support.commands import run_tool
from .support.template import TEMPLATE, generate
from .support.variants import answers_for

ANSWERS = {"project_name": "Orders API", "ci": "gitlab"}
TEAM_LINE = "Orders API is owned by the checkout team; page #checkout-oncall."
TEMPLATE_SECTION = "\n## Support\n\nAsk in the platform team's channel.\n"


def git(repository: Path, *arguments: str) -> str:
    result = subprocess.run(["git", *arguments], cwd=repository, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def commit_all(repository: Path, message: str) -> str:
    git(repository, "add", "-A")
    git(repository, "commit", "--quiet", "-m", message)
    return git(repository, "rev-parse", "HEAD")


@pytest.fixture
def template_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding this template's files (tracked and new, as in the working tree)."""
    for variable, value in {
        "GIT_AUTHOR_NAME": "Template Test",
        "GIT_AUTHOR_EMAIL": "template-test@example.com",
        "GIT_COMMITTER_NAME": "Template Test",
        "GIT_COMMITTER_EMAIL": "template-test@example.com",
    }.items():
        monkeypatch.setenv(variable, value)
    repository = tmp_path / "template"
    files = git(TEMPLATE, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        if (TEMPLATE / name).is_file():
            (repository / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, repository / name)
    git(repository, "init", "--quiet", "--initial-branch=main")
    commit_all(repository, "template v1")
    return repository


def cruft(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run_tool(project, "cruft", *arguments, timeout=120)


def test_cruft_create_renders_what_cookiecutter_renders(template_repository: Path, tmp_path: Path) -> None:
    created = cruft(tmp_path, "create", str(template_repository), "--no-input", "--extra-context", json.dumps(ANSWERS))
    assert created.returncode == 0, created.stdout + created.stderr
    with_cruft, with_cookiecutter = tmp_path / "orders-api", generate(tmp_path / "plain", ANSWERS)

    files = sorted(p.relative_to(with_cookiecutter) for p in with_cookiecutter.rglob("*") if p.is_file())
    assert sorted(p.relative_to(with_cruft) for p in with_cruft.rglob("*") if p.is_file()) == sorted(
        [*files, Path(".cruft.json")]
    )
    assert all((with_cruft / f).read_bytes() == (with_cookiecutter / f).read_bytes() for f in files)


def test_cruft_update_brings_template_changes_and_keeps_team_edits(template_repository: Path, tmp_path: Path) -> None:
    created = cruft(tmp_path, "create", str(template_repository), "--no-input", "--extra-context", json.dumps(ANSWERS))
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / "orders-api"
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "generated")
    assert cruft(project, "check").returncode == 0

    # The team edits the service's README and its routes.
    readme = project / "README.md"
    description = answers_for(ANSWERS)["description"]
    assert description in readme.read_text()
    readme.write_text(readme.read_text().replace(description, TEAM_LINE, 1))
    routes = next((project / "src").glob("*/routes.py"))
    team_routes = routes.read_text() + '\n\n@router.get("/orders")\nasync def orders() -> list[str]:\n    return []\n'
    routes.write_text(team_routes)
    commit_all(project, "team edits")

    # The template changes: a faster health check, and a new README section.
    source = template_repository / "{{cookiecutter.project_slug}}"
    dockerfile = source / "Dockerfile"
    assert "--interval=30s" in dockerfile.read_text()
    dockerfile.write_text(dockerfile.read_text().replace("--interval=30s", "--interval=15s"))
    (source / "README.md").write_text((source / "README.md").read_text() + TEMPLATE_SECTION)
    new_commit = commit_all(template_repository, "template v2")

    assert cruft(project, "check").returncode != 0, "cruft check reports that the template moved on"
    updated = cruft(project, "update", "-y")
    assert updated.returncode == 0, updated.stdout + updated.stderr

    assert "--interval=15s" in (project / "Dockerfile").read_text()
    assert readme.read_text().endswith(TEMPLATE_SECTION)
    assert TEAM_LINE in readme.read_text()
    assert routes.read_text() == team_routes
    assert json.loads((project / ".cruft.json").read_text())["commit"] == new_commit
    assert list(project.rglob("*.rej")) == []
    changed = git(project, "diff", "--name-only", "HEAD").splitlines()
    assert changed == [".cruft.json", "Dockerfile", "README.md"], "rendering is deterministic: nothing else changes"
    assert git(project, "ls-files", "--others") == ""
    assert cruft(project, "check").returncode == 0
