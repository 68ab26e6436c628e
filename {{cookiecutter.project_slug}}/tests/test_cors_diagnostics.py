"""A refused preflight tells the person debugging it what was refused, and why."""

from __future__ import annotations

import itertools
import logging

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.refusal_log import VALUE_LIMIT

from .cors_requests import ClientFactory, preflight

LOGGER = "{{ cookiecutter.package_name }}"
ALLOWED = "https://app.example.com"
REQUEST_ID = "preflight-7f3a"


@pytest.fixture
def client(client_for: ClientFactory) -> TestClient:
    return client_for(
        app_env="staging",
        cors_allow_origins=ALLOWED,
        cors_allow_methods="GET,POST",
        cors_allow_headers="Authorization",
        cors_allow_credentials=True,
    )


def traced_preflight(client: TestClient, origin: str, method: str, headers: str | None = None) -> tuple[int, str]:
    """Status and body of a preflight that carries this module's ``X-Request-ID``."""
    response = preflight(client, origin, method, headers, extra={"X-Request-ID": REQUEST_ID})
    return response.status_code, response.text


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.getMessage().startswith("CORS preflight refused")]


def test_a_refused_origin_is_logged_as_one_line(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    status, body = traced_preflight(client, "https://app.example.com.evil.test", "GET", "authorization")

    assert (status, body) == (400, "Disallowed CORS origin")
    [record] = refusals(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        'CORS preflight refused: origin="https://app.example.com.evil.test" method="GET" headers="authorization"'
        ' environment="staging" refused="origin not in CORS_ALLOW_ORIGINS for APP_ENV=staging"'
        f' request_id="{REQUEST_ID}"'
    )


def test_a_refused_method_and_header_name_the_values_and_settings(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    status, body = traced_preflight(client, ALLOWED, "DELETE", "Authorization, X-Tenant")

    assert (status, body) == (400, "Disallowed CORS method, headers")
    [record] = refusals(caplog)
    assert record.__dict__["cors_refusal"] == {
        "origin": ALLOWED,
        "method": "DELETE",
        "headers": "Authorization, X-Tenant",
        "environment": "staging",
        "refused": "method DELETE not in CORS_ALLOW_METHODS; headers x-tenant not in CORS_ALLOW_HEADERS",
        "request_id": REQUEST_ID,
    }


def test_every_refused_part_is_named(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    status, body = traced_preflight(client, "null", "PATCH", "X-Tenant")

    assert (status, body) == (400, "Disallowed CORS origin, method, headers")
    [record] = refusals(caplog)
    assert record.__dict__["cors_refusal"]["refused"].split("; ") == [
        "origin not in CORS_ALLOW_ORIGINS for APP_ENV=staging",
        "method PATCH not in CORS_ALLOW_METHODS",
        "headers x-tenant not in CORS_ALLOW_HEADERS",
    ]


def test_allowed_preflights_and_simple_requests_log_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    status, _ = traced_preflight(client, ALLOWED, "POST", "Authorization")
    client.get("/health", headers={"Origin": "https://evil.test"})

    assert status == 200
    assert refusals(caplog) == []


def test_a_hostile_origin_cannot_break_or_flood_the_line(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    hostile = 'https://evil.test" environment="production' + "a" * 5000

    status, _ = traced_preflight(client, hostile, "GET")

    assert status == 400
    [record] = refusals(caplog)
    line = record.getMessage()
    assert "\n" not in line
    assert line.count('environment="') == 1
    assert 'origin="https://evil.test\\" environment=\\"production' in line
    assert len(line) < VALUE_LIMIT + 300


DEVELOPMENT_FRONTEND = "http://localhost:5173"
REFUSED_PART_NAMES = {"origin": "origin", "method": "method", "headers": "headers", "private": "private-network"}
"""Each explanation line's first word, as Starlette names the part in its ``Disallowed CORS ...`` line."""


@pytest.mark.parametrize(
    ("methods", "headers"), [("GET,PUT", "X-Tenant,authorization"), ("*", "*")], ids=["listed", "any"]
)
def test_the_explanation_names_exactly_the_parts_starlette_refused(
    client_for: ClientFactory, methods: str, headers: str
) -> None:
    """In development a refusal's body holds Starlette's verdict, then the rules the explanation says broke."""
    client = client_for(
        app_env="development",
        cors_allow_origins=DEVELOPMENT_FRONTEND,
        cors_allow_methods=methods,
        cors_allow_headers=headers,
    )
    questions = itertools.product(
        [DEVELOPMENT_FRONTEND, "http://localhost:5174"],
        ["GET", "PUT", "get", "QUERY", "TRACE"],
        [None, "x-tenant", "Content-Type", "Authorization, X-Other"],
        [{}, {"Access-Control-Request-Private-Network": "true"}],
    )
    disagreements = []
    for origin, method, requested, private_network in questions:
        response = preflight(client, origin, method, requested, extra=private_network)
        verdict, *explanation = response.text.splitlines()
        starlettes = set(verdict.removeprefix("Disallowed CORS ").split(", ")) if response.status_code == 400 else set()
        explained = {REFUSED_PART_NAMES[line.split()[1]] for line in explanation if line.startswith("refused: ")}
        if explained != starlettes:
            disagreements.append((origin, method, requested, private_network, starlettes, explained))

    assert disagreements == []
