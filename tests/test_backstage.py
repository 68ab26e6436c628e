"""The Backstage scaffolder template (template.yaml) and the generated catalog-info.yaml.

Both validate against Backstage's own JSON schemas, exported from its npm
packages by ``make backstage-schemas`` (tools/backstage). The form's
``${{ ... }}`` expressions are rendered by Nunjucks, Backstage's template
engine, as the scaffolder renders them (tools/backstage/render.cjs). The
template is generated the way its ``fetch:cookiecutter`` step does it: the
fetched directory placed in ``{{cookiecutter and 'contents'}}``, the form's
values merged into its cookiecutter.json beside it, then ``cookiecutter
--no-input -o OUTPUT TEMPLATE``, here the ``cookiecutter`` of
tools/backstage, which runs the fetched template with its hooks. The result
must be the project the command line generates from the same answers.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from .support.commands import run
from .support.template import TEMPLATE, generate

BACKSTAGE_TOOLS = TEMPLATE / "tools" / "backstage"
FREE_TEXT = ["project_name", "description", "author_name", "author_email", "owner", "system"]
FREE_TEXT += ["dev_origins", "staging_origins", "prod_origins", "allow_methods", "allow_headers", "expose_headers"]
FREE_TEXT += ["project_slug", "package_name", "max_age", "partner_origins", "public_paths"]
TEMPLATE_SYNTAX = ["{{ 7 * 7 }}", "{% if true %}x{% endif %}", "x }}"]

# A sample of the answers the generator's hook refuses (tests/test_refusals.py
# checks the hook's messages for each); the form must refuse them before.
HOOK_REFUSALS = [
    ("partner_origins", "http://dashboard.partner.io"),
    ("public_paths", "public"),
    ("public_paths", "/public?x"),
    ("prod_origins", "https://app.example.com/app"),
    ("prod_origins", "https://app.example.com?x=1"),
    ("prod_origins", "app.example.com"),
    ("dev_origins", "ftp://files.example.com"),
    ("prod_origins", "https://user:secret@app.example.com"),
    ("staging_origins", "*"),
    ("prod_origins", "*"),
    ("dev_origins", "*"),  # with credentials, the default
    ("prod_origins", "http://app.example.com"),
    ("prod_origins", ""),
    ("prod_origins", "https://*.com"),
    ("prod_origins", "https://*"),
    ("prod_origins", "https://*example.com"),
    ("prod_origins", "https://a.*.example.com"),
    ("prod_origins", "https://bücher.example"),
    ("prod_origins", "https://app.example.com:99999"),
    ("max_age", "ten"),
    ("max_age", "-1"),
    ("allow_methods", "P@ST"),
    ("allow_headers", "X Trace"),
    ("expose_headers", "X-Total:Count"),
    ("project_slug", "My Service"),
    ("package_name", "my-service"),
    ("package_name", "class"),
    ("dev_origins", '["http://localhost:3000"'),
    ("owner", "platform team"),
    ("system", "default/team/x"),
]

# Answer sets rendered both ways; together they take and leave out every optional path.
RENDERED = {
    "defaults": {},
    "others": {"deploy": "none", "ci": "gitlab", "origin_registry": "database", "system": "payments"},
}


@pytest.fixture(scope="session")
def schemas() -> Registry[Any]:
    """Backstage's schemas by their ``$id`` (``Entity``, ``ComponentV1alpha1``, ``TemplateV1beta3``, ...)."""
    files = sorted((BACKSTAGE_TOOLS / "schemas").glob("*.schema.json"))
    if not files:
        pytest.fail("Backstage's schemas are not exported: `make test` exports them (make backstage-schemas)")
    resources = [Resource.from_contents(json.loads(f.read_text(encoding="utf-8"))) for f in files]
    return Registry().with_resources((resource.id(), resource) for resource in resources)  # type: ignore[misc]


def schema_errors(document: Any, schema_id: str, registry: Registry[Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(registry.contents(schema_id), registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@functools.cache
def scaffolder_template() -> dict[str, Any]:
    """template.yaml, read once: treat it as read-only."""
    document: dict[str, Any] = yaml.safe_load((TEMPLATE / "template.yaml").read_text(encoding="utf-8"))
    return document


def render(value: Any, parameters: dict[str, Any]) -> Any:
    """Render ``${{ ... }}`` expressions in ``value`` with Backstage's engine (Nunjucks, under Node.js)."""
    request = json.dumps({"value": value, "context": {"parameters": parameters}})
    result = subprocess.run(
        ["node", str(BACKSTAGE_TOOLS / "render.cjs")], input=request, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pages() -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = scaffolder_template()["spec"]["parameters"]
    return parameters


def form_defaults() -> dict[str, Any]:
    return {
        name: field["default"] for page in pages() for name, field in page["properties"].items() if "default" in field
    }


@functools.cache
def page_validators() -> list[jsonschema.Draft7Validator]:
    return [jsonschema.Draft7Validator(page) for page in pages()]


def form_errors(answers: dict[str, Any]) -> list[str]:
    """What the form's JSON schemas refuse in ``answers`` (the other fields at their defaults)."""
    data = form_defaults() | {"repoUrl": "github.com?owner=acme&repo=service"} | answers
    errors = []
    for page, validator in zip(pages(), page_validators(), strict=True):
        own = {name: data[name] for name in page["properties"] if name in data}
        errors += [error.message for error in validator.iter_errors(own)]
    return errors


def cookiecutter_questions() -> dict[str, Any]:
    questions = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    return {name: value for name, value in questions.items() if not name.startswith("_")}


def as_the_action_reads(value: Any) -> Any:
    """fetch:cookiecutter reads a string that is a JSON array, object or string as that JSON."""
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def not_fetched(directory: str, names: list[str]) -> set[str]:
    """The local environments (``.venv``, ``.venv-scanners``) and caches a fetch of the repository does not bring."""
    local = {".git", "node_modules", "build", ".hypothesis"}
    return {n for n in names if n in local or n.startswith(".venv") or n.endswith("cache")}


def fetch_cookiecutter(parameters: dict[str, Any], workspace: Path) -> subprocess.CompletedProcess[str]:
    """Run the template's fetch step as Backstage's fetch:cookiecutter does; the project lands in workspace/result."""
    steps = render(scaffolder_template()["spec"]["steps"], parameters)  # later steps' outputs render empty
    [fetch] = [step for step in steps if step["action"] == "fetch:cookiecutter"]
    template_dir = workspace / "template"
    contents = template_dir / "{{cookiecutter and 'contents'}}"
    shutil.copytree(TEMPLATE / fetch["input"]["url"], contents, ignore=not_fetched)
    defaults = contents / "cookiecutter.json"
    context = json.loads(defaults.read_text()) if defaults.is_file() else {}
    context |= {name: as_the_action_reads(v) for name, v in fetch["input"]["values"].items() if v is not None}
    (template_dir / "cookiecutter.json").write_text(json.dumps(context), encoding="utf-8")
    intermediate = workspace / "intermediate"
    intermediate.mkdir()
    command = [sys.executable, str(BACKSTAGE_TOOLS / "cookiecutter"), "--no-input", "-o", str(intermediate)]
    ran = run(workspace, [*command, str(template_dir), "--verbose"], env=dict(os.environ))
    generated = list(intermediate.iterdir())
    if ran.returncode == 0:
        assert len(generated) == 1, "cookiecutter leaves exactly one directory, which the action moves"
        generated[0].rename(workspace / "result")
    return ran


def files_of(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", params=sorted(RENDERED))
def rendered_both_ways(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    answers = form_defaults() | RENDERED[request.param]
    parameters = answers | {"repoUrl": "github.com?owner=acme&repo=service"}
    workspace = tmp_path_factory.mktemp(f"backstage-{request.param}")
    ran = fetch_cookiecutter(parameters, workspace)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    yield workspace / "result", generate(workspace / "cli", {k: v for k, v in answers.items() if v is not None})


def test_template_yaml_is_a_valid_backstage_template(schemas: Registry[Any]) -> None:
    template = scaffolder_template()

    assert schema_errors(template, "TemplateV1beta3", schemas) == []
    assert [step["action"] for step in template["spec"]["steps"]][-2:] == ["publish:github", "catalog:register"]


def test_the_schema_check_can_fail(schemas: Registry[Any]) -> None:
    broken = copy.deepcopy(scaffolder_template())
    del broken["spec"]["steps"]

    assert schema_errors(broken, "TemplateV1beta3", schemas) != []


def test_catalog_info_validates_against_backstages_entity_schemas(
    rendered_both_ways: tuple[Path, Path], schemas: Registry[Any]
) -> None:
    project, _ = rendered_both_ways
    documents = list(yaml.safe_load_all((project / "catalog-info.yaml").read_text(encoding="utf-8")))
    [component] = [d for d in documents if d["kind"] == "Component"]
    [api] = [d for d in documents if d["kind"] == "API"]
    # The catalogue reads {$text: <file>} placeholders before it validates an entity.
    api["spec"]["definition"] = (project / api["spec"]["definition"]["$text"]).read_text(encoding="utf-8")

    for entity, kind_schema in ((component, "ComponentV1alpha1"), (api, "ApiV1alpha1")):
        assert schema_errors(entity, "EntityEnvelope", schemas) == []
        assert schema_errors(entity, kind_schema, schemas) == []
    assert component["spec"]["type"] == "service"
    assert component["spec"]["providesApis"] == [api["metadata"]["name"]]
    assert json.loads(api["spec"]["definition"])["paths"]["/health"]
    answers = form_defaults() | RENDERED["others" if "system" in component["spec"] else "defaults"]
    assert (component["spec"]["owner"], component["spec"].get("system", "")) == (answers["owner"], answers["system"])


def test_fetch_cookiecutter_generates_what_the_command_line_generates(rendered_both_ways: tuple[Path, Path]) -> None:
    backstage, command_line = rendered_both_ways

    backstage_files, command_line_files = files_of(backstage), files_of(command_line)

    assert sorted(backstage_files) == sorted(command_line_files)
    assert [name for name in backstage_files if backstage_files[name] != command_line_files[name]] == []


def test_the_form_mirrors_cookiecutter_json() -> None:
    questions, prompts = (
        cookiecutter_questions(),
        json.loads((TEMPLATE / "cookiecutter.json").read_text())["__prompts__"],
    )
    fields = {name: field for page in pages() for name, field in page["properties"].items() if name != "repoUrl"}

    assert list(fields) == list(questions)
    for name, default in questions.items():
        field, prompt = fields[name], prompts[name]
        if isinstance(default, list):
            assert (field["enum"], field["default"], field["title"]) == (default, default[0], prompt["__prompt__"])
            assert field["enumNames"] == [prompt[option] for option in default]
        elif "{{" in str(default):  # computed from another answer: left out, cookiecutter computes it
            assert ("default" not in field, field["title"]) == (True, prompt), name
        else:
            assert (field["default"], field["title"]) == (default, prompt), name
    values = scaffolder_template()["spec"]["steps"][0]["input"]["values"]
    assert list(values) == list(questions), "every answer is passed to cookiecutter"


def test_every_default_passes_the_form() -> None:
    assert form_errors({}) == []


@pytest.mark.parametrize("field", FREE_TEXT)
@pytest.mark.parametrize("syntax", TEMPLATE_SYNTAX)
def test_the_form_refuses_template_syntax_in_every_free_text_field(field: str, syntax: str) -> None:
    value = f"{form_defaults().get(field, 'my-service')}{syntax}"

    assert form_errors({field: value}) != [], f"{field} accepts {value!r}, which cookiecutter would run as Jinja"


@pytest.mark.parametrize(("field", "value"), HOOK_REFUSALS)
def test_the_form_refuses_what_the_hook_refuses(field: str, value: str) -> None:
    assert form_errors({field: value}) != []


def test_every_free_text_field_has_a_pattern() -> None:
    text_fields = {
        name: field
        for page in pages()
        for name, field in page["properties"].items()
        if field.get("type") == "string" and "enum" not in field and name != "repoUrl"
    }

    assert set(text_fields) == set(FREE_TEXT)
    assert [name for name, field in text_fields.items() if "pattern" not in field] == []


def test_a_refused_answer_stops_the_step_with_the_hooks_message(tmp_path: Path) -> None:
    parameters = form_defaults() | {"repoUrl": "github.com?owner=acme&repo=service", "prod_origins": "https://*.co.uk"}

    ran = fetch_cookiecutter(parameters, tmp_path)

    assert ran.returncode != 0
    assert "error: prod_origins: 'https://*.co.uk'" in ran.stderr, ran.stderr
    assert list((tmp_path / "intermediate").iterdir()) == [], "nothing for the action to publish"
