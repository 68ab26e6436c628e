{%- macro tuple_of(items, indent="") -%}
{%- if items | length == 1 -%}
({{ items[0] | python_string }},)
{%- elif items -%}
(
{%- for item in items %}
{{ indent }}    {{ item | python_string }},
{%- endfor %}
{{ indent }})
{%- else -%}
()
{%- endif -%}
{%- endmacro -%}
"""Runtime settings, read from the environment and from a ``.env`` file.

``APP_ENV`` picks the origin profile; every ``CORS_*`` variable, when set,
replaces that part of the configuration (it does not add to it). Lists may be
written as comma-separated text or as a JSON array. The values are checked by
the same rules the project generator applied to its answers, when the
settings are built: a :class:`Settings` holds its checked CORS policy, and
:func:`load_settings` turns every refusal into one line.
"""

from __future__ import annotations

{% if cookiecutter.origin_registry == "database" -%}
import math
import re
{% endif -%}
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, Final, Self

{% if cookiecutter.origin_registry == "database" -%}
from pydantic import (
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
{% else -%}
from pydantic import PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator
{% endif -%}
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .cors_policy import (
    PARTNER_METHODS,
    CorsPolicy,
    Environment,
    check_exempt_paths,
    check_origin_rules,
    check_partner_origins,
    check_public_paths,
)
from .origin_grammar import normalise_origins
from .path_prefixes import normalise_path_prefixes
from .setting_values import PolicyError, normalise_tokens, parse_max_age

ORIGIN_PROFILES: Final[Mapping[Environment, tuple[str, ...]]] = MappingProxyType(
    {
        Environment.DEVELOPMENT: {{ tuple_of(cookiecutter.dev_origins, "        ") }},
        Environment.STAGING: {{ tuple_of(cookiecutter.staging_origins, "        ") }},
        Environment.PRODUCTION: {{ tuple_of(cookiecutter.prod_origins, "        ") }},
    }
)
"""Allowed origins per environment, as answered when the service was generated.

An environment uses the profile of its :attr:`~.cors_policy.Environment.origin_profile`.
"""

PARTNER_PROFILES: Final[Mapping[Environment, tuple[str, ...]]] = MappingProxyType(
    {
        Environment.DEVELOPMENT: (),
        Environment.STAGING: {{ tuple_of(cookiecutter.partner_origins, "        ") }},
        Environment.PRODUCTION: {{ tuple_of(cookiecutter.partner_origins, "        ") }},
    }
)
"""Partner origins per environment (read-only, never credentials): the answered ones in staging and production."""

StringList = Annotated[tuple[str, ...], NoDecode]
"""A list setting: the validators read comma-separated text or a JSON array, never pydantic's own JSON decoding."""

{%- if cookiecutter.origin_registry == "database" %}


REFRESH_SECONDS_RANGE: Final = (0.5, 3600.0)
"""How often the stored origins may be re-read: not a busy loop, not staler than an hour."""

ADMIN_TOKEN_MIN_LENGTH: Final = 32
"""A bearer token shorter than this can be guessed; ``secrets.token_urlsafe(32)`` gives 43 characters."""

_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_VISIBLE_ASCII = re.compile(r"[!-~]+")


class SecretSettingError(PolicyError):
    """A refused setting that holds a secret: the message names it but never repeats its value."""

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        ValueError.__init__(self, f"{setting}: {problem}. {fix}")
        self.setting = setting
        self.value = ""


def parse_refresh_seconds(value: Any, setting: str) -> float:
    """A finite number of seconds within :data:`REFRESH_SECONDS_RANGE`, written in plain decimal digits."""
    low, high = REFRESH_SECONDS_RANGE
    written = isinstance(value, str) and _DECIMAL.fullmatch(value.strip()) is not None
    given = isinstance(value, int | float) and not isinstance(value, bool)
    seconds = float(value) if written or given else math.nan
    if not low <= seconds <= high:
        raise PolicyError(
            setting, str(value), f"is not a number of seconds from {low:g} to {high:g}", "Write, for example, 5"
        )
    return seconds


def check_admin_token(value: Any, setting: str) -> str | None:
    """The bearer token, or None when unset or empty; the refusals never repeat it."""
    token = value.get_secret_value() if isinstance(value, SecretStr) else value
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise SecretSettingError(setting, "is not text", "Set it to a random string")
    generate = "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if token != token.strip():
        raise SecretSettingError(
            setting, "starts or ends with whitespace, which no client sends back", "Remove it (the value is not shown)"
        )
    if len(token) < ADMIN_TOKEN_MIN_LENGTH:
        raise SecretSettingError(
            setting, f"has only {len(token)} of the {ADMIN_TOKEN_MIN_LENGTH} characters a bearer token needs", generate
        )
    if not _VISIBLE_ASCII.fullmatch(token):
        raise SecretSettingError(setting, "holds characters an Authorization header cannot carry", generate)
    return token
{%- endif %}


def read_public_paths(value: Any, setting: str) -> tuple[str, ...]:
    """Path prefixes every origin may read; ``/`` is refused."""
    paths = normalise_path_prefixes(value, setting)
    check_public_paths(paths, setting=setting)
    return tuple(paths)


def read_exempt_paths(value: Any, setting: str) -> tuple[str, ...]:
    """Path prefixes other sites may post to; ``/`` is refused."""
    paths = normalise_path_prefixes(value, setting)
    check_exempt_paths(paths, setting=setting, switch_setting="CSRF_PROTECTION")
    return tuple(paths)


READERS: Final[Mapping[str, Callable[[Any, str], Any]]] = MappingProxyType(
    {
        "cors_max_age": parse_max_age,
        "cors_public_paths": read_public_paths,
        "csrf_exempt_paths": read_exempt_paths,
{%- if cookiecutter.origin_registry == "database" %}
        "cors_registry_refresh_seconds": parse_refresh_seconds,
        "admin_token": check_admin_token,
{%- endif %}
    }
)
"""The other fields' readers (origins and tokens have their own): ``reader(value, SETTING)`` returns or refuses."""


class Settings(BaseSettings):
    """The service's configuration; see ``.env.example`` for every variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    app_env: Environment = Environment.DEVELOPMENT
    cors_allow_origins: Annotated[tuple[str, ...] | None, NoDecode] = None
    cors_allow_credentials: bool = {{ cookiecutter.allow_credentials }}
    cors_allow_methods: StringList = {{ tuple_of(cookiecutter.allow_methods, "    ") }}
    cors_allow_headers: StringList = {{ tuple_of(cookiecutter.allow_headers, "    ") }}
    cors_expose_headers: StringList = {{ tuple_of(cookiecutter.expose_headers, "    ") }}
    cors_max_age: int = {{ cookiecutter.max_age }}
    cors_partner_origins: Annotated[tuple[str, ...] | None, NoDecode] = None
    cors_partner_methods: StringList = PARTNER_METHODS
    cors_partner_headers: StringList = ()
    cors_public_paths: StringList = {{ tuple_of(cookiecutter.public_paths, "    ") }}
    csrf_protection: bool = True
    csrf_exempt_paths: StringList = ()
{%- if cookiecutter.origin_registry == "database" %}
    database_url: str = "sqlite:///origins.db"
    cors_registry_refresh_seconds: float = 5.0
    admin_token: SecretStr | None = None
{%- endif %}
    _cors_policy: CorsPolicy = PrivateAttr()

    @field_validator("cors_allow_origins", "cors_partner_origins", mode="before")
    @classmethod
    def _read_origins(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        origins = normalise_origins(value, str(info.field_name).upper())
        return tuple(origin.text for origin in origins)

    @field_validator(
        "cors_allow_methods",
        "cors_allow_headers",
        "cors_expose_headers",
        "cors_partner_methods",
        "cors_partner_headers",
        mode="before",
    )
    @classmethod
    def _read_tokens(cls, value: Any, info: ValidationInfo) -> Any:
        name = str(info.field_name)
        kind = "method" if name.endswith("_methods") else "header"
        return tuple(normalise_tokens(value, name.upper(), kind))

    @field_validator(*READERS, mode="before")
    @classmethod
    def _read_by_its_reader(cls, value: Any, info: ValidationInfo) -> Any:
        name = str(info.field_name)
        return READERS[name](value, name.upper())

    @property
    def cors_policy(self) -> CorsPolicy:
        """The checked CORS configuration for ``APP_ENV``, built once with the settings."""
        return self._cors_policy

    @model_validator(mode="after")
    def _check_cors_policy(self) -> Self:
        """Build the CORS configuration for ``APP_ENV``; a safety rule's :class:`PolicyError` refuses the settings."""
        profile = self.app_env.origin_profile
        origins = self.cors_allow_origins
        if origins is None:
            origins = tuple(o.text for o in normalise_origins(ORIGIN_PROFILES[profile], "CORS_ALLOW_ORIGINS"))
        check_origin_rules(
            origins,
            environment=self.app_env,
            allow_credentials=self.cors_allow_credentials,
            setting="CORS_ALLOW_ORIGINS",
            credentials_setting="CORS_ALLOW_CREDENTIALS",
        )
        partners = self.cors_partner_origins
        if partners is None:
            partners = PARTNER_PROFILES[profile]
        if partners:
            check_origin_rules(
                partners,
                environment=self.app_env,
                allow_credentials=False,
                setting="CORS_PARTNER_ORIGINS",
                credentials_setting="CORS_ALLOW_CREDENTIALS",
            )
            check_partner_origins(
                partners, origins, setting="CORS_PARTNER_ORIGINS", frontend_setting="CORS_ALLOW_ORIGINS"
            )
        self._cors_policy = CorsPolicy(
            environment=self.app_env,
            allow_origins=origins,
            allow_credentials=self.cors_allow_credentials,
            allow_methods=self.cors_allow_methods,
            allow_headers=self.cors_allow_headers,
            expose_headers=self.cors_expose_headers,
            max_age=self.cors_max_age,
            partner_origins=partners,
            partner_methods=self.cors_partner_methods,
            partner_headers=self.cors_partner_headers,
            public_paths=self.cors_public_paths,
        )
        return self


class ConfigurationError(Exception):
    """The configuration cannot be used; the message is one line for the operator."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment, with ``overrides`` (such as ``app_env``) taking precedence.

    Every problem becomes a :class:`ConfigurationError` whose message names
    the variable and the value, instead of a validation traceback.
    """
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigurationError(describe(error)) from None
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f".env: byte {error.start} is not UTF-8 text ({error.reason}). Save the file as UTF-8"
        ) from None


def load_other_policies(environment: Environment) -> dict[Environment, CorsPolicy]:
    """The CORS policies the same settings give every other environment but test; refused ones are left out."""
    policies: dict[Environment, CorsPolicy] = {}
    for other in Environment:
        if other not in (environment, Environment.TEST):
            try:
                policies[other] = load_settings(app_env=other).cors_policy
            except ConfigurationError:
                continue
    return policies


FIXES: Final = {"bool_parsing": ". Write true or false", "bool_type": ". Write true or false"}
"""What to write instead, for pydantic's own refusals that do not say it."""


def describe(error: ValidationError) -> str:
    """One line for all the problems: each names the environment variable, the value and the fix."""
    lines = []
    for problem in error.errors():
        cause = problem.get("ctx", {}).get("error")
        if isinstance(cause, PolicyError):
            lines.append(str(cause))
            continue
        setting = ".".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"{setting}: {problem['input']!r} is refused: {problem['msg']}{FIXES.get(problem['type'], '')}")
    return "; ".join(lines)
