"""Check the answers against the service's own CORS policy, then trim optional files.

Cookiecutter runs this hook inside the freshly rendered project. The rules come
from the project's ``cors_policy`` module, the file the service itself runs, so
the generator and the service can never disagree. On a refused answer the hook
exits non-zero and cookiecutter removes the whole project directory.

The hook is deterministic, offline and idempotent (cruft runs it again on every
update): it reads the rendered files, deletes the paths that belong to options
not chosen, writes the deployment's CORS settings in the normalised form the
service reads, and does nothing else.
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ANSWERS: dict[str, Any] = json.loads(r"""{{ cookiecutter | tojson }}""")

SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

# Which generated paths belong to which answer: a path is kept only when the
# answer has the listed value. Paths are relative to the project directory.
# A path listed under several answers is kept only when all of them hold.
OPTIONAL_PATHS: dict[tuple[str, str], list[str]] = {
    ("deploy", "kubernetes"): ["deploy"],
    ("ci", "github"): [".github"],
    ("ci", "gitlab"): [".gitlab-ci.yml", ".gitlab"],
    ("origin_registry", "database"): [
        f"src/{ANSWERS['package_name']}/origin_registry.py",
        f"src/{ANSWERS['package_name']}/admin.py",
        f"src/{ANSWERS['package_name']}/registry_cli.py",
        "tests/test_registry.py",
        "tests/test_registry_cli.py",
    ],
}

# The deployment's settings files (KEY=value lines, read by kustomize's
# configMapGenerator) get the CORS values in the form the service reads them.
SETTINGS_FILES = "deploy/**/settings.env"
TOKEN_SETTINGS = {"CORS_ALLOW_METHODS": "method", "CORS_ALLOW_HEADERS": "header", "CORS_EXPOSE_HEADERS": "header"}


class AnswerError(Exception):
    """An answer is refused; the message names the variable, the value and the fix."""


def load_policy(package_name: str) -> ModuleType:
    path = Path("src", package_name, "cors_policy.py")
    spec = importlib.util.spec_from_file_location("cors_policy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def check_names(answers: dict[str, Any]) -> None:
    slug, package = answers["project_slug"], answers["package_name"]
    if not SLUG.fullmatch(slug):
        raise AnswerError(
            f"project_slug: {slug!r} is not a lowercase slug. Use lowercase letters, digits and single hyphens,"
            " starting with a letter, as in 'my-service'"
        )
    if not package.isidentifier() or keyword.iskeyword(package) or package != package.lower():
        suggestion = re.sub(r"\W+", "_", package.lower()).strip("_") or "my_service"
        raise AnswerError(
            f"package_name: {package!r} is not a lowercase Python identifier. Write, for example, {suggestion!r}"
        )


def check_cors(answers: dict[str, Any], policy: ModuleType) -> list[str]:
    """Apply the service's rules to the answers; return notes on what was normalised."""
    credentials = answers["allow_credentials"]
    if not isinstance(credentials, bool):
        raise AnswerError(f"allow_credentials: {credentials!r} is not a boolean. Answer yes or no")
    notes: list[str] = []
    environments = {
        "dev_origins": policy.Environment.DEVELOPMENT,
        "staging_origins": policy.Environment.STAGING,
        "prod_origins": policy.Environment.PRODUCTION,
    }
    for variable, environment in environments.items():
        origins = policy.normalise_origins(answers[variable], variable)
        notes += [f"{variable}: read as {o.text!r} ({', '.join(o.changes)})" for o in origins if o.changes]
        policy.check_origin_rules(
            [o.text for o in origins],
            environment=environment,
            allow_credentials=credentials,
            setting=variable,
            credentials_setting="allow_credentials",
        )
    policy.normalise_tokens(answers["allow_methods"], "allow_methods", "method")
    policy.normalise_tokens(answers["allow_headers"], "allow_headers", "header")
    policy.normalise_tokens(answers["expose_headers"], "expose_headers", "header")
    policy.parse_max_age(answers["max_age"], "max_age")
    return notes


def remove_unchosen_paths(answers: dict[str, Any]) -> None:
    for (variable, kept_for), paths in OPTIONAL_PATHS.items():
        if answers.get(variable) == kept_for:
            continue
        for relative in paths:
            path = Path(relative)
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


def canonical_setting(policy: ModuleType, key: str, value: str) -> str:
    """A CORS_* value as the service reads it; other settings are returned unchanged."""
    if key == "CORS_ALLOW_ORIGINS":
        return ",".join(origin.text for origin in policy.normalise_origins(value, key))
    if key in TOKEN_SETTINGS:
        return ",".join(policy.normalise_tokens(value, key, TOKEN_SETTINGS[key]))
    return value


def normalise_settings_files(policy: ModuleType) -> None:
    for path in sorted(Path().glob(SETTINGS_FILES)):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            key, separator, value = line.partition("=")
            lines.append(f"{key}={canonical_setting(policy, key, value)}" if separator else line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def replay_hint(answers: dict[str, Any]) -> str:
    template = answers.get("_template", "<template>")
    name = Path(answers.get("_repo_dir") or template).name.removesuffix(".git") or "<template directory name>"
    replay_file = f"~/.cookiecutter_replay/{name}.json"
    return (
        f"Nothing was generated. Your answers are saved in {replay_file}: correct that one answer there, "
        f"then run: cookiecutter --replay-file {replay_file} {template}"
    )


def main() -> int:
    try:
        check_names(ANSWERS)
        policy = load_policy(ANSWERS["package_name"])
        notes = check_cors(ANSWERS, policy)
    except (AnswerError, ValueError) as refused:
        print(f"error: {refused}", file=sys.stderr)
        print(replay_hint(ANSWERS), file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}")
    remove_unchosen_paths(ANSWERS)
    normalise_settings_files(policy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
