"""Starlette's CORS middleware, driven by this service's checked CORS policy."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp

from .cors_policy import CorsPolicy, OriginMatcher

CurrentMatcher = Callable[[], OriginMatcher]
"""Returns the matcher in force now; a new object whenever the allowed origins change."""


class PolicyCORSMiddleware(CORSMiddleware):
    """Starlette's CORS protocol, with origins matched by :class:`OriginMatcher`.

    Starlette keeps the protocol (preflights, simple requests, ``Vary``); only
    the question "is this origin allowed?" is answered by the policy, which
    knows the safe wildcard patterns and never needs a hand-written regex.
    """

    def __init__(self, app: ASGIApp, policy: CorsPolicy, current_matcher: CurrentMatcher) -> None:
        super().__init__(
            app,
            allow_origins=list(policy.allow_origins),
            allow_methods=list(policy.allow_methods),
            allow_headers=list(policy.allow_headers),
            allow_credentials=policy.allow_credentials,
            expose_headers=list(policy.expose_headers),
            max_age=policy.max_age,
        )
        self.current_matcher = current_matcher

    def is_allowed_origin(self, origin: str) -> bool:
        return self.current_matcher()(origin)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


def add_cors(app: FastAPI, policy: CorsPolicy, current_matcher: CurrentMatcher) -> None:
    """Register CORS so that every response carries its headers, a crash's 500 included.

    Starlette runs its own error handler outside all user middleware, so a 500
    would leave without CORS headers and the browser would report a CORS
    failure instead of the error. A second error handler inside the CORS
    middleware answers first; the exception still propagates to the server's log.
    """
    app.add_middleware(ServerErrorMiddleware, handler=internal_error)
    app.add_middleware(PolicyCORSMiddleware, policy=policy, current_matcher=current_matcher)
