"""``cors verify``: real requests to a running service, checked against the configuration."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.settings import Settings


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port, in a thread; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the server stopped"
        assert time.monotonic() < deadline, "the server did not start within 10 s"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class AddsAllowAllOrigins:
    """What a misconfigured proxy does: add its own ``Access-Control-Allow-Origin: *`` to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"access-control-allow-origin", b"*")]
            await send(message)

        await self.app(scope, receive, send_with_header)


class CachesIgnoringOrigin:
    """What a misconfigured cache does: keep the first answer for a method and path, whatever the ``Origin``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.kept: dict[tuple[str, str], list[Message]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"])
        if key not in self.kept:
            messages: list[Message] = []

            async def keep(message: Message) -> None:
                messages.append(message)

            await self.app(scope, receive, keep)
            self.kept[key] = messages
        for message in self.kept[key]:
            await send(message)


@pytest.fixture(autouse=True)
def elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in an empty directory: a service that keeps files (a SQLite database) keeps them there."""
    monkeypatch.chdir(tmp_path)


def verify(url: str, environment: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    status = main(["cors", "verify", url, "--env", environment, "--json", "--timeout", "5"])
    return status, json.loads(capsys.readouterr().out)


def failed_checks(report: dict[str, object]) -> set[tuple[str, str, str]]:
    """Kind, case and name of each failed check; ``example of <pattern>`` reads as ``example``."""
    checks = report["checks"]
    assert isinstance(checks, list)
    return {(c["kind"], c["case"].partition(" of ")[0], c["check"]) for c in checks if not c["passed"]}


def configured_origin_failed(failed: set[tuple[str, str, str]], kind: str) -> bool:
    """Whether a configured origin (or an example of a configured pattern) failed its allow-origin check."""
    return bool({(kind, "configured", "allow-origin"), (kind, "example", "allow-origin")} & failed)


@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_a_correct_service_passes(capsys: pytest.CaptureFixture[str], environment: str) -> None:
    with serving(create_app(Settings(app_env=environment))) as url:
        status, report = verify(url, environment, capsys)

    assert (status, failed_checks(report), report["error"]) == (0, set(), None)
    assert report["requests"] == 2 * len({c["origin"] for c in report["checks"]})  # type: ignore[attr-defined]


def test_a_service_started_with_another_environment_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(create_app(Settings(app_env="development"))) as url:
        status, report = verify(url, "production", capsys)

    assert status == 1
    assert configured_origin_failed(failed_checks(report), "preflight")


def test_a_proxy_adding_its_own_allow_origin_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(AddsAllowAllOrigins(create_app(Settings(app_env="production")))) as url:
        status, report = verify(url, "production", capsys)

    assert status == 1
    failed = failed_checks(report)
    assert configured_origin_failed(failed, "request")
    assert ("request", "sandboxed page", "allow-origin") in failed


def test_a_cache_ignoring_origin_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(CachesIgnoringOrigin(create_app(Settings(app_env="production")))) as url:
        status, report = verify(url, "production", capsys)

    assert status == 1
    checks = report["checks"]
    assert isinstance(checks, list)
    cached = [c for c in checks if not c["passed"] and "a cache ignoring Origin?" in c["got"]]
    assert {(c["kind"], c["check"], c["expected"]) for c in cached} >= {
        ("preflight", "allow-origin", "none"),
        ("request", "allow-origin", "none"),
    }


def test_an_unreachable_service_fails_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(create_app(Settings())) as url:
        pass

    status, report = verify(url, "development", capsys)

    assert (status, report["requests"], report["checks"]) == (1, 0, [])
    assert f"no answer from {url}" in str(report["error"])


@pytest.mark.parametrize(
    "base_url", ["ftp://example.com", "https://user:secret@example.com", "https://example.com/?q=1", "127.0.0.1:8000"]
)
def test_an_unusable_base_url_is_one_line_with_status_2(capsys: pytest.CaptureFixture[str], base_url: str) -> None:
    status = main(["cors", "verify", base_url])

    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert captured.err.startswith("{{ cookiecutter.package_name }}: BASE_URL: ")
    assert captured.err.count("\n") == 1
    assert "secret" not in captured.err
