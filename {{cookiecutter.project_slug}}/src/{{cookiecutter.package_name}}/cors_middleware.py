"""Starlette's CORS middleware, driven by this service's checked CORS policy."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from .cors_policy import CorsPolicy, Environment, OriginMatcher

logger = logging.getLogger("{{ cookiecutter.package_name }}")

LOGGED_VALUE_LIMIT = 200
"""Longer request values are cut in the log, so a hostile client cannot flood it."""


class PolicyCORSMiddleware(CORSMiddleware):
    """Starlette's CORS protocol, with origins matched by :class:`OriginMatcher`.

    Starlette keeps the protocol (preflights, simple requests, ``Vary``); only
    the question "is this origin allowed?" is answered by the policy, which
    knows the safe wildcard patterns and never needs a hand-written regex.
    """

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        super().__init__(
            app,
            allow_origins=list(policy.allow_origins),
            allow_methods=list(policy.allow_methods),
            allow_headers=list(policy.allow_headers),
            allow_credentials=policy.allow_credentials,
            expose_headers=list(policy.expose_headers),
            max_age=policy.max_age,
        )
        self.is_origin_allowed = OriginMatcher(policy.allow_origins)
        self.environment = policy.environment

    def is_allowed_origin(self, origin: str) -> bool:
        return self.is_origin_allowed(origin)

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer to a preflight; a refusal is also logged, once."""
        response = super().preflight_response(request_headers)
        if response.status_code == 400:
            self.log_refusal(request_headers)
        return response

    # Diagnostics: explain a refusal Starlette has already decided.

    def log_refusal(self, request_headers: Headers) -> None:
        refusal = RefusedPreflight(
            origin=request_headers["origin"],
            method=request_headers["access-control-request-method"],
            headers=request_headers.get("access-control-request-headers", ""),
            environment=self.environment,
            rules=tuple(self.refused_rules(request_headers)),
        )
        logger.warning(refusal.log_line(), extra={"cors_refusal": refusal.fields()})

    def refused_rules(self, request_headers: Headers) -> list[str]:
        """Name each setting the preflight breaks, with the refused values."""
        rules = []
        if not self.is_allowed_origin(request_headers["origin"]):
            rules.append(f"origin not in CORS_ALLOW_ORIGINS for APP_ENV={self.environment}")
        method = request_headers["access-control-request-method"]
        if method not in self.allow_methods:
            rules.append(f"method {method} not in CORS_ALLOW_METHODS")
        requested = request_headers.get("access-control-request-headers")
        if requested is not None and not self.allow_all_headers:
            refused = [h.strip() for h in requested.lower().split(",") if h.strip() not in self.allow_headers]
            if refused:
                rules.append(f"headers {', '.join(refused)} not in CORS_ALLOW_HEADERS")
        if "access-control-request-private-network" in request_headers and not self.allow_private_network:
            rules.append("private network access is not allowed")
        return rules or ["refused by Starlette's CORS checks"]


@dataclass(frozen=True)
class RefusedPreflight:
    """What a refused preflight asked for, and why it was refused."""

    origin: str
    method: str
    headers: str
    environment: Environment
    rules: tuple[str, ...]

    def fields(self) -> dict[str, str]:
        return {
            "origin": self.origin,
            "method": self.method,
            "headers": self.headers,
            "environment": str(self.environment),
            "refused": "; ".join(self.rules),
        }

    def log_line(self) -> str:
        """``key="value"`` pairs; values are JSON-quoted, so the line stays one line."""
        pairs = (f"{key}={json.dumps(_cut(value))}" for key, value in self.fields().items())
        return "CORS preflight refused: " + " ".join(pairs)


def _cut(value: str) -> str:
    return value if len(value) <= LOGGED_VALUE_LIMIT else value[:LOGGED_VALUE_LIMIT] + "...(cut)"


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


def add_cors(app: FastAPI, policy: CorsPolicy) -> None:
    """Register CORS so that every response carries its headers, a crash's 500 included.

    Starlette runs its own error handler outside all user middleware, so a 500
    would leave without CORS headers and the browser would report a CORS
    failure instead of the error. A second error handler inside the CORS
    middleware answers first; the exception still propagates to the server's log.
    """
    app.add_middleware(ServerErrorMiddleware, handler=internal_error)
    app.add_middleware(PolicyCORSMiddleware, policy=policy)
