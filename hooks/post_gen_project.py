"""Render the answer-bearing files from the checked answers, then trim optional files.

Cookiecutter runs this hook inside the freshly laid-out project. The answers'
rules come from the project's ``cors_policy`` module and the grammar modules
it imports, the files the service itself runs, so the generator and the
service can never disagree (:func:`load_policy`, the one loader both hooks use). Files that
hold a free-text or CORS answer (``HOOK_RENDERED``) are copied unrendered by
cookiecutter (``_copy_without_render``) and rendered here instead, from the
*normalised* answers and with filters that escape each value for the format it
lands in. On a refused answer the hook exits non-zero and cookiecutter removes
a project directory it created.

``pre_gen_project`` imports this module to run the same checks before any
file is written; run as a script it does the rendering, and shortens overlong
Kubernetes namespaces. The hook is deterministic, offline and idempotent
(cruft runs it again on every update).
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import re
import shlex
import shutil
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2  # cookiecutter's own dependency: hooks run in cookiecutter's interpreter

# Which answer holds the frontend origins of which environment.
ORIGIN_ANSWERS = {"dev_origins": "development", "staging_origins": "staging", "prod_origins": "production"}
TOKEN_ANSWERS = {"allow_methods": "method", "allow_headers": "header", "expose_headers": "header"}
TEXT_ANSWERS = ("project_name", "description", "author_name", "author_email")

# Files that hold a free-text or CORS answer: rendered by this hook, never by
# cookiecutter (cookiecutter.json's _copy_without_render lists the same globs).
HOOK_RENDERED = (
    "pyproject.toml",
    "README.md",
    ".env.example",
    "src/*/__init__.py",
    "src/*/app.py",
    "src/*/cli.py",
    "src/*/settings.py",
    "tests/answers.py",
    "deploy/kubernetes/README.md",
    "deploy/kubernetes/*/settings.env",
    "deploy/kubernetes/overlays/*/settings.env",
    "catalog-info.yaml",
    "openapi.json",
)

# Which generated paths belong to which answer: a path is kept only when the
# answer has the listed value. Paths are relative to the project directory.
OPTIONAL_PATHS: dict[tuple[str, str], list[str]] = {
    ("deploy", "kubernetes"): ["deploy"],
    ("ci", "github"): [".github"],
    ("ci", "gitlab"): [".gitlab-ci.yml", ".gitlab", "renovate.json"],
    ("origin_registry", "database"): [
        "src/{package_name}/origin_registry.py",
        "src/{package_name}/origin_store.py",
        "src/{package_name}/admin.py",
        "src/{package_name}/registry_cli.py",
        "src/{package_name}/schema.py",
        "src/{package_name}/migrations",
        "src/{package_name}/origin_notifications.py",
        "tests/test_registry.py",
        "tests/test_registry_cli.py",
    ],
}

# Each kustomization's namespace (the slug and the environment) must be a DNS
# label, at most 63 characters: a longer one keeps its start and ends with a
# hash of the whole name, so two long names never shorten to the same label.
KUSTOMIZATIONS = "deploy/**/kustomization.yaml"
NAMESPACE_LINE = re.compile(r"^namespace: (\S+)$", re.MULTILINE)
DNS_LABEL_LENGTH = 63


class AnswerError(ValueError):
    """An answer is refused; the message names the variable, the value and the fix."""


POLICY_PACKAGE = "service_policy"
"""The name a project's policy modules are imported under: the package's own name is not known (or is Jinja)."""


def load_policy(project: Path) -> ModuleType:
    """The policy modules of a project tree (rendered or the template's own), as one package.

    ``cors_policy`` is imported afresh with the sibling modules it imports
    (``origin_grammar``, ``path_prefixes``, ...), each an attribute of the
    package returned. The package's ``__init__`` is not run (the template's
    holds Jinja), and no bytecode is written beside the files.
    """
    sys.dont_write_bytecode = True  # no __pycache__ left in the template or the generated project
    directory = next(project.glob("src/*/cors_policy.py")).parent
    for name in [name for name in sys.modules if name.partition(".")[0] == POLICY_PACKAGE]:
        del sys.modules[name]
    spec = importlib.machinery.ModuleSpec(POLICY_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(directory)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[POLICY_PACKAGE] = package
    importlib.import_module(f"{POLICY_PACKAGE}.cors_policy")
    return package


def normalised_answers(answers: Mapping[str, Any], service: ModuleType) -> tuple[dict[str, Any], list[str]]:
    """The answers as the service reads them, and a note for each value that was changed.

    ``service`` is the package :func:`load_policy` returns. Origin and token
    answers become lists in canonical form, ``max_age`` an integer. Raises
    :class:`ValueError` (the service's ``PolicyError``, or :class:`AnswerError`)
    naming the first refused answer.
    """
    policy = service.cors_policy
    credentials = answers["allow_credentials"]
    if not isinstance(credentials, bool):
        raise AnswerError(f"allow_credentials: {credentials!r} is not a boolean. Answer yes or no")
    values, notes = dict(answers), []
    for variable, environment in ORIGIN_ANSWERS.items():
        origins = policy.check_origin_list(
            answers[variable],
            environment=policy.Environment(environment),
            allow_credentials=credentials,
            setting=variable,
            credentials_setting="allow_credentials",
        )
        notes += [f"{variable}: read as {o.text!r} ({', '.join(o.changes)})" for o in origins if o.changes]
        values[variable] = [origin.text for origin in origins]
    values["partner_origins"], partner_notes = partner_origins(answers, values, service)
    notes += partner_notes
    values["public_paths"] = service.path_prefixes.normalise_path_prefixes(answers["public_paths"], "public_paths")
    policy.check_public_paths(values["public_paths"], setting="public_paths")
    for variable, kind in TOKEN_ANSWERS.items():
        values[variable] = service.setting_values.normalise_tokens(answers[variable], variable, kind)
    max_age = service.setting_values.parse_max_age(answers["max_age"], "max_age")
    if str(max_age) != str(answers["max_age"]).strip():
        notes.append(f"max_age: read as {max_age}")
    if max_age > service.setting_values.CHROMIUM_MAX_AGE:
        notes.append(
            f"max_age: {max_age} s is more than Chromium keeps a preflight answer "
            f"({service.setting_values.CHROMIUM_MAX_AGE} s); Chromium browsers send a new preflight after that"
        )
    values["max_age"] = max_age
    for variable in TEXT_ANSWERS:
        values[variable] = answers[variable].strip()
        if values[variable] != answers[variable]:
            notes.append(f"{variable}: read as {values[variable]!r} (removed surrounding spaces)")
    return values, notes


def partner_origins(
    answers: Mapping[str, Any], values: Mapping[str, Any], service: ModuleType
) -> tuple[list[str], list[str]]:
    """The partner origins (staging and production, so production's rules) and the notes on them."""
    policy = service.cors_policy
    origins = service.origin_grammar.normalise_origins(answers["partner_origins"], "partner_origins")
    entries = [origin.text for origin in origins]
    if entries:
        policy.check_origin_rules(
            entries,
            environment=policy.Environment.PRODUCTION,
            allow_credentials=False,
            setting="partner_origins",
            credentials_setting="allow_credentials",
        )
    for frontend in ("staging_origins", "prod_origins"):
        policy.check_partner_origins(entries, values[frontend], setting="partner_origins", frontend_setting=frontend)
    return entries, [f"partner_origins: read as {o.text!r} ({', '.join(o.changes)})" for o in origins if o.changes]


# Filters: each writes a value so that the format it lands in reads back exactly that value.

_PYTHON_ESCAPES = {'"': r"\x22"}
_YAML_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
_MARKDOWN_BLOCK_START = re.compile(r"^([-+=>])|^(\d+)([.)])")


def python_text(text: str) -> str:
    """Text for inside a Python string or docstring: ASCII only, no quote or backslash left bare."""
    escaped = text.encode("unicode_escape").decode("ascii")
    return "".join(_PYTHON_ESCAPES.get(char, char) for char in escaped)


def python_string(text: str) -> str:
    """A double-quoted Python string literal holding ``text``."""
    return f'"{python_text(text)}"'


def python_docstring(text: str, width: int = 100) -> str:
    """The inside of a module docstring holding ``text``, wrapped between words."""
    return "\n".join(textwrap.wrap(python_text(text), width, break_long_words=False, break_on_hyphens=False))


def docstring_value(text: str) -> str:
    """The text Python reads from the package docstring that :func:`python_docstring` writes (``__doc__``)."""
    value = ast.literal_eval(f'"""{python_docstring(text)}"""')
    assert isinstance(value, str)
    return value


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are a subset of TOML's, and non-ASCII stays readable."""
    return json.dumps(text, ensure_ascii=False)


def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar; characters YAML may not hold raw (or folds as line breaks) escaped."""
    return _YAML_UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", json.dumps(text, ensure_ascii=False))


def markdown_text(text: str) -> str:
    """Inline Markdown that shows ``text`` as typed: no markup, link, HTML or block can start from it."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _MARKDOWN_BLOCK_START.sub(
        lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", escaped
    )


def markdown_code(text: str) -> str:
    """A Markdown code span holding ``text``, however many backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


FILTERS: dict[str, Callable[..., str]] = {
    "python_string": python_string,
    "python_docstring": python_docstring,
    "docstring_value": docstring_value,
    "json_string": json.dumps,
    "toml_string": toml_string,
    "yaml_string": yaml_string,
    "markdown_text": markdown_text,
    "markdown_code": markdown_code,
    "shell_word": shlex.quote,
}


def render_answer_files(project: Path, answers: Mapping[str, Any]) -> None:
    """Render the files listed in ``HOOK_RENDERED`` in place, from the normalised answers."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    environment.filters.update(FILTERS)
    for pattern in HOOK_RENDERED:
        for path in sorted(project.glob(pattern)):
            template = environment.from_string(path.read_text(encoding="utf-8"))
            path.write_text(template.render(cookiecutter=answers), encoding="utf-8")


def remove_unchosen_paths(project: Path, answers: Mapping[str, Any]) -> None:
    for (variable, kept_for), paths in OPTIONAL_PATHS.items():
        if answers.get(variable) == kept_for:
            continue
        for relative in paths:
            path = project / relative.format(package_name=answers["package_name"])
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


def dns_label(name: str) -> str:
    if len(name) <= DNS_LABEL_LENGTH:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: DNS_LABEL_LENGTH - len(digest) - 1].rstrip('-')}-{digest}"


def fit_namespaces(project: Path) -> None:
    for path in sorted(project.glob(KUSTOMIZATIONS)):
        text = path.read_text(encoding="utf-8")
        fitted = NAMESPACE_LINE.sub(lambda line: f"namespace: {dns_label(line[1])}", text)
        if fitted != text:
            path.write_text(fitted, encoding="utf-8")


def main(answers: Mapping[str, Any]) -> int:
    project = Path.cwd()
    try:
        values, notes = normalised_answers(answers, load_policy(project))
    except ValueError as refused:
        # Reached only where pre_gen_project could not check (cruft): the directory is a new one.
        print(f"error: {refused}\nNothing was generated.", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}")
    render_answer_files(project, values)
    remove_unchosen_paths(project, values)
    fit_namespaces(project)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
