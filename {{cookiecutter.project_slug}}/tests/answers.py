{%- macro list_of(items, indent="") -%}
{%- if items -%}
[
{%- for item in items %}
{{ indent }}    {{ item | python_string }},
{%- endfor %}
{{ indent }}]
{%- else -%}
[]
{%- endif -%}
{%- endmacro -%}
"""The CORS answers this service was generated with, written out for the tests to check against.

The values are written out from those answers on purpose: tests compare the
running service with them rather than read the settings back.
"""

from __future__ import annotations

from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.origin_grammar import ALL_ORIGINS, normalise_origin

ANSWERED_ORIGINS: dict[Environment, list[str]] = {
    Environment.DEVELOPMENT: {{ list_of(cookiecutter.dev_origins, "    ") }},
    Environment.STAGING: {{ list_of(cookiecutter.staging_origins, "    ") }},
    Environment.PRODUCTION: {{ list_of(cookiecutter.prod_origins, "    ") }},
}
ANSWERED_ORIGINS[Environment.TEST] = ANSWERED_ORIGINS[Environment.DEVELOPMENT]
CREDENTIALS = {{ cookiecutter.allow_credentials }}
METHODS: list[str] = {{ list_of(cookiecutter.allow_methods) }}
HEADERS: list[str] = {{ list_of(cookiecutter.allow_headers) }}
EXPOSED: list[str] = {{ list_of(cookiecutter.expose_headers) }}
MAX_AGE = {{ cookiecutter.max_age }}
{%- if cookiecutter.partner_origins %}
PARTNER_ORIGINS: list[str] = {{ list_of(cookiecutter.partner_origins) }}
"""The partner rule's origins in staging and production."""
{%- endif %}
{%- if cookiecutter.public_paths %}
PUBLIC_PATHS: list[str] = {{ list_of(cookiecutter.public_paths) }}
{%- endif %}


def concrete_origins(entry: str) -> list[str]:
    """Origins a browser could send that the entry allows (a pattern gives examples)."""
    origin = normalise_origin(entry, "test").text
    if origin == ALL_ORIGINS:
        return ["https://any-site.example.net", "http://any-site.example.net:8080"]
    hosts = [origin.replace("://*.", "://tenant-1.", 1)]
    if hosts[0].endswith(":*"):
        base = hosts[0].removesuffix(":*")
        return [base, f"{base}:8123"]
    return hosts


def cases(*environments: Environment) -> list[tuple[Environment, str]]:
    """Each environment with each origin its answered entries allow (examples for patterns)."""
    return [
        (environment, origin)
        for environment in environments
        for entry in ANSWERED_ORIGINS[environment]
        for origin in concrete_origins(entry)
    ]


ALL_CASES = cases(*Environment)


def lookalikes(entry: str, environment: Environment) -> list[str]:
    """Origins that resemble an allowed entry but must never be allowed."""
    origin = normalise_origin(entry, "test").text
    scheme, _, authority = origin.partition("://")
    found = ["null", f"{origin}.evil.test", f"{origin}/", origin.upper()]
    if authority.startswith("*."):
        parent = authority[2:].removesuffix(":*")
        found += [
            f"{scheme}://evil{parent}",
            f"{scheme}://{parent}.evil.test",
            f"{scheme}://a.b.{parent}",
            f"{scheme}://{parent}",
        ]
    if environment is Environment.PRODUCTION:
        found.append(origin.replace("https://", "http://", 1).replace("*.", "tenant-1.", 1))
    return found


LOOKALIKE_CASES = [
    (environment, lookalike)
    for environment in Environment
    if ALL_ORIGINS not in ANSWERED_ORIGINS[environment]
    for entry in ANSWERED_ORIGINS[environment]
    for lookalike in lookalikes(entry, environment)
] + [
    (environment, "https://evil.test")
    for environment in Environment
    if ALL_ORIGINS not in ANSWERED_ORIGINS[environment]
]
