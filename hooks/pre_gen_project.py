"""Check every answer before cookiecutter writes a single file.

Names and free text are checked here: they become paths and land in every
file format. The CORS answers are checked by ``post_gen_project``'s
``normalised_answers`` on the template's own policy modules, loaded by
``post_gen_project.load_policy`` (the one loader of both hooks) from the
template found through cookiecutter's ``_repo_dir``. So a refused answer
leaves no directory, and under ``--overwrite-if-exists`` changes nothing in an
existing project.
(cruft calls cookiecutter's ``generate_files`` without ``_repo_dir``; there the
CORS answers are checked after rendering, in the fresh directory cruft renders into.)
"""

from __future__ import annotations

import importlib
import json
import keyword
import os
import re
import sys
import unicodedata
from collections.abc import Mapping
from email.headerregistry import Address
from pathlib import Path
from types import ModuleType
from typing import Any

SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
MAX_SLUG_LENGTH = 63
"""Kubernetes names its objects after the slug: a DNS label holds at most 63 characters."""
MAX_NAME_LENGTH = 100
"""The longest ``project_name`` as Python source (a character outside ASCII counts as its escape)."""
ENTITY_REF = re.compile(r"(?:[A-Za-z]+:)?(?:[a-z0-9]+(?:-[a-z0-9]+)*/)?[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*")
"""A Backstage entity reference, ``[kind:][namespace/]name``: catalog-info.yaml's owner and system."""

# Import names of the generated service's dependencies (runtime, dev, e2e, postgresql
# extras, with their own dependencies): a package of that name would shadow them.
# tests/test_hostile_answers.py checks that this list covers what the generated project installs.
DEPENDENCY_IMPORT_NAMES = frozenset(
    [
        "alembic",
        "annotated_doc",
        "annotated_types",
        "anyio",
        "ast_serialize",
        "certifi",
        "cfgv",
        "click",
        "distlib",
        "dotenv",
        "email_validator",
        "fastapi",
        "fastapi_cli",
        "filelock",
        "greenlet",
        "h11",
        "httpcore",
        "httpcore2",
        "httptools",
        "httpx",
        "httpx2",
        "identify",
        "idna",
        "iniconfig",
        "librt",
        "mako",
        "markupsafe",
        "markdown_it",
        "mdurl",
        "mypy",
        "mypy_extensions",
        "mypyc",
        "nodeenv",
        "opentelemetry",
        "packaging",
        "pathspec",
        "platformdirs",
        "playwright",
        "pluggy",
        "pre_commit",
        "psycopg",
        "psycopg_binary",
        "publicsuffixlist",
        "py",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pygments",
        "pytest",
        "python_discovery",
        "rich",
        "rich_toolkit",
        "ruff",
        "shellingham",
        "sniffio",
        "sqlalchemy",
        "starlette",
        "truststore",
        "typer",
        "typing_extensions",
        "typing_inspection",
        "uvicorn",
        "uvloop",
        "virtualenv",
        "watchfiles",
        "websockets",
        "yaml",
        "conftest",
        "tests",
    ]
)


class AnswerError(ValueError):
    """An answer is refused; the message names the variable, the value and the fix."""


def check_names(answers: Mapping[str, Any]) -> None:
    slug, package = answers["project_slug"], answers["package_name"]
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise AnswerError(
            f"project_slug: {slug!r} is not a lowercase slug. Use lowercase letters, digits and single hyphens,"
            " starting with a letter, as in 'my-service'"
        )
    if len(slug) > MAX_SLUG_LENGTH:
        raise AnswerError(
            f"project_slug: {slug!r} has {len(slug)} characters; Kubernetes names hold at most {MAX_SLUG_LENGTH}."
            f" Write a shorter one, such as {slug[:30].rstrip('-')!r}"
        )
    suggestion = re.sub(r"[^a-z0-9]+", "_", str(package).lower()).strip("_") or "my_service"
    if not isinstance(package, str) or not PACKAGE.fullmatch(package) or keyword.iskeyword(package):
        raise AnswerError(
            f"package_name: {package!r} is not a lowercase Python identifier. Write, for example, {suggestion!r}"
        )
    if package in sys.stdlib_module_names or package in DEPENDENCY_IMPORT_NAMES:
        origin = "the standard library's" if package in sys.stdlib_module_names else "a dependency's"
        raise AnswerError(
            f"package_name: {package!r} would shadow {origin} module of that name."
            f" Write a name of your own, such as {slug.replace('-', '_') + '_service'!r}"
        )


def check_catalog_references(answers: Mapping[str, Any]) -> None:
    for variable in ("owner", "system"):
        value = answers[variable]
        if isinstance(value, str) and ((value == "" and variable == "system") or ENTITY_REF.fullmatch(value)):
            continue
        raise AnswerError(
            f"{variable}: {value!r} is not a Backstage entity reference. Write a name such as 'platform-team'"
            " or a reference such as 'group:default/platform-team'"
        )


def check_text(variable: str, value: Any) -> None:
    """Free text must be one line of printable characters that every file format can hold."""
    if not isinstance(value, str):
        raise AnswerError(f"{variable}: {value!r} is not text. Answer with one line of text")
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            raise AnswerError(
                f"{variable}: {value!r} holds the control character {char!r}, which this one-line answer cannot"
                " hold. Write it on one line, without tabs or control characters"
            )
        if category == "Cs":
            raise AnswerError(
                f"{variable}: {value!r} holds a lone surrogate ({ord(char):#06x}), which no file can store."
                " Write the character itself"
            )


def check_free_text(answers: Mapping[str, Any]) -> None:
    for variable in ("project_name", "description", "author_name", "author_email"):
        check_text(variable, answers[variable])
    name, description = answers["project_name"].strip(), answers["description"].strip()
    if not name or not description:
        variable = "project_name" if not name else "description"
        raise AnswerError(f"{variable}: {answers[variable]!r} is empty. Write one line, as in 'Billing API'")
    escaped = name.encode("unicode_escape").decode("ascii")
    if len(escaped) > MAX_NAME_LENGTH:
        raise AnswerError(
            f"project_name: {name!r} is too long for a title: at most {MAX_NAME_LENGTH} characters"
            " (a character outside ASCII counts as the 4 to 10 it takes in Python source). Shorten it"
        )
    check_email(answers["author_email"].strip())


def check_email(address: str) -> None:
    """An author address the package metadata can hold: empty, or one valid e-mail address.

    email-validator checks it where it is installed beside cookiecutter (the
    template's own environment has it); otherwise the standard library's
    RFC 5322 parser does.
    """
    if not address:
        return
    try:
        valid, reason = email_validator_verdict(address)
    except ImportError:
        valid, reason = standard_library_verdict(address)
    if not valid:
        raise AnswerError(
            f"author_email: {address!r} is not an e-mail address ({reason})."
            " Write one address, as in 'ada@example.com', or leave it empty"
        )


def email_validator_verdict(address: str) -> tuple[bool, str]:
    import email_validator

    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return False, str(error)
    return True, ""


def standard_library_verdict(address: str) -> tuple[bool, str]:
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError) as error:
        return False, str(error)
    if parsed.addr_spec != address or "." not in parsed.domain:
        return False, "expected local-part@domain.tld"
    return True, ""


def template_directory(answers: Mapping[str, Any]) -> Path | None:
    """The template's own directory, where cookiecutter says it is.

    ``_repo_dir`` is as the user gave it: a relative one is relative to where
    cookiecutter was started (the shell's ``PWD``), not to this hook's directory.
    """
    repo_dir = answers.get("_repo_dir")
    if not repo_dir:
        return None
    candidate = Path(os.environ.get("PWD", "."), repo_dir)
    return candidate if (candidate / "hooks" / "post_gen_project.py").is_file() else None


def check_cors(answers: Mapping[str, Any]) -> None:
    """Run the post-generation checks of the CORS answers now, on the template's own files."""
    template = template_directory(answers)
    if template is None:
        return
    post_gen = import_hook(template / "hooks", "post_gen_project")
    project = next(template.glob("*/src/*/cors_policy.py")).parents[2]
    post_gen.normalised_answers(answers, post_gen.load_policy(project))


def import_hook(hooks: Path, name: str) -> ModuleType:
    """The template's hook script ``name`` as a module, imported from the ``hooks`` directory.

    Cookiecutter runs this hook from a rendered copy elsewhere, so the
    template's own ``hooks`` directory is put first on the module search path.
    """
    sys.dont_write_bytecode = True  # no __pycache__ left in the template
    if str(hooks) not in sys.path:
        sys.path.insert(0, str(hooks))
    return importlib.import_module(name)


def main(answers: Mapping[str, Any]) -> int:
    try:
        check_names(answers)
        check_free_text(answers)
        check_catalog_references(answers)
        check_cors(answers)
    except ValueError as refused:
        print(f"error: {refused}", file=sys.stderr)
        print(replay_hint(answers), file=sys.stderr)
        return 1
    return 0


def replay_hint(answers: Mapping[str, Any]) -> str:
    template = answers.get("_template", "<template>")
    name = Path(answers.get("_repo_dir") or template).name.removesuffix(".git") or "<template directory name>"
    replay_file = f"~/.cookiecutter_replay/{name}.json"
    return (
        f"Nothing was generated. Your answers are saved in {replay_file}: correct that one answer there, "
        f"then run: cookiecutter --replay-file {replay_file} {template}"
    )


if __name__ == "__main__":
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
