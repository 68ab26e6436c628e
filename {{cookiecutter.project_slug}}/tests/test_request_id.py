"""Every response carries an X-Request-ID: the caller's when it is sane, a new one otherwise."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

import pytest
from fastapi import Request, Response
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.request_id import MAX_LENGTH, RequestIdMiddleware, add_request_id_to_access_log
from {{ cookiecutter.package_name }}.settings import Settings

from .cors_requests import ClientFactory, client_of, preflight

ALLOWED = "https://app.example.com"
NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def client(client_for: ClientFactory) -> TestClient:
    return client_for(app_env="staging", cors_allow_origins=ALLOWED, cors_allow_methods="GET")


def test_each_response_gets_a_new_id(client: TestClient) -> None:
    first, second = (client.get("/health").headers["x-request-id"] for _ in range(2))

    assert NEW_ID.fullmatch(first)
    assert NEW_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "incoming",
    ["0b6d9c1e-5f2a-4c3b-9e8d-7a6b5c4d3e2f", "Root=1-5759e988-bd862e3fe1be46a994272793", "a" * MAX_LENGTH],
)
def test_a_sane_incoming_id_is_kept(client: TestClient, incoming: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": incoming})

    assert response.headers.get_list("x-request-id") == [incoming]


@pytest.mark.parametrize(
    "incoming",
    ["", "a" * (MAX_LENGTH + 1), "id with spaces", 'quote"d', "a,b", "evil\\nline", "caf\u00e9"],
    ids=["empty", "too-long", "spaces", "quote", "comma", "backslash", "non-ascii"],
)
def test_an_insane_incoming_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/health", headers={b"X-Request-ID": incoming.encode()})

    [replaced] = response.headers.get_list("x-request-id")
    assert NEW_ID.fullmatch(replaced)


@pytest.mark.parametrize(("origin", "status"), [(ALLOWED, 200), ("https://evil.example.net", 400)])
def test_preflights_carry_it_whether_allowed_or_refused(client: TestClient, origin: str, status: int) -> None:
    for _ in range(2):  # the second answer comes from the preflight cache
        response = preflight(client, origin, extra={"X-Request-ID": "pre-1"})

        assert response.status_code == status
        assert response.headers.get_list("x-request-id") == ["pre-1"]


def test_errors_carry_it() -> None:
    app = create_app(Settings(app_env="staging", cors_allow_origins=ALLOWED))

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    client = client_of(app)
    crashed = client.get("/crash", headers={"Origin": ALLOWED, "X-Request-ID": "crash-1"})
    missing = client.get("/nowhere")

    assert (crashed.status_code, crashed.headers["x-request-id"]) == (500, "crash-1")
    assert crashed.headers["access-control-allow-origin"] == ALLOWED
    assert missing.status_code == 404
    assert NEW_ID.fullmatch(missing.headers["x-request-id"])


def test_an_id_set_by_a_route_is_replaced_by_the_requests_own() -> None:
    app = create_app(Settings(app_env="staging", cors_allow_origins=ALLOWED))

    @app.get("/sets-its-own")
    async def sets_its_own() -> dict[str, str]:
        return {}

    @app.middleware("http")
    async def forge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["X-Request-ID"] = "forged"
        return response

    response = client_of(app).get("/sets-its-own", headers={"X-Request-ID": "real-1"})

    assert response.headers.get_list("x-request-id") == ["real-1"]


def test_the_refused_preflight_line_names_it(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    preflight(client, "https://evil.example.net", extra={"X-Request-ID": "refused-1"})

    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("CORS preflight refused")]
    assert line.endswith(' request_id="refused-1"')


def test_uvicorns_access_log_line_names_it(caplog: pytest.LogCaptureFixture) -> None:
    """Like uvicorn, the "server" below logs the access line when the response starts."""
    add_request_id_to_access_log()
    access_log = logging.getLogger("uvicorn.access")

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def server_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            access_log.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", "/health", "1.1", message["status"])

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope: Scope = {"type": "http", "method": "GET", "path": "/health", "headers": [(b"x-request-id", b"access-1")]}
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        asyncio.run(RequestIdMiddleware(application)(scope, receive, server_send))

    [record] = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert record.getMessage() == '127.0.0.1:50000 request_id=access-1 - "GET /health HTTP/1.1" 204'
    assert record.__dict__["request_id"] == "access-1"
