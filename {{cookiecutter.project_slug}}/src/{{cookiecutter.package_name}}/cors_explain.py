"""``cors explain``: what a browser at an origin would get from this service, and why.

The answer is the service's own: the application is built from the same
settings the server reads, started as a server starts it (so the origin
registry, where there is one, loads its stored origins), and sent a preflight
and a simple request in this process. Starlette's answers decide; only the
explanation of a refusal (which rule broke, and near misses) comes from
:mod:`.cors_reasons`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from starlette.types import ASGIApp, Message

from .app import create_app
from .cors_fastapi import CORSFastAPI
from .cors_policy import Environment
from .cors_reasons import BrokenRule, CrossOriginRequest, OriginCheck, broken_rules, explanation
from .origin_matcher import OriginMatcher
from .refused_preflights import logger as refusal_log
from .settings import ConfigurationError, load_other_policies, load_settings

ASGI_VERSION = {"version": "3.0"}
CORS_HEADERS_SHOWN = ("access-control-", "vary")
"""The answer headers an explanation shows: every Access-Control-* header, and Vary."""


@dataclass(frozen=True)
class Answer:
    """The status and CORS headers of one answer, as the service gave them."""

    status: int
    headers: list[tuple[str, str]]

    def value(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


@dataclass(frozen=True)
class Explanation:
    """What a browser would get for one request, and the rule that allowed or the rules that refused it."""

    request: CrossOriginRequest
    environment: Environment
    path: str
    preflight: Answer
    response: Answer
    allowed: bool
    rule: str | None = None
    entry: str | None = None
    refused: list[BrokenRule] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "origin": self.request.origin,
            "environment": str(self.environment),
            "method": self.request.method,
            "headers": list(self.request.headers),
            "credentials": self.request.credentials,
            "path": self.path,
            "allowed": self.allowed,
            "rule": None if self.rule is None else {"name": self.rule, "entry": self.entry},
            "preflight": {
                "sent": self.request.needs_preflight,
                "status": self.preflight.status,
                "headers": [list(h) for h in self.preflight.headers],
            },
            "response": {"headers": [list(h) for h in self.response.headers]},
            "refused": [asdict(rule) | {"notes": list(rule.notes)} for rule in self.refused],
        }

    def text(self) -> str:
        request = self.request
        asked = f"{request.method} {self.path} from {request.origin!r} in APP_ENV={self.environment}"
        if request.headers:
            asked += f" with headers {', '.join(request.headers)}"
        if request.credentials:
            asked += ", with credentials"
        lines = [f"{'allowed' if self.allowed else 'refused'}: {asked}"]
        if self.rule is not None:
            lines.append(f"rule: {self.rule} ({self.entry})")
        if self.refused:
            lines += explanation(self.refused).splitlines()
        if request.needs_preflight:
            lines.append(f"preflight (OPTIONS {self.path}) answers {self.preflight.status}:")
            lines += [f"  {name}: {value}" for name, value in self.preflight.headers]
        else:
            lines.append("no preflight: a browser sends this request as it is")
        lines.append(f"the {request.method} response carries:")
        lines += [f"  {name}: {value}" for name, value in self.response.headers] or ["  no CORS headers"]
        return "\n".join(lines)

    def json_text(self) -> str:
        return json.dumps(self.as_json(), indent=2)


def explain(
    requests: Sequence[CrossOriginRequest], environment: Environment | None = None, path: str = "/health"
) -> list[Explanation]:
    """Ask the service, built from the settings (``APP_ENV`` replaced by ``environment``), about each request.

    The service is started once for all of them. Raises
    :class:`~.settings.ConfigurationError` when the configuration is refused.
    """
    settings = load_settings(**({} if environment is None else {"app_env": environment}))
    app = create_app(settings)
    elsewhere = {env: policy.matcher() for env, policy in load_other_policies(settings.app_env).items()}

    async def ask_all() -> list[Explanation]:
        async with serving(app), quiet(refusal_log):
            return [await ask(app, settings.app_env, request, path, elsewhere) for request in requests]

    return asyncio.run(ask_all())


async def ask(
    app: CORSFastAPI,
    environment: Environment,
    request: CrossOriginRequest,
    path: str,
    elsewhere: Mapping[Environment, OriginCheck],
) -> Explanation:
    """Send the running ``app`` the preflight and the simple request, and judge its answers like a browser."""
    # The service's HTTP parser drops spaces and tabs before a header value (not after it) before the app sees it.
    request = replace(request, origin=request.origin.lstrip(" \t"))
    preflight = await exchange(app, "OPTIONS", path, preflight_headers(request))
    response = await exchange(app, request.method, path, [("origin", request.origin)])
    cors = app.cors_for(path, request.origin)
    matcher = cors.current_matcher()
    allowed = answer_allows(response, request) and (not request.needs_preflight or preflight_allows(preflight, request))
    if allowed:
        entry = allowing_entry(matcher, request)
        return Explanation(request, environment, path, preflight, response, True, str(cors.rule.name), entry)
    refused = broken_rules(cors.rule, matcher, environment, request, elsewhere)
    return Explanation(request, environment, path, preflight, response, False, refused=refused)


def preflight_headers(request: CrossOriginRequest) -> list[tuple[str, str]]:
    headers = [("origin", request.origin), ("access-control-request-method", request.method)]
    if request.headers:
        headers.append(("access-control-request-headers", ", ".join(request.headers)))
    if request.private_network:
        headers.append(("access-control-request-private-network", "true"))
    return headers


def answer_allows(answer: Answer, request: CrossOriginRequest) -> bool:
    """Whether a browser hands this answer to the page: the origin, or ``*`` without credentials."""
    allow_origin = answer.value("access-control-allow-origin")
    if request.credentials:
        return allow_origin == request.origin and answer.value("access-control-allow-credentials") == "true"
    return allow_origin in (request.origin, "*")


def preflight_allows(answer: Answer, request: CrossOriginRequest) -> bool:
    return 200 <= answer.status < 300 and answer_allows(answer, request)


def allowing_entry(matcher: OriginMatcher, request: CrossOriginRequest) -> str | None:
    """The configured entry that matches the origin, asked of the matcher one entry at a time."""
    return next((entry for entry in matcher.entries if OriginMatcher([entry])(request.origin)), None)


@asynccontextmanager
async def quiet(log: logging.Logger) -> AsyncIterator[None]:
    """Silence a logger: the service's refusal log is for real requests, not for explanations."""
    disabled, log.disabled = log.disabled, True
    try:
        yield
    finally:
        log.disabled = disabled


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[None]:
    """Run the application's lifespan around the requests, as a server does."""
    events: asyncio.Queue[Message] = asyncio.Queue()
    replies: asyncio.Queue[Message] = asyncio.Queue()

    async def expect(kind: str) -> None:
        reply = await replies.get()
        if reply["type"] != kind:
            raise ConfigurationError(f"the service did not start: {reply.get('message', reply['type'])}")

    async def lifespan() -> None:
        state: dict[str, object] = {}
        await app({"type": "lifespan", "asgi": ASGI_VERSION, "state": state}, events.get, replies.put)

    task = asyncio.create_task(lifespan())
    await events.put({"type": "lifespan.startup"})
    await expect("lifespan.startup.complete")
    try:
        yield
    finally:
        await events.put({"type": "lifespan.shutdown"})
        await expect("lifespan.shutdown.complete")
        await task


async def exchange(app: ASGIApp, method: str, path: str, headers: Sequence[tuple[str, str]]) -> Answer:
    """One request to ``app`` in this process; the answer's status and CORS headers."""
    scope = {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.encode(), header_bytes(value)) for name, value in headers],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    started: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    await app(scope, receive, send)
    [start] = started
    return Answer(start["status"], cors_headers(start.get("headers", [])))


def header_bytes(value: str) -> bytes:
    """A header value as a client sends it: Latin-1 when it can be, else UTF-8 (as a hostile client may)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()


def cors_headers(raw: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    decoded = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in raw]
    return [(name, value) for name, value in decoded if name.startswith(CORS_HEADERS_SHOWN)]
