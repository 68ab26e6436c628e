"""Preflight answers are reused, yet stay exactly Starlette's answers, within a bounded memory.

Starlette's answers, that is, without the ``Access-Control-*`` headers it adds
for an origin it does not allow.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.bounded_cache import MAX_ENTRIES, MAX_KEY_BYTES
from {{ cookiecutter.package_name }}.cors_fastapi import CORSFastAPI
from {{ cookiecutter.package_name }}.cors_middleware import PolicyCORSMiddleware
from {{ cookiecutter.package_name }}.origin_matcher import OriginMatcher
from {{ cookiecutter.package_name }}.settings import Settings

from .cors_requests import client_of, preflight, stock_starlette_client

ALLOWED = "https://app.example.com"
CONFIGURATION = {
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["Authorization", "X-Tenant"],
    "allow_credentials": True,
    "expose_headers": ["X-Total-Count"],
    "max_age": 120,
}

QUESTIONS: dict[str, dict[str, str]] = {
    "allowed": {"Origin": ALLOWED, "Access-Control-Request-Method": "GET"},
    "allowed-with-header": {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-tenant",
    },
    "origin-refused": {"Origin": "https://evil.example.net", "Access-Control-Request-Method": "GET"},
    "method-refused": {"Origin": ALLOWED, "Access-Control-Request-Method": "TRACE"},
    "header-refused": {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-other",
    },
    "private-network-refused": {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true",
    },
    "options-without-request-method": {"Origin": ALLOWED},
}


def configured_client() -> TestClient:
    """A client of the service configured with every CORS option the cache keys on."""
    settings = Settings(
        app_env="staging",
        cors_allow_origins=ALLOWED,
        cors_allow_methods=",".join(CONFIGURATION["allow_methods"]),  # type: ignore[arg-type]
        cors_allow_headers=",".join(CONFIGURATION["allow_headers"]),  # type: ignore[arg-type]
        cors_allow_credentials=True,
        cors_expose_headers="X-Total-Count",
        cors_max_age=120,
    )
    return client_of(create_app(settings))


def cors_middleware(client: TestClient) -> PolicyCORSMiddleware:
    """The service's CORS middleware instance."""
    app = client.app
    assert isinstance(app, CORSFastAPI)
    return app.cors


Answer = tuple[int, list[tuple[str, str]], bytes]


def answer(client: TestClient, headers: dict[str, str]) -> Answer:
    """Status, headers and body; the service's own X-Request-ID (new each time) is left out."""
    response = client.options("/health", headers=headers)
    headers_sent = sorted(h for h in response.headers.multi_items() if h[0] != "x-request-id")
    return response.status_code, headers_sent, response.content


def starlettes_answer(headers: dict[str, str]) -> Answer:
    """Stock Starlette's answer; when it allows no origin, without its Access-Control-* headers."""
    status, items, body = answer(stock_starlette_client(allow_origins=[ALLOWED], **CONFIGURATION), headers)
    if "access-control-allow-origin" not in dict(items):
        items = [(name, value) for name, value in items if not name.startswith("access-control-")]
    return status, items, body


@pytest.mark.parametrize("headers", QUESTIONS.values(), ids=QUESTIONS.keys())
def test_every_answer_is_starlettes_answer_the_first_time_and_after(headers: dict[str, str]) -> None:
    ours = configured_client()

    expected = starlettes_answer(headers)

    assert answer(ours, headers) == expected
    assert answer(ours, headers) == expected
    assert answer(ours, headers) == expected


def test_a_repeated_preflight_is_answered_from_the_cache() -> None:
    client = configured_client()
    middleware = cors_middleware(client)
    question = {"Origin": ALLOWED, "Access-Control-Request-Method": "GET"}

    answer(client, question)
    kept = dict(middleware.preflight_cache)
    answer(client, question)

    assert len(kept) == 1
    assert middleware.preflight_cache == kept


@pytest.mark.parametrize("question", ["origin-refused", "method-refused", "header-refused"])
def test_every_refused_preflight_is_logged_even_when_its_answer_is_kept(
    question: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = configured_client()
    middleware = cors_middleware(client)

    for _ in range(3):
        assert answer(client, QUESTIONS[question])[0] == 400

    assert len(middleware.preflight_cache) == 1
    refusals = [r for r in caplog.records if r.getMessage().startswith("CORS preflight refused")]
    assert len(refusals) == 3
    assert len({r.getMessage().rpartition(" request_id=")[0] for r in refusals}) == 1, "the same line, but its ID"


def test_endless_distinct_origins_use_bounded_memory() -> None:
    client = configured_client()
    middleware = cors_middleware(client)

    for number in range(MAX_ENTRIES + 50):
        assert preflight(client, f"https://{number}.example.net").status_code == 400

    assert len(middleware.preflight_cache) == MAX_ENTRIES
    assert answer(client, {"Origin": ALLOWED, "Access-Control-Request-Method": "GET"})[0] == 200


def test_a_change_of_the_allowed_origins_empties_the_cache() -> None:
    client = configured_client()
    middleware = cors_middleware(client)
    later = "https://later.example.com"
    matchers = [middleware.current_matcher()]
    middleware.current_matcher = lambda: matchers[-1]

    refused = preflight(client, later)
    matchers.append(OriginMatcher([ALLOWED, later]))
    allowed = preflight(client, later)

    assert (refused.status_code, allowed.status_code) == (400, 200)
    assert allowed.headers["access-control-allow-origin"] == later
    assert preflight(client, later).headers["access-control-allow-origin"] == later
    assert len(middleware.preflight_cache) == 1, "the refusal, given under the old origins, is gone"


def test_a_huge_question_is_answered_but_not_kept() -> None:
    client = configured_client()
    middleware = cors_middleware(client)
    headers = ", ".join(f"x-h{n}" for n in range(MAX_KEY_BYTES // 4))

    response = preflight(client, ALLOWED, headers=headers)

    assert response.status_code == 400
    assert middleware.preflight_cache == {}


def test_a_preflight_never_reaches_the_routes() -> None:
    app = create_app(Settings(app_env="staging", cors_allow_origins=ALLOWED))
    reached: list[str] = []

    @app.options("/health")
    async def options_health() -> None:
        reached.append("options")

    client = client_of(app)
    for _ in range(2):
        assert preflight(client, ALLOWED).is_success
    client.options("/health", headers={"Origin": ALLOWED})

    assert reached == ["options"], "only the OPTIONS request that is not a preflight reaches the route"


def test_answers_are_not_mixed_up_between_questions() -> None:
    ours = configured_client()
    questions = list(QUESTIONS.values())

    expected = [starlettes_answer(headers) for headers in questions]

    assert [answer(ours, headers) for headers in questions] == expected
    assert [answer(ours, headers) for headers in reversed(questions)] == expected[::-1]
