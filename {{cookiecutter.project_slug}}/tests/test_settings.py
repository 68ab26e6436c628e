"""Start-up configuration: list forms, overrides, and the refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.settings import ORIGIN_PROFILES, ConfigurationError, Settings, load_cors_policy


@pytest.mark.parametrize(
    "value",
    ["https://a.example.com, https://b.example.com", '["https://a.example.com", "https://b.example.com"]'],
)
def test_origins_read_as_comma_list_or_json_array(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", value)

    assert load_cors_policy().allow_origins == ("https://a.example.com", "https://b.example.com")


def test_a_single_origin_is_a_list_not_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example.com")

    assert load_cors_policy().allow_origins == ("https://a.example.com",)


def test_an_override_replaces_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://only.example.com")

    assert load_cors_policy().allow_origins == ("https://only.example.com",)


@pytest.mark.parametrize("environment", list(Environment))
def test_each_environment_uses_its_profile(monkeypatch: pytest.MonkeyPatch, environment: Environment) -> None:
    monkeypatch.setenv("APP_ENV", environment.value)
    profile = Environment.DEVELOPMENT if environment is Environment.TEST else environment

    policy = load_cors_policy()

    assert policy.environment is environment
    assert len(policy.allow_origins) == len(ORIGIN_PROFILES[profile])


def test_method_and_header_lists_and_max_age_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_METHODS", "get, post")
    monkeypatch.setenv("CORS_ALLOW_HEADERS", '["X-Trace-Id"]')
    monkeypatch.setenv("CORS_EXPOSE_HEADERS", "")
    monkeypatch.setenv("CORS_MAX_AGE", "30")

    policy = load_cors_policy()

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
    pytest.param({"CORS_MAX_AGE": "-5"}, "CORS_MAX_AGE", id="max-age"),
    pytest.param({"CORS_ALLOW_CREDENTIALS": "maybe"}, "CORS_ALLOW_CREDENTIALS", id="credentials"),
    pytest.param({"APP_ENV": "prod"}, "APP_ENV", id="environment"),
]


@pytest.mark.parametrize(("variables", "named"), REFUSED)
def test_a_bad_configuration_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError) as refused:
        load_cors_policy()

    assert named in str(refused.value)
    assert "\n" not in str(refused.value)


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
    assert "CORS_ALLOW_ORIGINS" in result.stderr
    assert "http://app.example.com" in result.stderr


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CORS_MAX_AGE=42\n", encoding="utf-8")

    assert Settings(_env_file=env_file).cors_max_age == 42
