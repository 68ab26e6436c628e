"""The answer sets the template is tested with, and what each one means.

One module owns the combinations (``VARIANTS``); every test asks it for the
variants it needs (``variants_where``), for the plain answers of a set
(``answers_for``), and for the policy a set intends in an environment
(``intended_policy``). The environment of each origin answer is the hook's own
table, ``ORIGIN_ANSWERS``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .cors_battery import IntendedPolicy
from .template import TEMPLATE, hook_module

ORIGIN_ANSWERS: dict[str, str] = hook_module("post_gen_project").ORIGIN_ANSWERS
"""Each origin answer and the environment it configures, as the generator hook reads them."""

ENVIRONMENT_ANSWERS = {environment: variable for variable, environment in ORIGIN_ANSWERS.items()}
"""Each environment (``development``, ``staging``, ``production``) and the answer holding its origins."""

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

SAME_CODE_AS = {"registry-no-deployment-gitlab": "registry-no-deployment"}
"""Variants whose code (``src``, ``tests``, ``pyproject.toml``, ``Makefile``) is another variant's, byte for byte:
they differ in CI files only, so the checks of that code (its tests, lint, types, browser tests) run for the other
variant alone. test_generation.py checks that the code is still the same."""


def answers_for(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The plain answers a generation with ``overrides`` uses: choices default to their first option."""
    defaults = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    answers = {k: v[0] if isinstance(v, list) else v for k, v in defaults.items() if not k.startswith("_")}
    return answers | dict(overrides)


def variants_where(**choices: str) -> list[str]:
    """The names of the variants whose answers include ``choices``."""
    return sorted(n for n, a in VARIANTS.items() if all(answers_for(a)[k] == v for k, v in choices.items()))


def intended_policy(answers: Mapping[str, Any], environment: str) -> IntendedPolicy:
    """What a service generated with ``answers`` is meant to allow in ``environment``, read from the answers."""
    plain = answers_for(answers)
    origins = tuple(entry for entry in plain[ENVIRONMENT_ANSWERS[environment]].split(",") if entry.strip())
    methods = tuple(method.strip().upper() for method in plain["allow_methods"].split(","))
    partners = plain.get("partner_origins", "") if environment in ("staging", "production") else ""
    return IntendedPolicy(
        origins=origins,
        credentials=plain["allow_credentials"],
        methods=methods,
        partners=tuple(entry.strip() for entry in partners.split(",") if entry.strip()),
        public_paths=tuple(
            path.strip().rstrip("/") for path in plain.get("public_paths", "").split(",") if path.strip()
        ),
    )


def code_of(project: Path) -> dict[str, bytes]:
    """What a generated project's own checks read: its Makefile, pyproject.toml, ``src`` and ``tests``, by path."""
    files = [
        project / "Makefile",
        project / "pyproject.toml",
        *(project / "src").rglob("*"),
        *(project / "tests").rglob("*"),
    ]
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in files
        if path.is_file() and not any(part == "__pycache__" or part.endswith("cache") for part in path.parts)
    }


def own_code_variants() -> list[str]:
    """The variants whose code is their own (not in ``SAME_CODE_AS``), by name."""
    return sorted(set(VARIANTS) - set(SAME_CODE_AS))
