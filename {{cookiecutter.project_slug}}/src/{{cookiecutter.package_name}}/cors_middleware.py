"""The CORS middleware: Starlette's protocol for each rule, with origins judged by the policy's matcher.

One :class:`PolicyCORSMiddleware` per rule (frontend, partner, public) runs
Starlette's CORS protocol with that rule's configuration; :class:`CorsRules`
sends each request to the rule that owns it. An origin a rule refuses gets
Starlette's answer without any ``Access-Control-*`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .bounded_cache import BoundedCache
from .cors_policy import CorsPolicy, CorsRule, Environment, RuleName, RuleSelector
from .origin_matcher import OriginMatcher
from .preflight_cache import PreflightAnswer, PreflightQuestion, RawHeaders, preflight_cache, preflight_question
from .refused_preflights import PreflightRefusals
from .simple_response_headers import SimpleResponseHeaders

CurrentMatcher = Callable[[], OriginMatcher]
"""Returns the matcher in force now; a new object whenever the allowed origins change."""


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


class PolicyCORSMiddleware(CORSMiddleware):
    """Starlette's CORS protocol for one :class:`CorsRule`, with origins matched by :class:`OriginMatcher`.

    Starlette keeps the protocol (preflights, simple requests, ``Vary``); only
    the question "is this origin allowed?" is answered by the policy, which
    knows the safe wildcard patterns and never needs a hand-written regex.
    To an origin that is not allowed, Starlette's answer is sent without any
    ``Access-Control-*`` header.

    Starlette's answer to a preflight is kept in a :func:`preflight_cache` and
    sent again to the same question, without building a response or entering
    the routes. A refused preflight is logged whether its answer is new or
    kept (:class:`PreflightRefusals`, rate-limited). The response to every
    other request gets the headers Starlette's ``send`` gave once for its
    ``Origin`` (:class:`~.simple_response_headers.SimpleResponseHeaders`).
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
        self.rule = rule
        self.current_matcher = current_matcher
        self.preflight_cache = preflight_cache(current_matcher())
        self.refusals = PreflightRefusals(rule, environment)
        self.simple_responses = SimpleResponseHeaders(self, current_matcher)

    def is_allowed_origin(self, origin: str) -> bool:
        return self.current_matcher()(origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            question = preflight_question(scope["headers"])
            if question is not None:
                await self.preflight_answer(question, scope).send(send)
                return
        await self.simple_responses(scope, receive, send)

    def preflight_answer(self, question: PreflightQuestion, scope: Scope) -> PreflightAnswer:
        """The answer kept for ``question``, or Starlette's new one, kept; a refusal is logged either way."""
        matcher = self.current_matcher()
        answer = self.preflight_cache.answer(question, matcher)
        if answer is None:
            answer = self.new_preflight_answer(Headers(scope=scope))
            self.preflight_cache.keep(question, answer)
        elif answer.refused:
            self.refusals.log_refusal(Headers(scope=scope), matcher)
        return answer

    def new_preflight_answer(self, request_headers: Headers) -> PreflightAnswer:
        response = self.preflight_response(request_headers)
        headers = response.raw_headers
        if not self.is_allowed_origin(request_headers["origin"]):
            headers = without_cors_headers(headers)
        return PreflightAnswer(response.status_code, headers, bytes(response.body), refused=response.status_code == 400)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        """Starlette's CORS headers on a response; to a refused ``Origin``, without ``Access-Control-*``."""
        origin = request_headers.get("origin")
        if message["type"] == "http.response.start" and origin is not None and not self.is_allowed_origin(origin):
            send = partial(send_without_cors_headers, send=send)
        await super().send(message, send, request_headers)

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer to a preflight; a refusal is also logged, once, and explained in development."""
        response = super().preflight_response(request_headers)
        if response.status_code == 400:
            return self.refusals.answer(response, request_headers, self.current_matcher())
        return response


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
        self.rule_of_origin: BoundedCache[bytes, PolicyCORSMiddleware] = BoundedCache(len)
        """Which rule each ``Origin`` header seen (its raw bytes) belongs to."""

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
        cors = self.rule_of_origin.value(origin)
        if cors is None:
            cors = self.rule_for("", origin.decode("latin-1"))
            self.rule_of_origin.keep(origin, cors)
        return cors


def static_rule(app: ASGIApp, rule: CorsRule | None, environment: Environment) -> PolicyCORSMiddleware | None:
    """The middleware of a rule whose origins never change at run time (partner, public)."""
    if rule is None:
        return None
    matcher = rule.matcher()
    return PolicyCORSMiddleware(app, rule, environment, lambda: matcher)
