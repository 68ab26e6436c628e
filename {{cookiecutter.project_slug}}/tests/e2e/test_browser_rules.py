"""The three audiences in Chromium: a partner page reads without credentials, anyone reads a public path.

The service runs with the allowed page as its frontend, ``dashboard.partner.test``
as its partner origin and ``/e2e/public`` as a public path.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Api, FrontendPage
from .origins import LOOKALIKE, PARTNER
from .service import PUBLIC_PREFIX

pytestmark = pytest.mark.e2e

FrontendAt = Callable[[str], FrontendPage]


def test_a_partner_page_reads_without_credentials(frontend_at: FrontendAt, api_with_rules: Api) -> None:
    page = frontend_at(PARTNER)

    result = page.call_api(f"{api_with_rules.url}/e2e/echo", {"credentials": "omit"})

    assert result["ok"], f"{result['error']}; the browser said: {page.console}"
    assert result["status"] == 200


def test_a_partner_page_cannot_read_with_credentials(frontend_at: FrontendAt, api_with_rules: Api) -> None:
    page = frontend_at(PARTNER)

    result = page.call_api(f"{api_with_rules.url}/e2e/echo", {"credentials": "include"})

    assert not result["ok"], "the partner rule never allows credentials, so the browser must hide the answer"
    assert api_with_rules.requests("GET", PARTNER) >= 1, "the request reached the service; only its answer is hidden"


def test_an_unlisted_page_reads_a_public_path(frontend_at: FrontendAt, api_with_rules: Api) -> None:
    page = frontend_at(LOOKALIKE)

    public = page.call_api(f"{api_with_rules.url}{PUBLIC_PREFIX}/catalogue", {"credentials": "omit"})
    private = page.call_api(f"{api_with_rules.url}/e2e/echo", {"credentials": "omit"})

    assert public["ok"], f"{public['error']}; the browser said: {page.console}"
    assert public["body"] == {"items": ["public"]}
    assert not private["ok"], "outside the public path the unlisted page is refused"
