"""FastAPI with the service's CORS middleware in front of everything the framework runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from .cors_middleware import CorsRules, CurrentMatcher, PolicyCORSMiddleware
from .cors_policy import CorsPolicy


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
