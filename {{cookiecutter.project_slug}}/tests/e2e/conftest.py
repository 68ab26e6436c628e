"""A real browser against the real service: Chromium, driven by Playwright, on loopback only.

The service runs under uvicorn in development (``APP_ENV=development``, plus
whatever ``CORS_*`` variables and ``.env`` say, as when you run it). The
frontend page is served by a second server on another port, and Chromium's
``--host-resolver-rules`` make the page's host names (the answered development
origin, a lookalike of it) resolve to that server, so the page runs at exactly
the origin the browser would send.

Without Chromium or Playwright the tests are skipped, except under ``CI=true``,
where they fail: CI must run them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from ..answers import EXPOSED
from .origins import ALLOWED, LOOKALIKE, OTHER_PORT, PARTNER
from .service import PUBLIC_PREFIX, REQUEST_LOG_PATH, WRITES_PATH

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

PROJECT = Path(__file__).resolve().parents[2]
FRONTEND = Path(__file__).with_name("frontend")
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTED = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail under CI, where the browser test must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true, so the browser tests must run)")
    pytest.skip(reason)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="session")
def frontend_port() -> Iterator[int]:
    """Serve ``frontend/`` on a free loopback port; Chromium maps the page origins to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(FRONTEND)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@dataclass
class Api:
    """The service under uvicorn, and what it received."""

    url: str

    def requests(self, method: str, origin: str, path: str = "/e2e/echo") -> int:
        """How many requests of ``method`` to ``path`` came from ``origin``."""
        seen = self.records(REQUEST_LOG_PATH)
        return sum(r["method"] == method and r["path"] == path and r["origin"] == origin for r in seen)

    def writes(self, origin: str) -> int:
        """How many requests from ``origin`` reached the write route."""
        return sum(r["origin"] == origin for r in self.records(WRITES_PATH))

    def records(self, path: str) -> list[dict[str, str]]:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            seen: list[dict[str, str]] = json.load(response)
        return seen


@contextlib.contextmanager
def running_service(environment: Mapping[str, str], settings: Mapping[str, str]) -> Iterator[Api]:
    """Run the service as in development, in ``environment`` with ``settings`` added, on a free loopback port."""
    command = [sys.executable, "-m", "uvicorn", "tests.e2e.service:create_e2e_app", "--factory", "--app-dir", "src"]
    env = {**environment, "APP_ENV": "development", **settings}
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", "0"], cwd=PROJECT, env=env, stdout=log, stderr=log
        )
        try:
            yield Api(wait_for_start(server, log))
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def api() -> Iterator[Api]:
    """The service as configured: the answers, your ``CORS_*`` variables and ``.env``."""
    with running_service(os.environ, {}) as service:
        yield service


@pytest.fixture(scope="session")
def api_exposing_request_id() -> Iterator[Callable[[bool], Api]]:
    """The service with ``X-Request-ID`` added to or removed from the exposed headers (each started once)."""
    others = [name for name in EXPOSED if name.lower() != "x-request-id"]
    environment = dict(os.environ)  # as the session starts: each test runs with CORS_* removed
    services: dict[bool, Api] = {}
    with contextlib.ExitStack() as stack:

        def exposing(exposed: bool) -> Api:
            if exposed not in services:
                listed = {"CORS_EXPOSE_HEADERS": ",".join([*others, "X-Request-ID"] if exposed else others)}
                services[exposed] = stack.enter_context(running_service(environment, listed))
            return services[exposed]

        yield exposing


@pytest.fixture(scope="session")
def api_with_rules(page_origins: list[str]) -> Iterator[Api]:
    """The service with all three audiences: the allowed page as frontend, a partner page, a public path."""
    rules = {"CORS_ALLOW_ORIGINS": page_origins[0], "CORS_PARTNER_ORIGINS": PARTNER, "CORS_PUBLIC_PATHS": PUBLIC_PREFIX}
    with running_service(os.environ, rules) as service:
        yield service


def wait_for_start(server: subprocess.Popen[bytes], log: Any, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.seek(0)
        output = log.read()
        started = STARTED.search(output)
        if started:
            return started[1]
        if server.poll() is not None:
            pytest.fail(f"the service did not start:\n{output}")
        time.sleep(0.05)
    pytest.fail(f"the service did not start within {timeout} s")


def host_and_port(origin: str) -> str:
    url = urlsplit(origin)
    return f"{url.hostname}:{url.port or 80}"


@pytest.fixture(scope="session")
def page_origins() -> list[str]:
    """The allowed page origin first, then the foreign ones."""
    if ALLOWED is None:
        pytest.fail("the browser tests need a development origin such as http://localhost:3000 (http, a name, a port)")
    return [ALLOWED, LOOKALIKE, OTHER_PORT, PARTNER]


@pytest.fixture(scope="session")
def browser(frontend_port: int, page_origins: list[str]) -> Iterator[Browser]:
    """Debian's Chromium, with every page origin's host resolved to the frontend server."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed: pip install -e '.[dev,e2e]'")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH")
    rules = ", ".join(f"MAP {host_and_port(origin)} 127.0.0.1:{frontend_port}" for origin in page_origins)
    with sync_playwright() as playwright:
        # launch() starts from a fresh, temporary user-data directory each time.
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"]
        )
        yield chromium
        chromium.close()


@dataclass
class FrontendPage:
    """The frontend page loaded at one origin, and what the browser said on its console."""

    page: Page
    console: list[str] = field(default_factory=list)

    def call_api(self, url: str, options: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate("([url, options]) => callApi(url, options)", [url, options])
        return result

    def call_api_seeing_the_response(self, url: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """:meth:`call_api`, and the headers of the response as the browser received it (the page may read fewer).

        The headers are empty when no response came (a refused preflight stops the request).
        """
        received: list[Response] = []

        def record(response: Response) -> None:
            if response.url == url and response.request.method != "OPTIONS":
                received.append(response)

        self.page.on("response", record)
        try:
            result = self.call_api(url, options)
        finally:
            self.page.remove_listener("response", record)
        headers: dict[str, str] = received[0].headers if received else {}
        return result, headers

    def submit_form(self, url: str, fields: dict[str, str]) -> int:
        """Post a form from this page to ``url``; the status of the answer the browser navigates to."""
        with self.page.expect_navigation() as navigation:
            self.page.evaluate("([url, fields]) => submitForm(url, fields)", [url, fields])
        response = navigation.value
        return response.status if response is not None else 0


@pytest.fixture
def frontend_at(browser: Browser) -> Iterator[Callable[[str], FrontendPage]]:
    """Open the frontend page at an origin, in a new browser context (own preflight cache)."""
    contexts = []

    def open_at(origin: str) -> FrontendPage:
        context = browser.new_context()
        contexts.append(context)
        frontend = FrontendPage(context.new_page())
        frontend.page.on("console", lambda message: frontend.console.append(message.text))
        frontend.page.goto(f"{origin}/index.html")
        return frontend

    yield open_at
    for context in contexts:
        context.close()
