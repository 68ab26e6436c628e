"""Deliberately broken CORS services: Starlette's stock middleware, misconfigured the classic ways.

Each factory is served by uvicorn (``--factory``) so the battery can show that
it catches them. All are meant to allow https://app.example.com only, with
credentials; the last one also checks writes, badly.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

INTENDED_ORIGIN = "https://app.example.com"


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def service(**cors: Any) -> Starlette:
    middleware = Middleware(CORSMiddleware, allow_credentials=True, allow_methods=["GET"], **cors)
    return Starlette(routes=[Route("/health", health)], middleware=[middleware])


def unescaped_regex() -> Starlette:
    """The dot is unescaped and the subdomain part unanchored: any host ending in 'example.com' passes."""
    return service(allow_origin_regex=r"https://.*example.com")


def all_origins_with_credentials() -> Starlette:
    """'*' with credentials: Starlette then reflects every origin, so any page can act as the user."""
    return service(allow_origins=["*"])


def tells_refused_origins_the_configuration() -> Starlette:
    """Configured right, but stock Starlette sends its allowed methods, headers and credentials to every origin."""
    return service(allow_origins=[INTENDED_ORIGIN], allow_headers=["Authorization"], expose_headers=["X-Total-Count"])


def trusts_null_and_http_twin() -> Starlette:
    """Sandboxed iframes send 'null'; the http twin can be served by anyone on the network path."""
    return service(allow_origins=[INTENDED_ORIGIN, "null", INTENDED_ORIGIN.replace("https", "http")])


def suffix_checked_writes() -> Starlette:
    """A hand-written write check: any ``Origin`` ending in the allowed host passes, whatever the method."""

    async def check(request: Request, call_next: RequestResponseEndpoint) -> Response:
        origin = request.headers.get("origin", "")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin and not origin.endswith("app.example.com"):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        return await call_next(request)

    app = service(allow_origins=[INTENDED_ORIGIN])
    app.add_middleware(BaseHTTPMiddleware, dispatch=check)
    return app
