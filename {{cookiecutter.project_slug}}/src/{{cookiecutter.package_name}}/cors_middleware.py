"""Starlette's CORS middleware, driven by this service's checked CORS policy."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .cors_policy import CorsPolicy, CorsRule, Environment, RuleName, RuleSelector
from .cors_reasons import BrokenRule, CrossOriginRequest, broken_rules, explanation
from .origin_matcher import OriginMatcher
from .refusal_log import RefusalLog
from .request_id import current_request_id

logger = logging.getLogger("{{ cookiecutter.package_name }}")

LOGGED_VALUE_LIMIT = 200
"""Longer request values are cut in the log, so a hostile client cannot flood it."""

CurrentMatcher = Callable[[], OriginMatcher]
"""Returns the matcher in force now; a new object whenever the allowed origins change."""

PREFLIGHT_CACHE_ENTRIES = 1024
"""How many distinct preflight answers are kept; the oldest goes first when full."""

PREFLIGHT_CACHE_KEY_BYTES = 1024
"""Preflights whose origin and requested method and headers are longer are answered but not kept."""

PreflightKey = tuple[bytes, bytes, bytes | None, bytes | None]

RawHeaders = list[tuple[bytes, bytes]]


def without_cors_headers(headers: RawHeaders) -> RawHeaders:
    """The headers of an answer to a refused origin: no ``Access-Control-*`` one (``Vary`` stays).

    Starlette adds its configuration (allowed methods and headers, credentials,
    exposed headers) to refusals too; a browser ignores them there, but they
    tell a scanner what the service allows.
    """
    return [(name, value) for name, value in headers if not name.lower().startswith(b"access-control-")]


async def send_without_cors_headers(message: Message, send: Send) -> None:
    if message["type"] == "http.response.start":
        message["headers"] = without_cors_headers(list(message.get("headers", [])))
    await send(message)


@dataclass(frozen=True, slots=True)
class PreflightAnswer:
    """Starlette's answer to one preflight, kept as the ASGI messages that send it."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    refused: bool

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body})


class PolicyCORSMiddleware(CORSMiddleware):
    """Starlette's CORS protocol, with origins matched by :class:`OriginMatcher`.

    Starlette keeps the protocol (preflights, simple requests, ``Vary``); only
    the question "is this origin allowed?" is answered by the policy, which
    knows the safe wildcard patterns and never needs a hand-written regex.
    To an origin that is not allowed, Starlette's answer is sent without any
    ``Access-Control-*`` header.

    A preflight's answer depends only on its origin, method and requested
    headers, so Starlette's answer is kept and sent again for the same
    question, without building a response or entering the routes. The cache
    holds at most :data:`PREFLIGHT_CACHE_ENTRIES` answers, so endless distinct
    origins cost memory no more than that, and it is emptied whenever the
    allowed origins change. A refused preflight is logged whether its answer
    is new or kept, at most :data:`~.refusal_log.DEFAULT_PER_SECOND` lines a
    second (:class:`RefusalLog` counts the rest).
    """

    def __init__(self, app: ASGIApp, rule: CorsRule, environment: Environment, current_matcher: CurrentMatcher) -> None:
        super().__init__(
            app,
            allow_origins=list(rule.allow_origins),
            allow_methods=list(rule.allow_methods),
            allow_headers=list(rule.allow_headers),
            allow_credentials=rule.allow_credentials,
            expose_headers=list(rule.expose_headers),
            max_age=rule.max_age,
        )
        self.rule = rule.name
        self.current_matcher = current_matcher
        self.environment = environment
        self.preflight_answers: dict[PreflightKey, PreflightAnswer] = {}
        self._answers_matcher = current_matcher()
        self.refusal_log = RefusalLog(logger, "cors_refusal")

    def is_allowed_origin(self, origin: str) -> bool:
        return self.current_matcher()(origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            key = preflight_key(scope["headers"])
            if key is not None:
                await self.preflight_answer(key, scope).send(send)
                return
        await super().__call__(scope, receive, send)

    def preflight_answer(self, key: PreflightKey, scope: Scope) -> PreflightAnswer:
        matcher = self.current_matcher()
        if matcher is not self._answers_matcher:
            self.preflight_answers.clear()
            self._answers_matcher = matcher
        answer = self.preflight_answers.get(key)
        if answer is None:
            request_headers = Headers(scope=scope)
            response = self.preflight_response(request_headers)
            headers = response.raw_headers
            if not self.is_allowed_origin(request_headers["origin"]):
                headers = without_cors_headers(headers)
            answer = PreflightAnswer(
                response.status_code, headers, bytes(response.body), refused=response.status_code == 400
            )
            self.keep(key, answer)
        elif answer.refused:
            self.log_refusal(Headers(scope=scope))
        return answer

    def keep(self, key: PreflightKey, answer: PreflightAnswer) -> None:
        if sum(len(part or b"") for part in key) > PREFLIGHT_CACHE_KEY_BYTES:
            return
        if len(self.preflight_answers) >= PREFLIGHT_CACHE_ENTRIES:
            del self.preflight_answers[next(iter(self.preflight_answers))]
        self.preflight_answers[key] = answer

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if origin is not None and not self.is_allowed_origin(origin):
            send = partial(send_without_cors_headers, send=send)
        await super().simple_response(scope, receive, send, request_headers)

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer to a preflight; a refusal is also logged, once."""
        response = super().preflight_response(request_headers)
        if response.status_code == 400:
            self.log_refusal(request_headers)
            if self.environment is Environment.DEVELOPMENT:
                return explained_refusal(response, self.broken_rules(request_headers))
        return response

    # Diagnostics: explain a refusal Starlette has already decided.

    def log_refusal(self, request_headers: Headers) -> None:
        refusal = RefusedPreflight(
            origin=request_headers["origin"],
            method=request_headers["access-control-request-method"],
            headers=request_headers.get("access-control-request-headers", ""),
            environment=self.environment,
            rules=tuple(self.refused_rules(request_headers)),
            request_id=current_request_id() or "",
        )
        self.refusal_log.warning(refusal.log_line(), refusal.fields())

    def refused_rules(self, request_headers: Headers) -> list[str]:
        """Name each setting the preflight breaks, with the refused values."""
        return [rule.rule for rule in self.broken_rules(request_headers)]

    def broken_rules(self, request_headers: Headers) -> list[BrokenRule]:
        requested = request_headers.get("access-control-request-headers")
        request = CrossOriginRequest(
            origin=request_headers["origin"],
            method=request_headers["access-control-request-method"],
            headers=() if requested is None else tuple(h.strip() for h in requested.split(",")),
            private_network="access-control-request-private-network" in request_headers,
        )
        return broken_rules(self, self.environment, request, self.current_matcher().entries, rule=self.rule)


class CorsRules:
    """Sends each request to the rule that owns it, each rule its own Starlette configuration.

    A path under a public prefix belongs to the public rule (every origin may
    read, never with credentials); otherwise an ``Origin`` the partner rule
    allows belongs to it (read-only, never with credentials); everything else,
    requests without ``Origin`` included, to the frontend rule. Choosing is one
    path lookup and one origin lookup; each rule keeps its own preflight cache.
    """

    def __init__(self, app: ASGIApp, policy: CorsPolicy, frontend: PolicyCORSMiddleware) -> None:
        self.frontend = frontend
        self.partner = static_rule(app, policy.partner_rule(), policy.environment)
        self.public = static_rule(app, policy.public_rule(), policy.environment)
        self.select = RuleSelector(policy)
        self.rule_of_origin: dict[bytes, PolicyCORSMiddleware] = {}
        """Which rule each ``Origin`` header seen (its raw bytes) belongs to, bounded like the preflight cache."""

    @property
    def has_more_than_the_frontend(self) -> bool:
        return self.partner is not None or self.public is not None

    def rule_for(self, path: str, origin: str | None) -> PolicyCORSMiddleware:
        """The middleware that answers a request for ``path`` from ``origin`` (None: no ``Origin`` header)."""
        rule = self.select(path, origin)
        if rule is RuleName.PUBLIC and self.public is not None:
            return self.public
        if rule is RuleName.PARTNER and self.partner is not None:
            return self.partner
        return self.frontend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.frontend(scope, receive, send)
            return
        if self.public is not None and self.select.public_paths(scope["path"]) is not None:
            await self.public(scope, receive, send)
            return
        origin = next((value for name, value in scope["headers"] if name == b"origin"), None)
        await (self.frontend if origin is None else self.origin_rule(origin))(scope, receive, send)

    def origin_rule(self, origin: bytes) -> PolicyCORSMiddleware:
        """The rule of a request with this ``Origin`` outside the public paths, looked up once per origin."""
        cors = self.rule_of_origin.get(origin)
        if cors is None:
            cors = self.rule_for("", origin.decode("latin-1"))
            if len(origin) <= PREFLIGHT_CACHE_KEY_BYTES:
                if len(self.rule_of_origin) >= PREFLIGHT_CACHE_ENTRIES:
                    del self.rule_of_origin[next(iter(self.rule_of_origin))]
                self.rule_of_origin[origin] = cors
        return cors


def static_rule(app: ASGIApp, rule: CorsRule | None, environment: Environment) -> PolicyCORSMiddleware | None:
    """The middleware of a rule whose origins never change at run time (partner, public)."""
    if rule is None:
        return None
    matcher = rule.matcher()
    return PolicyCORSMiddleware(app, rule, environment, lambda: matcher)


@dataclass(frozen=True)
class RefusedPreflight:
    """What a refused preflight asked for, and why it was refused."""

    origin: str
    method: str
    headers: str
    environment: Environment
    rules: tuple[str, ...]
    request_id: str

    def fields(self) -> dict[str, str]:
        return {
            "origin": self.origin,
            "method": self.method,
            "headers": self.headers,
            "environment": str(self.environment),
            "refused": "; ".join(self.rules),
            "request_id": self.request_id,
        }

    def log_line(self) -> str:
        return structured_line("CORS preflight refused", self.fields())


def structured_line(event: str, fields: Mapping[str, str]) -> str:
    """``key="value"`` pairs; values are JSON-quoted and cut, so the line stays one short line."""
    pairs = (f"{key}={json.dumps(_cut(value))}" for key, value in fields.items())
    return f"{event}: " + " ".join(pairs)


def _cut(value: str) -> str:
    return value if len(value) <= LOGGED_VALUE_LIMIT else value[:LOGGED_VALUE_LIMIT] + "...(cut)"


def explained_refusal(refusal: Response, rules: list[BrokenRule]) -> Response:
    """Starlette's refusal with a body that says why, as ``cors explain`` would: for development only."""
    body = f"{bytes(refusal.body).decode()}\n{explanation(rules)}\n(this explanation is sent in development only)\n"
    headers = {k: v for k, v in refusal.headers.items() if k not in ("content-length", "content-type")}
    return PlainTextResponse(body, status_code=refusal.status_code, headers=headers)


def preflight_key(raw_headers: list[tuple[bytes, bytes]]) -> PreflightKey | None:
    """What a preflight's answer depends on, or None if the request is not a preflight.

    Like Starlette's ``Headers``, the first of repeated headers counts.
    """
    origin = method = requested_headers = private_network = None
    for name, value in raw_headers:
        if name == b"origin":
            origin = origin if origin is not None else value
        elif name == b"access-control-request-method":
            method = method if method is not None else value
        elif name == b"access-control-request-headers":
            requested_headers = requested_headers if requested_headers is not None else value
        elif name == b"access-control-request-private-network":
            private_network = private_network if private_network is not None else value
    if origin is None or method is None:
        return None
    return origin, method, requested_headers, private_network


class CORSFastAPI(FastAPI):
    """FastAPI with the CORS middleware in front of everything the framework runs.

    FastAPI passes each request through its own layers (telemetry, the error
    handler, the body limit) before any added middleware. Here CORS comes
    first: a preflight is answered before the framework sees it, and every
    response the framework gives, its 500 for a crash included, passes back
    through CORS and carries the CORS headers, so a browser shows the real
    error instead of a CORS failure.
    """

    def __init__(self, policy: CorsPolicy, current_matcher: CurrentMatcher, **options: Any) -> None:
        super().__init__(**options)
        self.add_exception_handler(Exception, internal_error)
        self.cors = PolicyCORSMiddleware(super().__call__, policy.frontend_rule(), policy.environment, current_matcher)
        self.cors_rules = CorsRules(super().__call__, policy, self.cors)
        self.front: ASGIApp = self.cors_rules if self.cors_rules.has_more_than_the_frontend else self.cors

    def cors_for(self, path: str, origin: str | None) -> PolicyCORSMiddleware:
        """The CORS rule's middleware that answers a request for ``path`` from ``origin``."""
        return self.cors_rules.rule_for(path, origin)

    def add_front_middleware(self, middleware: Callable[[ASGIApp], ASGIApp]) -> None:
        """Put ``middleware`` in front of CORS too: it sees every request and response, preflights included."""
        self.front = middleware(self.front)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A crash's answer, in the API's JSON form; the exception still reaches the server's log."""
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
