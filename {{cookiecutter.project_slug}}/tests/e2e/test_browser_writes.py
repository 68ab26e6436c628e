"""Forged writes where they are forged: a page on a foreign origin posts to the service from Chromium.

Neither a form post nor a ``text/plain`` ``fetch`` needs a preflight, so the
browser sends both with the user's cookies; CORS alone would only hide the
answer. The service's cross-origin write protection must stop them before the
route runs, which the tests check on the server side, while the allowed
frontend's own ``fetch`` ``POST`` reaches the route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ..answers import CREDENTIALS, METHODS
from .conftest import Api, FrontendPage
from .origins import FOREIGN
from .service import WRITE_PATH

pytestmark = pytest.mark.e2e

FrontendAt = Callable[[str], FrontendPage]
FORGED_TEXT: dict[str, Any] = {
    "method": "POST",
    "credentials": "include",
    "headers": {"Content-Type": "text/plain"},
    "body": "amount=1000",
}
POST_ALLOWED = "POST" in METHODS
"""Whether the answered CORS_ALLOW_METHODS let the frontend write with POST."""


def foreign_page() -> tuple[str, bool]:
    """The lookalike page origin, and whether the policy trusts its writes (only '*' would, with POST)."""
    origin, allowed = FOREIGN["lookalike host"]
    return origin, allowed and POST_ALLOWED


def test_a_form_post_from_a_foreign_page_never_reaches_the_route(frontend_at: FrontendAt, api: Api) -> None:
    origin, trusted = foreign_page()
    page = frontend_at(origin)
    sent, written = api.requests("POST", origin, WRITE_PATH), api.writes(origin)

    status = page.submit_form(f"{api.url}{WRITE_PATH}", {"amount": "1000"})

    assert api.requests("POST", origin, WRITE_PATH) - sent == 1, "the browser did not send the form"
    assert (status, api.writes(origin) - written) == ((200, 1) if trusted else (403, 0))


def test_a_text_plain_fetch_from_a_foreign_page_never_reaches_the_route(frontend_at: FrontendAt, api: Api) -> None:
    origin, trusted = foreign_page()
    page = frontend_at(origin)
    sent, written = api.requests("POST", origin, WRITE_PATH), api.writes(origin)

    page.call_api(f"{api.url}{WRITE_PATH}", FORGED_TEXT)

    assert api.requests("POST", origin, WRITE_PATH) - sent == 1, f"the browser did not send it: {page.console}"
    assert api.writes(origin) - written == (1 if trusted else 0)


def test_the_allowed_frontend_writes_with_fetch(frontend_at: FrontendAt, api: Api, page_origins: list[str]) -> None:
    origin = page_origins[0]
    page = frontend_at(origin)
    written = api.writes(origin)
    options = {
        "method": "POST",
        "credentials": "include" if CREDENTIALS else "omit",
        "headers": {"Content-Type": "application/json"},
        "body": '{"amount": 1000}',
    }

    result = page.call_api(f"{api.url}{WRITE_PATH}", options)

    assert api.writes(origin) - written == (1 if POST_ALLOWED else 0), page.console
    if POST_ALLOWED:
        assert result["ok"], f"{result['error']}; the browser said: {page.console}"
        assert (result["status"], result["body"]) == (200, {"written": "yes"})
