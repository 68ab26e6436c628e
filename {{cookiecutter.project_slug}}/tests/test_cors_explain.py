"""``cors explain``: the service's own answer to an origin, and why, before anything is deployed."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.origin_grammar import normalise_origin
from {{ cookiecutter.package_name }}.origin_matcher import OriginMatcher

from .answers import ANSWERED_ORIGINS, concrete_origins
from .cors_requests import ClientFactory, preflight

Explain = Callable[..., tuple[int, str, str]]

PROJECT = Path(__file__).resolve().parents[1]
PARTNERS = "https://app.example.com,https://*.tenants.example.com"


@pytest.fixture(autouse=True)
def elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in an empty directory: a service that keeps files (a SQLite database) keeps them there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def explain(capsys: pytest.CaptureFixture[str]) -> Explain:
    """Run ``cors explain`` in this process; return its exit status, output and error output."""

    def run(*arguments: str) -> tuple[int, str, str]:
        status = main(["cors", "explain", *arguments])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def explained(explain: Explain, *arguments: str) -> dict[str, object]:
    status, out, _ = explain(*arguments, "--json")
    document: dict[str, object] = json.loads(out)
    assert status == (0 if document["allowed"] else 1)
    return document


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", PARTNERS)
    monkeypatch.setenv("CORS_ALLOW_METHODS", "GET,POST")
    monkeypatch.setenv("CORS_ALLOW_HEADERS", "Authorization")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "true")


@pytest.mark.parametrize("environment", [Environment.DEVELOPMENT, Environment.STAGING, Environment.PRODUCTION])
def test_every_answered_origin_is_allowed_by_the_frontend_rule(explain: Explain, environment: Environment) -> None:
    for entry in ANSWERED_ORIGINS[environment]:
        for origin in concrete_origins(entry):
            document = explained(explain, origin, "--env", str(environment))

            assert document["allowed"] is True, (origin, document)
            assert document["rule"] == {"name": "frontend", "entry": normalise_origin(entry, "test").text}


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        ("https://app.example.com", "POST", "Authorization"),
        ("https://app.example.com", "DELETE", ""),
        ("https://tenant-1.tenants.example.com", "GET", "X-Tenant"),
        ("https://app.example.com.evil.test", "POST", "Authorization"),
        ("null", "GET", ""),
    ],
)
def test_explain_shows_the_headers_the_running_service_sends(
    explain: Explain, production: None, client_for: ClientFactory, origin: str, method: str, headers: str
) -> None:
    client: TestClient = client_for(
        app_env="production",
        cors_allow_origins=PARTNERS,
        cors_allow_methods="GET,POST",
        cors_allow_headers="Authorization",
        cors_allow_credentials=True,
    )
    preflighted = preflight(client, origin, method, headers or None)
    simple = client.request(method, "/health", headers={"Origin": origin})

    document = explained(explain, origin, "--method", method, *(["--header", headers] if headers else []))

    def cors_part(response_headers: list[tuple[str, str]]) -> list[list[str]]:
        return [[k, v] for k, v in response_headers if k.startswith("access-control-") or k == "vary"]

    assert document["preflight"] == {
        "sent": bool(headers) or method not in ("GET", "POST"),
        "status": preflighted.status_code,
        "headers": cors_part(preflighted.headers.multi_items()),
    }
    assert document["response"] == {"headers": cors_part(simple.headers.multi_items())}


@pytest.mark.parametrize(
    ("origin", "words"),
    [
        ("https://app.example.com/", "it sends https://app.example.com (removed the trailing slash), which is allowed"),
        ("https://app.example.com/login", "(removed the path), which is allowed"),
        ("https://App.Example.com", "(lower-cased the host), which is allowed"),
        ("https://app.example.com:443", "(dropped the default port :443), which is allowed"),
        ("http://app.example.com", "https://app.example.com is allowed, over the other scheme"),
        ("https://app.example.com:8443", "https://app.example.com is allowed, on the default port, not port 8443"),
        ("https://a.b.tenants.example.com", "reaches one subdomain level only: add https://a.b.tenants.example.com"),
        ("https://tenants.example.com", "not tenants.example.com itself"),
    ],
)
def test_a_near_miss_says_what_it_misses(explain: Explain, production: None, origin: str, words: str) -> None:
    status, out, err = explain(origin)

    assert status == 1
    assert out.startswith(f"refused: GET /health from {origin!r} in APP_ENV=production")
    assert "refused: origin not in CORS_ALLOW_ORIGINS for APP_ENV=production" in out
    assert words in out
    assert err == ""


def test_a_missing_method_header_or_credentials_names_the_setting(explain: Explain, production: None) -> None:
    status, out, _ = explain("https://app.example.com", "--method", "PATCH", "--header", "Authorization,X-Tenant")

    assert status == 1
    assert "refused: method PATCH not in CORS_ALLOW_METHODS\n  fix: add PATCH to CORS_ALLOW_METHODS" in out
    assert "refused: headers x-tenant not in CORS_ALLOW_HEADERS\n  fix: add X-Tenant to CORS_ALLOW_HEADERS" in out
    assert "CORS_ALLOW_ORIGINS" not in out


def test_credentials_where_the_rule_has_none_are_refused(
    explain: Explain, production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "false")

    assert explain("https://app.example.com")[0] == 0
    status, out, _ = explain("https://app.example.com", "--credentials")

    assert status == 1
    assert "refused: credentials requested, but CORS_ALLOW_CREDENTIALS is false" in out


def test_an_origin_of_another_environment_says_where_it_is_allowed(explain: Explain) -> None:
    production = OriginMatcher(normalise_origin(e, "test").text for e in ANSWERED_ORIGINS[Environment.PRODUCTION])
    development_only = [
        origin
        for entry in ANSWERED_ORIGINS[Environment.DEVELOPMENT]
        for origin in concrete_origins(entry)
        if not production(origin)
    ]
    assert development_only

    for origin in development_only:
        status, out, _ = explain(origin, "--env", "production")

        assert status == 1
        assert "note: allowed in development, not in production" in out


def test_a_refused_configuration_is_one_line_with_status_2(explain: Explain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")

    status, out, err = explain("https://app.example.com", "--env", "production")

    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert "CORS_ALLOW_ORIGINS: '*' allows every origin, which is refused in production" in err


@pytest.mark.parametrize(
    "arguments",
    [[], ["https://a.example.com", "--env", "qa"], ["https://a.example.com", "--method", "G T"], ["x", "--path", "h"]],
)
def test_bad_usage_is_one_line_with_status_2(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["cors", "explain", *arguments])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_in_development_a_refused_preflight_says_why_in_its_body(client_for: ClientFactory) -> None:
    client = client_for(app_env="development", cors_allow_origins="http://localhost:3000", cors_allow_methods="GET")

    refused = client.options(
        "/health", headers={"Origin": "http://localhost:3000/", "Access-Control-Request-Method": "PUT"}
    )

    assert refused.status_code == 400
    assert refused.text.splitlines() == [
        "Disallowed CORS origin, method",
        "refused: origin not in CORS_ALLOW_ORIGINS for APP_ENV=development",
        "  fix: a browser never sends 'http://localhost:3000/': it sends http://localhost:3000"
        " (removed the trailing slash), which is allowed",
        "refused: method PUT not in CORS_ALLOW_METHODS",
        "  fix: add PUT to CORS_ALLOW_METHODS",
        "(this explanation is sent in development only)",
    ]
    assert "access-control-allow-origin" not in refused.headers


def test_a_hostile_preflight_cannot_flood_the_development_body(client_for: ClientFactory) -> None:
    client = client_for(app_env="development", cors_allow_origins="http://localhost:3000")
    hostile = {"Origin": "https://" + "a." * 2500 + "test", "Access-Control-Request-Method": "X" * 5000}

    refused = client.options("/health", headers={**hostile, "Access-Control-Request-Headers": "Y" * 5000})

    assert refused.status_code == 400
    assert len(refused.text) < 2000
    assert [line.split(":")[0] for line in refused.text.splitlines()] == [
        "Disallowed CORS origin, method, headers",
        "refused",
        "  fix",
        "refused",
        "  fix",
        "refused",
        "  fix",
        "(this explanation is sent in development only)",
    ]


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_elsewhere_a_refused_preflight_keeps_the_plain_body(client_for: ClientFactory, environment: str) -> None:
    client = client_for(app_env=environment, cors_allow_origins="https://app.example.com", cors_allow_methods="GET")

    refused = client.options(
        "/health", headers={"Origin": "https://app.example.com/", "Access-Control-Request-Method": "PUT"}
    )

    assert (refused.status_code, refused.text) == (400, "Disallowed CORS origin, method")


def test_runs_as_a_module_and_as_the_console_script(tmp_path: Path) -> None:
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = scripts["{{ cookiecutter.package_name }}"].partition(":")
    [origin, *_] = concrete_origins(ANSWERED_ORIGINS[Environment.PRODUCTION][0])

    explained = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "cors", "explain", origin, "--env", "production"],
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert getattr(importlib.import_module(module), function) is main
    assert (explained.returncode, explained.stderr) == (0, "")
    assert explained.stdout.startswith(f"allowed: GET /health from {origin!r} in APP_ENV=production")
