"""Cross-origin writes: a forged unsafe request never reaches a route; the frontend's own writes do."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.cross_origin_writes import WriteRules, write_decision
from {{ cookiecutter.package_name }}.settings import ConfigurationError, Settings, load_settings

from .answers import ALL_CASES, CREDENTIALS, LOOKALIKE_CASES, METHODS

LOGGER = "{{ cookiecutter.package_name }}"
SAFE = ["GET", "HEAD", "OPTIONS"]
UNSAFE = ["POST", "PUT", "PATCH", "DELETE"]
NEVER_ALLOWED = next(m for m in ["PROPPATCH", "MKCOL", "LOCK"] if m not in METHODS)
"""An unsafe method the answered CORS_ALLOW_METHODS leave out."""
FOREIGN = "https://evil.test"
CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}
REFUSED = {"detail": "cross-origin request refused"}


@dataclass
class WriteService:
    """The service with a write route that records every request reaching it."""

    client: TestClient
    writes: list[str] = field(default_factory=list)

    def write(self, method: str = "POST", path: str = "/things", **headers: str) -> httpx2.Response:
        return self.client.request(method, path, headers=headers, content=b"x=1")


def write_service(**settings: Any) -> WriteService:
    app = create_app(Settings(**settings))
    service = WriteService(TestClient(app, raise_server_exceptions=False))

    @app.api_route("/things", methods=[*SAFE, *UNSAFE, NEVER_ALLOWED])
    @app.api_route("/hooks/{rest:path}", methods=["POST"])
    @app.api_route("/hooksy", methods=["POST"])
    async def record(request: Request) -> dict[str, str]:
        service.writes.append(f"{request.method} {request.url.path}")
        return {"written": request.method}

    return service


def origins_of(cases: list[tuple[Environment, str]], environment: Environment) -> list[str]:
    return [origin for case_environment, origin in cases if case_environment is environment]


@pytest.mark.parametrize("environment", list(Environment))
def test_a_cross_site_write_from_an_allowed_origin_passes_for_the_allowed_methods(environment: Environment) -> None:
    service = write_service(app_env=environment)
    origins = origins_of(ALL_CASES, environment)

    statuses = {
        (origin, method): service.write(method, Origin=origin, **CROSS_SITE).status_code
        for origin in origins
        for method in UNSAFE
    }

    assert statuses == {(o, m): 200 if m in METHODS else 403 for o in origins for m in UNSAFE}
    assert service.writes == [f"{m} /things" for _ in origins for m in UNSAFE if m in METHODS]


@pytest.mark.parametrize("environment", list(Environment))
def test_a_cross_site_write_from_a_lookalike_never_reaches_the_route(environment: Environment) -> None:
    service = write_service(app_env=environment)
    lookalikes = origins_of(LOOKALIKE_CASES, environment)

    responses = {origin: service.write(Origin=origin, **CROSS_SITE) for origin in lookalikes}

    assert {o: (r.status_code, r.json()) for o, r in responses.items()} == {o: (403, REFUSED) for o in lookalikes}
    assert [o for o, r in responses.items() if "access-control-allow-origin" in r.headers] == []
    assert service.writes == []


@pytest.mark.parametrize("environment", list(Environment))
def test_origin_null_is_refused_even_where_every_origin_is_allowed(environment: Environment) -> None:
    service = write_service(app_env=environment)

    statuses = [service.write(Origin="null", **site).status_code for site in ({}, CROSS_SITE)]

    assert statuses == [403, 403]
    assert service.writes == []


@pytest.mark.parametrize(("environment", "origin"), ALL_CASES[:1])
def test_a_refusal_carries_cors_headers_for_an_allowed_origin_only(environment: Environment, origin: str) -> None:
    service = write_service(app_env=environment)

    refused = service.write(NEVER_ALLOWED, Origin=origin, **CROSS_SITE)

    assert (refused.status_code, refused.json()) == (403, REFUSED)
    assert refused.headers["access-control-allow-origin"] in (origin, "*")
    assert refused.headers.get("access-control-allow-credentials") == ("true" if CREDENTIALS else None)
    assert service.writes == []


@pytest.mark.parametrize(
    ("headers", "reaches"),
    [
        pytest.param({"Sec-Fetch-Site": "same-origin", "Origin": FOREIGN}, True, id="same-origin"),
        pytest.param({"Sec-Fetch-Site": "none"}, True, id="none (typed by the user)"),
        pytest.param({}, True, id="no Origin, no Sec-Fetch-Site (not a browser)"),
        pytest.param({"Origin": "http://testserver"}, True, id="Origin names Host"),
        pytest.param({"Origin": "http://testserver:8080"}, False, id="Origin names Host with another port"),
        pytest.param({"Origin": "http://testserver.evil.test"}, False, id="Origin extends Host"),
        pytest.param({"Origin": FOREIGN}, False, id="foreign Origin, no Sec-Fetch-Site"),
        pytest.param({"Origin": "http://testserver", **CROSS_SITE}, False, id="Origin names Host, yet cross-site"),
        pytest.param({"Origin": FOREIGN, "Sec-Fetch-Site": "same-site"}, False, id="a sibling site"),
        pytest.param({"Origin": FOREIGN, "Sec-Fetch-Site": "nonsense"}, False, id="unknown Sec-Fetch-Site"),
        pytest.param(CROSS_SITE, False, id="cross-site without Origin"),
    ],
)
def test_browser_signals_decide_for_an_origin_the_policy_does_not_name(headers: dict[str, str], reaches: bool) -> None:
    service = write_service(app_env="staging", cors_allow_origins="https://app.example.com")

    response = service.write(**headers)

    assert response.status_code == (200 if reaches else 403)
    assert service.writes == (["POST /things"] if reaches else [])


@pytest.mark.parametrize("method", SAFE)
def test_safe_methods_always_pass(method: str) -> None:
    service = write_service(app_env="staging", cors_allow_origins="https://app.example.com")

    response = service.write(method, Origin=FOREIGN, **CROSS_SITE)

    assert response.status_code == 200
    assert service.writes == [f"{method} /things"]


def test_an_exempt_path_receives_cross_site_posts_on_segment_boundaries_only(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        service = write_service(
            app_env="production", cors_allow_origins="https://app.example.com", csrf_exempt_paths="/hooks/"
        )

    statuses = {
        path: service.write(path=path, Origin=FOREIGN, **CROSS_SITE).status_code
        for path in ["/hooks/stripe", "/hooks/a/b", "/hooksy", "/things"]
    }

    assert statuses == {"/hooks/stripe": 200, "/hooks/a/b": 200, "/hooksy": 403, "/things": 403}
    assert service.writes == ["POST /hooks/stripe", "POST /hooks/a/b"]
    [announced] = [r.getMessage() for r in caplog.records if "CSRF_EXEMPT_PATHS" in r.getMessage()]
    assert announced.startswith("Cross-origin write protection: /hooks and every path below it are exempt")


@pytest.mark.parametrize("environment", list(Environment))
def test_switching_the_protection_off_is_announced_outside_development(
    environment: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        service = write_service(
            app_env=environment, cors_allow_origins="https://app.example.com", csrf_protection=False
        )

    assert service.write(Origin=FOREIGN, **CROSS_SITE).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if "CSRF_PROTECTION=false" in r.getMessage()]
    assert len(warnings) == (0 if environment is Environment.DEVELOPMENT else 1)


def test_a_refusal_is_logged_as_one_structured_line(caplog: pytest.LogCaptureFixture) -> None:
    service = write_service(app_env="staging", cors_allow_origins="https://app.example.com")
    hostile = 'https://evil.test" refused="none'

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        service.write("DELETE", Origin=hostile, **CROSS_SITE)

    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Cross-origin write refused")]
    assert line == (
        'Cross-origin write refused: origin="https://evil.test\\" refused=\\"none" sec_fetch_site="cross-site"'
        ' method="DELETE" path="/things" environment="staging"'
        ' refused="origin not in CORS_ALLOW_ORIGINS for APP_ENV=staging"'
    )


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("CSRF_EXEMPT_PATHS", "hooks", "CSRF_EXEMPT_PATHS: 'hooks' does not start with '/'. Write '/hooks'"),
        ("CSRF_EXEMPT_PATHS", "/", "CSRF_EXEMPT_PATHS: '/' exempts every path"),
        ("CSRF_EXEMPT_PATHS", "/hooks/*", "CSRF_EXEMPT_PATHS: '/hooks/*' uses '*'"),
        (
            "CSRF_EXEMPT_PATHS",
            "/a/../account",
            "CSRF_EXEMPT_PATHS: '/a/../account' has an empty, '.' or '..' segment."
            " Write the path it stands for: '/account'",
        ),
        (
            "CSRF_PROTECTION",
            "maybe",
            "CSRF_PROTECTION: 'maybe' is refused: Input should be a valid boolean",
        ),
    ],
)
def test_a_bad_value_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, setting: str, value: str, message: str
) -> None:
    monkeypatch.setenv(setting, value)

    with pytest.raises(ConfigurationError) as refused:
        load_settings()

    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_exempt_paths_are_read_as_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSRF_EXEMPT_PATHS", '["/hooks/", "/webhooks/stripe", "/hooks"]')

    assert load_settings().csrf_exempt_paths == ("/hooks", "/webhooks/stripe")


@pytest.mark.parametrize(
    ("asked", "allowed", "reason"),
    [
        (("https://app.example.com", "cross-site", "api.example.com", "post", "/x"), True, "allowed by the CORS"),
        (("https://app.example.com", "cross-site", "api.example.com", "TRACE", "/x"), False, "method TRACE not in"),
        ((FOREIGN, "cross-site", "api.example.com", "POST", "/x"), False, "origin not in CORS_ALLOW_ORIGINS"),
        ((FOREIGN, None, "evil.test", "POST", "/x"), True, "Origin names the request's Host"),
        ((None, None, "api.example.com", "PUT", "/x"), True, "not a browser"),
        ((FOREIGN, "cross-site", "api.example.com", "GET", "/x"), True, "GET is a safe method"),
    ],
)
def test_write_decision_explains_itself(asked: tuple[Any, ...], allowed: bool, reason: str) -> None:
    policy = Settings(app_env="production", cors_allow_origins="https://app.example.com").cors_policy
    matcher = policy.matcher()
    rules = WriteRules.for_policy(policy, lambda: matcher)

    decision = write_decision(rules, *asked)

    assert decision.allowed is allowed
    assert reason in decision.reason
