"""The CORS headers of simple responses are asked of Starlette once per ``Origin``, within a bounded memory.

That they equal stock Starlette's answers, byte for byte, is checked by the
template's differential test; here: what is kept, and for how long.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.bounded_cache import MAX_ENTRIES, MAX_KEY_BYTES
from {{ cookiecutter.package_name }}.cors_fastapi import CORSFastAPI
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.simple_response_headers import SimpleResponseHeaders

from .cors_requests import client_of

ALLOWED = "https://app.example.com"


def client_and_headers() -> tuple[TestClient, SimpleResponseHeaders]:
    app = create_app(Settings(app_env="staging", cors_allow_origins=ALLOWED))
    assert isinstance(app, CORSFastAPI)
    return client_of(app), app.cors.simple_responses


def test_one_answer_is_kept_per_origin_and_used_again() -> None:
    client, headers = client_and_headers()

    first = client.get("/health", headers={"Origin": ALLOWED})
    kept = dict(headers.answers)
    again = client.get("/health", headers={"Origin": ALLOWED})
    client.get("/health")

    assert first.headers["access-control-allow-origin"] == again.headers["access-control-allow-origin"] == ALLOWED
    assert list(kept) == [ALLOWED.encode()]
    assert list(headers.answers) == [ALLOWED.encode(), None], "one more: the answer to requests without Origin"


def test_endless_distinct_origins_use_bounded_memory() -> None:
    client, headers = client_and_headers()

    for number in range(MAX_ENTRIES + 50):
        response = client.get("/health", headers={"Origin": f"https://{number}.example.net"})
        assert "access-control-allow-origin" not in response.headers

    assert len(headers.answers) == MAX_ENTRIES
    assert client.get("/health", headers={"Origin": ALLOWED}).headers["access-control-allow-origin"] == ALLOWED


def test_a_huge_origin_is_answered_but_not_kept() -> None:
    client, headers = client_and_headers()

    response = client.get("/health", headers={"Origin": ALLOWED + "a" * MAX_KEY_BYTES})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert headers.answers == {}
