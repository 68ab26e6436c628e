"""Hostile or careless answers either generate a service that holds exactly what was typed, or are refused.

No answer may add code, keys or YAML nodes to a generated file, leave a file
that does not parse, or write anything outside ``<output_dir>/<project_slug>``.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from packaging.requirements import Requirement

from .support.commands import run, run_in
from .support.template import TEMPLATE, GenerateOnce, generate, hook_module

FREE_TEXT = ("project_name", "description", "author_name")
JINJA_DELIMITERS = re.compile(r"{{|}}|{%|%}|{#|#}")
ANSWER_VARIABLES = re.compile(
    r"cookiecutter\.(project_name|description|author_name|author_email|dev_origins|staging_origins"
    r"|prod_origins|allow_methods|allow_headers|expose_headers|max_age)\b"
)
HOSTILE_NAME = 'Ops "Tools" \\ C:\\New — Café 😀 <b>*x*</b> # `y` [z](javascript:1)'
HOSTILE_DESCRIPTION = 'Runs """ then: import os; os.environ["CORS_ALLOW_ORIGINS"] = "*" \\'


def one_line(text: str) -> str:
    return " ".join(text.split())


def markdown_heading(readme: str) -> str:
    """The plain text a Markdown renderer shows for the README's first heading."""
    tokens = MarkdownIt("commonmark").parse(readme)
    heading = tokens[tokens.index(next(t for t in tokens if t.type == "heading_open")) + 1]
    assert heading.children is not None
    return "".join(child.content for child in heading.children if child.type in {"text", "code_inline"})


def assert_holds_exactly(project: Path, answers: Mapping[str, str]) -> None:
    """Every file parses, and each format holds the answers as typed (surrounding spaces removed)."""
    name, description = answers["project_name"].strip(), answers["description"].strip()
    for path in project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    for path in [*project.rglob("*.yaml"), *project.rglob("*.yml")]:
        list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert metadata["description"] == description
    assert metadata["authors"][0]["name"] == answers["author_name"].strip()

    package = next(project.glob("src/*/__init__.py"))
    module = ast.parse(package.read_text(encoding="utf-8"))
    assert len(module.body) == 1, "the package's __init__ holds its docstring and nothing else"
    assert one_line(ast.get_docstring(module, clean=False) or "") == one_line(description)
    app = ast.parse((package.parent / "app.py").read_text(encoding="utf-8"))
    titles = [n.value for n in app.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "TITLE"]
    assert [ast.literal_eval(title) for title in titles] == [name]
    assert one_line(markdown_heading((project / "README.md").read_text(encoding="utf-8"))) == one_line(name)


free_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30).filter(
    lambda text: not JINJA_DELIMITERS.search(text)
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.fixed_dictionaries({variable: free_text for variable in FREE_TEXT}))
def test_free_text_is_held_exactly_or_refused(answers: dict[str, str]) -> None:
    answers |= {"project_slug": "hostile-text", "package_name": "hostile_text"}
    with tempfile.TemporaryDirectory() as output:
        try:
            project = generate(Path(output), answers)
        except FailedHookException:
            assert list(Path(output).iterdir()) == [], "a refusal leaves nothing behind"
            return
        assert_holds_exactly(project, answers)


def test_a_refused_free_text_answer_names_its_variable(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FailedHookException):
        generate(tmp_path, {"author_name": "Ada\x00Lovelace"})

    assert "error: author_name: 'Ada\\x00Lovelace' holds the control character" in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_service_shows_a_hostile_name_as_typed(tmp_path: Path) -> None:
    answers = {
        "project_name": HOSTILE_NAME,
        "description": HOSTILE_DESCRIPTION,
        "author_name": 'O\'Brien "Ada" \\',
        "project_slug": "ops-tools",
    }
    project = generate(tmp_path, answers)
    assert_holds_exactly(project, answers)

    served = run(
        project,
        [
            sys.executable,
            "-c",
            "import json, sys; from fastapi.testclient import TestClient; from ops_tools.app import create_app;"
            " sys.stdout.write(json.dumps(TestClient(create_app()).get('/openapi.json').json()['info']))",
        ],
        env={"PYTHONPATH": "src", "CORS_ALLOW_ORIGINS": "http://localhost:3000"},
    )

    assert served.returncode == 0, served.stderr
    info = json.loads(served.stdout)
    assert info["title"] == HOSTILE_NAME
    assert one_line(info["description"]) == one_line(HOSTILE_DESCRIPTION)


def tree(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_refused_answer_changes_nothing_in_an_existing_project(tmp_path: Path) -> None:
    answers = {"deploy": "none", "ci": "none"}
    project = generate(tmp_path, answers)
    (project / "README.md").write_text("The team's own README.\n", encoding="utf-8")
    (project / "NOTES.md").write_text("Kept.\n", encoding="utf-8")
    before = tree(project)

    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=answers | {"prod_origins": "http://app.example.com"},
            output_dir=str(tmp_path),
            overwrite_if_exists=True,
        )

    assert tree(project) == before
    assert not (project / "deploy").exists(), "files an option removed are not brought back"


def test_nothing_is_written_outside_the_output_directory(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    for answers in ({"package_name": "../escaped"}, {"project_slug": "../escaped"}, {"package_name": "../../x"}):
        with pytest.raises(FailedHookException):
            generate(output, answers)

    assert [p for p in tmp_path.rglob("*") if p != output] == []


def test_json_array_answers_land_normalised_in_every_file(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    project = generate(
        tmp_path,
        {
            "dev_origins": '["HTTP://LocalHost:3000/", "http://127.0.0.1:03000"]',
            "allow_methods": '["get", "post"]',
            "max_age": "0600",
            "deploy": "kubernetes",
        },
    )

    notes = capfd.readouterr().out
    assert "max_age: read as 600" in notes
    assert "removed the leading zeros of the port" in notes
    settings_py = next(project.glob("src/*/settings.py")).read_text(encoding="utf-8")
    assert re.search(r'DEVELOPMENT: \(\s+"http://localhost:3000",\s+"http://127.0.0.1:3000",\s+\)', settings_py)
    assert "cors_max_age: int = 600" in settings_py
    assert "# CORS_ALLOW_ORIGINS=http://localhost:3000,http://127.0.0.1:3000" in (project / ".env.example").read_text()
    overlay = (project / "deploy/kubernetes/overlays/development/settings.env").read_text()
    assert "CORS_ALLOW_ORIGINS=http://localhost:3000,http://127.0.0.1:3000" in overlay
    assert "CORS_ALLOW_METHODS=GET,POST" in (project / "deploy/kubernetes/base/settings.env").read_text()
    raw_answer = re.compile(r"HTTP://LocalHost:3000/|127.0.0.1:03000|= 0600")
    raw = [p for p in project.rglob("*") if p.is_file() and raw_answer.search(p.read_text())]
    assert raw == []
    tested = run_in(project, "pytest", "-q", "-p", "no:cacheprovider", env={"PYTHONPATH": "src"})
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_max_age_beyond_chromiums_cap_is_noted(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    generate(tmp_path, {"max_age": "86400"})

    assert "max_age: 86400 s is more than Chromium keeps a preflight answer (7200 s)" in capfd.readouterr().out


WILDCARDS = [
    "https://*.co.uk",
    "https://*.github.io",
    "https://*.tenant.github.io",
    "https://*.example.com",
    "https://*.2.3.4",
    "https://*.s3.amazonaws.com",
]


def test_generator_and_service_agree_on_wildcards(generated: GenerateOnce) -> None:
    generation_refuses = {}
    for entry in WILDCARDS:
        with tempfile.TemporaryDirectory() as output:
            try:
                generate(Path(output), {"prod_origins": entry})
                generation_refuses[entry] = False
            except FailedHookException:
                generation_refuses[entry] = True
    project = generated("defaults", {})

    service_refuses = {}
    for entry in WILDCARDS:
        started = run(
            project,
            [sys.executable, "-c", "import my_service.main"],
            env={"PYTHONPATH": "src", "APP_ENV": "production", "CORS_ALLOW_ORIGINS": entry},
        )
        service_refuses[entry] = started.returncode != 0
        if started.returncode:
            assert "Traceback" not in started.stderr and len(started.stderr.strip().splitlines()) == 1

    assert generation_refuses == service_refuses
    assert service_refuses["https://*.github.io"] and not service_refuses["https://*.tenant.github.io"]


def installed_import_names(requirement: str, seen: set[str]) -> Iterator[str]:
    """Top-level import names of an installed distribution and of what it needs (extras followed)."""
    wanted = Requirement(requirement)
    if wanted.name.lower() in seen:
        return
    seen.add(wanted.name.lower())
    try:
        found = distribution(wanted.name)
    except PackageNotFoundError:
        return
    top_level = found.read_text("top_level.txt")
    if top_level:
        yield from top_level.split()
    else:
        yield from {str(f).split("/")[0].removesuffix(".py") for f in found.files or () if str(f).endswith(".py")}
    for needed in found.requires or ():
        marker = Requirement(needed).marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in wanted.extras):
            yield from installed_import_names(needed, seen)


def test_shadowing_names_cover_every_dependency(generated: GenerateOnce) -> None:
    project = generated("origin-registry", {"origin_registry": "database", "deploy": "none", "ci": "none"})
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [
        *metadata["dependencies"],
        *(r for extra in metadata["optional-dependencies"].values() for r in extra),
    ]
    seen: set[str] = set()

    names = {n for r in requirements for n in installed_import_names(r, seen) if n.isidentifier() and n[0] != "_"}

    assert len(seen) > 20, "the generated project's dependencies are installed in this environment"
    assert names - hook_module("pre_gen_project").DEPENDENCY_IMPORT_NAMES == set()


def test_every_file_holding_an_answer_is_rendered_by_the_hook() -> None:
    copied = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))["_copy_without_render"]
    rendered_by_hook = hook_module("post_gen_project").HOOK_RENDERED
    project = next(TEMPLATE.glob("{{*}}"))

    holding_answers = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and ANSWER_VARIABLES.search(path.read_text(encoding="utf-8"))
    ]

    assert sorted(copied) == sorted(rendered_by_hook)
    unescaped = [p for p in holding_answers if not any(fnmatch.fnmatch(p, g) for g in rendered_by_hook)]
    assert holding_answers and unescaped == []


def test_the_hooks_work_where_cookiecutter_is_the_only_package(tmp_path: Path) -> None:
    """A bare `pip install cookiecutter` has neither publicsuffixlist nor email-validator: defaults still work."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'publicsuffixlist', 'email_validator'}:\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    environment = {"PYTHONPATH": str(blocker), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def cookiecutter_alone(output: str, *answers: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path / output), str(TEMPLATE)]
        return subprocess.run([*command, *answers], env=environment, capture_output=True, text=True, check=False)

    defaults = cookiecutter_alone("defaults")
    wildcard = cookiecutter_alone("wildcard", "prod_origins=https://*.example.com")

    assert defaults.returncode == 0, defaults.stderr
    assert wildcard.returncode != 0
    assert "pip install publicsuffixlist" in wildcard.stderr
