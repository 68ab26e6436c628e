"""Three audiences: frontends (credentials), partner sites (read-only, no credentials), public paths (anyone reads)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.bounded_cache import MAX_ENTRIES
from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.settings import ConfigurationError, Settings, load_settings
{%- if cookiecutter.partner_origins and cookiecutter.public_paths %}

from .answers import PARTNER_ORIGINS, PUBLIC_PATHS, concrete_origins
{%- elif cookiecutter.partner_origins %}

from .answers import PARTNER_ORIGINS, concrete_origins
{%- elif cookiecutter.public_paths %}

from .answers import PUBLIC_PATHS
{%- else %}
{# the blank line that separates the service's imports from the tests' own #}
{%- endif %}
from .cors_requests import client_of, preflight

FRONTEND = "https://app.example.com"
PARTNER = "https://dashboard.partner.example"
PARTNER_WIDGET = "https://eu.widgets.partner.example"
STRANGER = "https://anyone.example.net"
RULES: dict[str, Any] = {
    "app_env": Environment.PRODUCTION,
    "cors_allow_origins": FRONTEND,
    "cors_allow_credentials": True,
    "cors_allow_methods": "GET,POST,DELETE",
    "cors_allow_headers": "Authorization,X-Tenant",
    "cors_expose_headers": "X-Total-Count",
    "cors_partner_origins": f"{PARTNER},https://*.widgets.partner.example",
    "cors_public_paths": "/public",
}


def crash() -> None:
    raise RuntimeError("boom")


def rules_client(**settings: Any) -> TestClient:
    """A client of the service with all three rules, and routes under and beside its public path."""
    app: FastAPI = create_app(Settings(**(RULES | settings)))
    app.add_api_route("/public/catalogue", lambda: {"items": []})
    app.add_api_route("/publicity", lambda: {"private": True})
    app.add_api_route("/crash", crash)
    return client_of(app)


def methods_of(response: Any) -> set[str]:
    return {m.strip() for m in response.headers.get("access-control-allow-methods", "").split(",") if m.strip()}


@pytest.mark.parametrize("partner", [PARTNER, PARTNER_WIDGET])
def test_a_partner_reads_without_credentials(partner: str) -> None:
    client = rules_client()

    answer = preflight(client, partner)
    response = client.get("/health", headers={"Origin": partner})

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == partner
    assert "access-control-allow-credentials" not in answer.headers
    assert methods_of(answer) == {"GET", "HEAD"}
    assert response.headers["access-control-allow-origin"] == partner
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["access-control-expose-headers"] == "X-Total-Count"
    assert "origin" in response.headers["vary"].lower()


@pytest.mark.parametrize(("method", "headers"), [("DELETE", None), ("POST", None), ("GET", "Authorization")])
def test_a_partner_gets_no_more_than_the_partner_rule(method: str, headers: str | None) -> None:
    answer = preflight(rules_client(), PARTNER, method, headers)

    assert answer.status_code == 400
    assert method not in methods_of(answer) or headers is not None
    assert "access-control-allow-credentials" not in answer.headers


def test_the_frontend_keeps_its_own_rule() -> None:
    answer = preflight(rules_client(), FRONTEND, "DELETE", "Authorization")

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == FRONTEND
    assert answer.headers["access-control-allow-credentials"] == "true"


def test_partner_methods_and_headers_are_settings() -> None:
    client = rules_client(cors_partner_methods="GET,POST", cors_partner_headers="X-Tenant")

    answer = preflight(client, PARTNER, "POST", "X-Tenant")

    assert answer.status_code == 200
    assert methods_of(answer) == {"GET", "POST"}
    assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize("origin", [STRANGER, "http://localhost:3000", FRONTEND, PARTNER, "null"])
def test_every_origin_reads_a_public_path_without_credentials(origin: str) -> None:
    client = rules_client()

    answer = preflight(client, origin, path="/public/catalogue")
    response = client.get("/public/catalogue", headers={"Origin": origin})

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert methods_of(answer) == {"GET", "HEAD"}
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("path", ["/publicity", "/health", "/Public/catalogue", "/public/../health"])
def test_a_public_prefix_covers_whole_segments_only(path: str) -> None:
    answer = preflight(rules_client(), STRANGER, path=path)

    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers


def test_a_public_path_serves_reads_only() -> None:
    answer = preflight(rules_client(), STRANGER, "POST", path="/public/catalogue")

    assert answer.status_code == 400
    assert methods_of(answer) == {"GET", "HEAD"}


@pytest.mark.parametrize(("origin", "expected"), [(PARTNER, PARTNER), (FRONTEND, FRONTEND)])
def test_a_crash_keeps_the_cors_headers_of_its_rule(origin: str, expected: str) -> None:
    response = rules_client().get("/crash", headers={"Origin": origin})

    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == expected


def test_a_forged_write_from_a_partner_is_refused_unless_the_partner_rule_allows_it() -> None:
    cross_site = {"Origin": PARTNER, "Sec-Fetch-Site": "cross-site"}

    refused = rules_client().post("/health", headers=cross_site)
    passed = rules_client(cors_partner_methods="GET,POST").post("/health", headers=cross_site)

    assert refused.status_code == 403
    assert passed.status_code == 405, "the write reached the routes (which have no POST /health)"


def test_without_partners_or_public_paths_cors_is_the_frontend_rule_alone() -> None:
    app = create_app(Settings(**(RULES | {"cors_partner_origins": "", "cors_public_paths": ""})))

    assert app.front is not app.cors_rules
    assert app.cors_for("/public/catalogue", PARTNER) is app.cors


def test_endless_distinct_origins_use_bounded_memory_and_keep_their_rules() -> None:
    app = create_app(Settings(**RULES))
    rules = app.cors_rules

    strangers = [rules.origin_rule(f"https://{number}.example.net".encode()) for number in range(MAX_ENTRIES + 50)]

    assert set(strangers) == {app.cors}, "an unlisted origin gets the frontend rule, which refuses it"
    assert len(rules.rule_of_origin) == MAX_ENTRIES
    client = client_of(app)
    assert client.get("/health", headers={"Origin": PARTNER}).headers["access-control-allow-origin"] == PARTNER
    assert client.get("/health", headers={"Origin": FRONTEND}).headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cors_partner_origins": FRONTEND}, "CORS_PARTNER_ORIGINS: 'https://app.example.com' is also allowed by"),
        ({"cors_allow_origins": "https://*.partner.example", "cors_partner_origins": PARTNER}, "one rule only"),
        ({"cors_partner_origins": "http://dashboard.partner.example"}, "plain http, which is refused in production"),
        ({"cors_partner_origins": "https://*.github.io"}, "public suffix"),
        ({"cors_public_paths": "/"}, "CORS_PUBLIC_PATHS: '/' makes every path readable by every origin"),
        ({"cors_public_paths": "public"}, "CORS_PUBLIC_PATHS: 'public' does not start with '/'"),
    ],
)
def test_ambiguous_or_unsafe_rules_are_refused(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], message: str
) -> None:
    for name, value in (RULES | settings).items():
        monkeypatch.setenv(name.upper(), str(value))

    with pytest.raises(ConfigurationError, match=r"^[A-Z_]+: ") as refused:
        load_settings()

    assert message in str(refused.value)
{%- if cookiecutter.partner_origins %}


@pytest.mark.parametrize("environment", [Environment.STAGING, Environment.PRODUCTION])
@pytest.mark.parametrize("origin", [o for entry in PARTNER_ORIGINS for o in concrete_origins(entry)])
def test_each_answered_partner_reads_without_credentials(environment: Environment, origin: str) -> None:
    client = client_of(create_app(Settings(app_env=environment)))

    answer = preflight(client, origin)
    response = client.get("/health", headers={"Origin": origin})

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-credentials" not in answer.headers
    assert "access-control-allow-credentials" not in response.headers
    assert methods_of(answer) == {"GET", "HEAD"}
    assert preflight(client, origin, "DELETE").status_code == 400
{%- endif %}
{%- if cookiecutter.public_paths %}


@pytest.mark.parametrize("environment", list(Environment))
@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_each_answered_public_path_is_readable_by_any_origin(environment: Environment, path: str) -> None:
    client = client_of(create_app(Settings(app_env=environment)))

    answer = preflight(client, STRANGER, path=path)

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers
{%- endif %}
