"""Start-up configuration: list forms, overrides, and the refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.settings import ORIGIN_PROFILES, ConfigurationError, Settings, load_settings


@pytest.mark.parametrize(
    "value",
    ["https://a.example.com, https://b.example.com", '["https://a.example.com", "https://b.example.com"]'],
)
def test_origins_read_as_comma_list_or_json_array(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", value)

    assert load_settings().cors_policy.allow_origins == ("https://a.example.com", "https://b.example.com")


def test_a_single_origin_is_a_list_not_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example.com")

    assert load_settings().cors_policy.allow_origins == ("https://a.example.com",)


def test_an_override_replaces_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://only.example.com")

    assert load_settings().cors_policy.allow_origins == ("https://only.example.com",)


@pytest.mark.parametrize("environment", list(Environment))
def test_each_environment_uses_its_profile(monkeypatch: pytest.MonkeyPatch, environment: Environment) -> None:
    monkeypatch.setenv("APP_ENV", environment.value)
    profile = Environment.DEVELOPMENT if environment is Environment.TEST else environment

    policy = load_settings().cors_policy

    assert policy.environment is environment
    assert len(policy.allow_origins) == len(ORIGIN_PROFILES[profile])


def test_method_and_header_lists_and_max_age_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_METHODS", "get, post")
    monkeypatch.setenv("CORS_ALLOW_HEADERS", '["X-Trace-Id"]')
    monkeypatch.setenv("CORS_EXPOSE_HEADERS", "")
    monkeypatch.setenv("CORS_MAX_AGE", "30")

    policy = load_settings().cors_policy

    assert policy.allow_methods == ("GET", "POST")
    assert policy.allow_headers == ("X-Trace-Id",)
    assert policy.expose_headers == ()
    assert policy.max_age == 30


REFUSED = [
    pytest.param({"APP_ENV": "production", "CORS_ALLOW_ORIGINS": "*"}, "CORS_ALLOW_ORIGINS", id="all-in-production"),
    pytest.param({"APP_ENV": "staging", "CORS_ALLOW_ORIGINS": "*"}, "CORS_ALLOW_ORIGINS", id="all-in-staging"),
    pytest.param(
        {"APP_ENV": "production", "CORS_ALLOW_ORIGINS": "http://app.example.com"},
        "CORS_ALLOW_ORIGINS",
        id="http-in-production",
    ),
    pytest.param({"APP_ENV": "production", "CORS_ALLOW_ORIGINS": "[]"}, "CORS_ALLOW_ORIGINS", id="none-in-production"),
    pytest.param(
        {"CORS_ALLOW_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"},
        "CORS_ALLOW_CREDENTIALS",
        id="all-with-credentials",
    ),
    pytest.param({"CORS_ALLOW_ORIGINS": "https://a.example.com/app"}, "CORS_ALLOW_ORIGINS", id="path"),
    pytest.param({"CORS_ALLOW_ORIGINS": "a.example.com"}, "CORS_ALLOW_ORIGINS", id="no-scheme"),
    pytest.param({"CORS_ALLOW_ORIGINS": "https://*.com"}, "CORS_ALLOW_ORIGINS", id="wildcard-tld"),
    pytest.param({"CORS_ALLOW_ORIGINS": "https://*example.com"}, "CORS_ALLOW_ORIGINS", id="partial-wildcard"),
    pytest.param({"CORS_ALLOW_METHODS": "GET,BAD METHOD"}, "CORS_ALLOW_METHODS", id="method"),
    pytest.param({"CORS_ALLOW_HEADERS": "X-Ok,X:Bad"}, "CORS_ALLOW_HEADERS", id="header"),
    pytest.param({"CORS_ALLOW_ORIGINS": '["https://a.example.com"'}, "CORS_ALLOW_ORIGINS", id="broken-json"),
    pytest.param({"CORS_ALLOW_ORIGINS": '["https://a.example.com", 1]'}, "CORS_ALLOW_ORIGINS", id="json-not-strings"),
    pytest.param({"CORS_ALLOW_ORIGINS": '{"a": "https://a.example.com"}'}, "CORS_ALLOW_ORIGINS", id="json-object"),
    pytest.param({"CORS_EXPOSE_HEADERS": '["X-Total", null]'}, "CORS_EXPOSE_HEADERS", id="json-null"),
    pytest.param({"CORS_MAX_AGE": "-5"}, "CORS_MAX_AGE", id="max-age"),
    pytest.param({"CORS_ALLOW_CREDENTIALS": "maybe"}, "CORS_ALLOW_CREDENTIALS", id="credentials"),
    pytest.param({"APP_ENV": "prod"}, "APP_ENV", id="environment"),
{%- if cookiecutter.origin_registry == "database" %}
    pytest.param({"CORS_REGISTRY_REFRESH_SECONDS": "inf"}, "CORS_REGISTRY_REFRESH_SECONDS", id="refresh-infinite"),
    pytest.param({"CORS_REGISTRY_REFRESH_SECONDS": "nan"}, "CORS_REGISTRY_REFRESH_SECONDS", id="refresh-nan"),
    pytest.param({"CORS_REGISTRY_REFRESH_SECONDS": "1e-6"}, "CORS_REGISTRY_REFRESH_SECONDS", id="refresh-busy-loop"),
    pytest.param({"CORS_REGISTRY_REFRESH_SECONDS": "0.4"}, "CORS_REGISTRY_REFRESH_SECONDS", id="refresh-too-often"),
    pytest.param({"CORS_REGISTRY_REFRESH_SECONDS": "3601"}, "CORS_REGISTRY_REFRESH_SECONDS", id="refresh-too-rare"),
    pytest.param({"CORS_REGISTRY_REFRESH_SECONDS": "\u0665"}, "CORS_REGISTRY_REFRESH_SECONDS", id="refresh-non-ascii"),
    pytest.param({"CORS_REGISTRY_REFRESH_SECONDS": "-5"}, "CORS_REGISTRY_REFRESH_SECONDS", id="refresh-negative"),
{%- endif %}
]


@pytest.mark.parametrize(("variables", "named"), REFUSED)
def test_a_bad_configuration_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError) as refused:
        load_settings()

    assert named in str(refused.value)
    assert "\n" not in str(refused.value)


def test_settings_that_break_a_safety_rule_cannot_be_built() -> None:
    refusal = r"CORS_ALLOW_ORIGINS: '\*' allows every origin, which is refused in production"

    with pytest.raises(ValidationError, match=refusal):
        Settings(app_env="production", cors_allow_origins="*")


def test_a_bad_boolean_says_what_to_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "maybe")

    with pytest.raises(ConfigurationError, match=r"^CORS_ALLOW_CREDENTIALS: 'maybe' is refused: .* true or false$"):
        load_settings()
{%- if cookiecutter.origin_registry == "database" %}


@pytest.mark.parametrize("seconds", ["0.5", "5", " 30 ", "3600"])
def test_refresh_intervals_within_bounds_are_read(monkeypatch: pytest.MonkeyPatch, seconds: str) -> None:
    monkeypatch.setenv("CORS_REGISTRY_REFRESH_SECONDS", seconds)

    assert load_settings().cors_registry_refresh_seconds == float(seconds)


LONG_RANDOM = "k3XQ-vt9_Zr0bP7aY2mW8cLd5sHfJ1uN"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(LONG_RANDOM[:31], "has only 31 of the 32 characters", id="short"),
        pytest.param("x", "has only 1 of the 32 characters", id="one-character"),
        pytest.param(f" {LONG_RANDOM}", "starts or ends with whitespace", id="leading-space"),
        pytest.param(f"{LONG_RANDOM}\n", "starts or ends with whitespace", id="trailing-newline"),
        pytest.param("   ", "starts or ends with whitespace", id="only-spaces"),
        pytest.param(f"{LONG_RANDOM}\u00e9", "an Authorization header cannot carry", id="non-ascii"),
        pytest.param(f"{LONG_RANDOM[:16]} {LONG_RANDOM[16:]}", "header cannot carry", id="inner-space"),
    ],
)
def test_a_weak_or_unusable_admin_token_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, token: str, reason: str
) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", token)

    with pytest.raises(ConfigurationError) as refused:
        load_settings()

    message = str(refused.value)
    assert message.startswith("ADMIN_TOKEN: ")
    assert reason in message
    assert "\n" not in message
    assert LONG_RANDOM[:8] not in message


@pytest.mark.parametrize("token", ["", None])
def test_an_empty_admin_token_turns_the_admin_api_off(monkeypatch: pytest.MonkeyPatch, token: str | None) -> None:
    if token is not None:
        monkeypatch.setenv("ADMIN_TOKEN", token)

    assert load_settings().admin_token is None


def test_a_long_random_admin_token_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", LONG_RANDOM)

    token = load_settings().admin_token
    assert token is not None
    assert token.get_secret_value() == LONG_RANDOM
{%- endif %}


def test_the_process_stops_before_serving_with_one_line() -> None:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "APP_ENV": "production",
        "CORS_ALLOW_ORIGINS": "http://app.example.com",
    }

    result = subprocess.run(
        [sys.executable, "-c", "import {{ cookiecutter.package_name }}.main"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.stderr
    assert "CORS_ALLOW_ORIGINS" in result.stderr
    assert "http://app.example.com" in result.stderr


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CORS_MAX_AGE=42\n", encoding="utf-8")

    assert Settings(_env_file=env_file).cors_max_age == 42
