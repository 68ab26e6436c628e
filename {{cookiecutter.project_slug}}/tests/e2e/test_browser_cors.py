"""CORS where it is enforced: Chromium runs the frontend page and calls the service.

Run with ``pytest -m e2e`` (the default run leaves these out). Each test opens
the page at one origin and calls ``GET /e2e/echo`` through the page's own
``fetch()``; what the page can read is what the browser allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from ..answers import CREDENTIALS, HEADERS, MAX_AGE
from .conftest import Api, FrontendPage
from .origins import FOREIGN
from .service import HIDDEN_HEADER, SET_BY_ECHO

pytestmark = pytest.mark.e2e

SAFELISTED = {"accept", "accept-language", "content-language", "content-type"}
CUSTOM_HEADER = next((h for h in HEADERS if h.lower() == "authorization"), None) or next(
    (h for h in HEADERS if h.lower() not in SAFELISTED and h != "*"), None
)
"""A request header that makes the browser send a preflight: Authorization when allowed."""
HEADER_VALUE = "Bearer e2e-token"
FETCH_OPTIONS: dict[str, Any] = {
    "credentials": "include" if CREDENTIALS else "omit",
    "headers": {CUSTOM_HEADER: HEADER_VALUE} if CUSTOM_HEADER else {},
}
FrontendAt = Callable[[str], FrontendPage]


def test_the_allowed_origin_reads_the_json(frontend_at: FrontendAt, api: Api, page_origins: list[str]) -> None:
    page = frontend_at(page_origins[0])
    before = api.requests("OPTIONS", page_origins[0])

    result = page.call_api(f"{api.url}/e2e/echo?case=allowed", FETCH_OPTIONS)

    assert result["ok"], f"{result['error']}; the browser said: {page.console}"
    assert result["status"] == 200
    if CUSTOM_HEADER:
        assert result["body"] == {CUSTOM_HEADER.lower(): HEADER_VALUE}
        assert api.requests("OPTIONS", page_origins[0]) - before == 1, "the browser sent no preflight"


@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_a_foreign_origin_is_blocked_unless_the_answers_allow_it(
    case: str, frontend_at: FrontendAt, api: Api, page_origins: list[str]
) -> None:
    origin, allowed = FOREIGN[case]
    page = frontend_at(origin)

    result = page.call_api(f"{api.url}/e2e/echo", FETCH_OPTIONS)

    if allowed:
        assert result["ok"], f"{origin} is allowed by the answers: {result['error']}; {page.console}"
        return
    assert not result["ok"], f"the page at {origin} read the response: {result}"
    assert result["error"] == "TypeError: Failed to fetch"
    assert any("blocked by CORS policy" in message for message in page.console), page.console
    if CUSTOM_HEADER:
        assert api.requests("GET", origin) == 0, "the browser sent the request although its preflight was refused"


def test_only_exposed_response_headers_are_readable(frontend_at: FrontendAt, api: Api, page_origins: list[str]) -> None:
    page = frontend_at(page_origins[0])

    result = page.call_api(f"{api.url}/e2e/echo", FETCH_OPTIONS)

    assert result["ok"], f"{result['error']}; the browser said: {page.console}"
    readable = result["headers"]
    assert {name.lower(): readable.get(name.lower()) for name in SET_BY_ECHO} == {
        name.lower(): f"readable {name}" for name in SET_BY_ECHO
    }
    assert HIDDEN_HEADER.lower() not in readable


def test_a_preflight_answer_is_cached_for_max_age(frontend_at: FrontendAt, api: Api, page_origins: list[str]) -> None:
    page = frontend_at(page_origins[0])
    url = f"{api.url}/e2e/echo?case=max-age"
    before = api.requests("OPTIONS", page_origins[0])

    results = [page.call_api(url, FETCH_OPTIONS) for _ in range(2)]

    assert all(result["ok"] for result in results), f"{results}; the browser said: {page.console}"
    preflights = api.requests("OPTIONS", page_origins[0]) - before
    if not CUSTOM_HEADER:
        assert preflights == 0, "a simple request needs no preflight"
    elif MAX_AGE > 0:
        assert preflights == 1, f"Access-Control-Max-Age is {MAX_AGE}, yet the browser sent {preflights} preflights"
    else:
        assert preflights == 2, "Access-Control-Max-Age is 0, so each request needs its own preflight"


@pytest.mark.parametrize("exposed", [True, False], ids=["exposed", "not-exposed"])
def test_the_request_id_is_readable_only_when_exposed(
    exposed: bool, frontend_at: FrontendAt, api_exposing_request_id: Callable[[bool], Api], page_origins: list[str]
) -> None:
    """Whatever the answers, once with X-Request-ID in CORS_EXPOSE_HEADERS and once without."""
    api = api_exposing_request_id(exposed)
    page = frontend_at(page_origins[0])

    result, received = page.call_api_seeing_the_response(f"{api.url}/e2e/echo?case=request-id", FETCH_OPTIONS)

    assert result["ok"], f"{result['error']}; the browser said: {page.console}"
    request_id = received.get("x-request-id", "")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), f"the service sent no new request ID: {received}"
    if exposed:
        assert result["headers"].get("x-request-id") == request_id
    else:
        assert "x-request-id" not in result["headers"], "the page read a header CORS_EXPOSE_HEADERS does not list"
