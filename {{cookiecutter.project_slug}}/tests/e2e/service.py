"""The service as the browser tests run it: the real application, plus what only the tests need.

``uvicorn tests.e2e.service:create_e2e_app --factory`` builds it with
:func:`~{{ cookiecutter.package_name }}.app.create_app`, so settings, ``.env`` and the CORS
middleware are the real ones. It adds a route that sets response headers
(those listed in ``CORS_EXPOSE_HEADERS`` and one not), a write route that
records each request reaching it, and a log of every request the server
received, so a test can count the browser's preflights and its writes.
"""

from __future__ import annotations

from fastapi import Request, Response
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from {{ cookiecutter.package_name }}.app import create_app

from ..answers import EXPOSED, HEADERS

HIDDEN_HEADER = "X-E2E-Not-Exposed"
SET_BY_ECHO = [name for name in EXPOSED if name.lower() != "x-request-id"]
"""The exposed headers the echo route sets; X-Request-ID is the service's own."""
REQUEST_LOG_PATH = "/e2e/requests"
WRITE_PATH = "/e2e/write"
WRITES_PATH = "/e2e/writes"
PUBLIC_PREFIX = "/e2e/public"
"""The browser tests' public path (``CORS_PUBLIC_PATHS``): any origin may read under it."""


class RequestLog:
    """Records the method, path and ``Origin`` of every request, before CORS answers it.

    ``GET /e2e/requests`` returns the records; the log answers it itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == REQUEST_LOG_PATH:
            await JSONResponse(self.seen)(scope, receive, send)
            return
        if scope["type"] == "http":
            origin = Headers(scope=scope).get("origin", "")
            self.seen.append({"method": scope["method"], "path": scope["path"], "origin": origin})
        await self.app(scope, receive, send)


def create_e2e_app() -> RequestLog:
    app = create_app()

    @app.get(f"{PUBLIC_PREFIX}/catalogue")
    async def catalogue() -> dict[str, list[str]]:
        """A public read: what every origin may fetch without credentials."""
        return {"items": ["public"]}

    @app.get("/e2e/echo")
    async def echo(request: Request, response: Response) -> dict[str, str]:
        """Echo the allowed request headers it received; set an exposed and a hidden response header."""
        for name in SET_BY_ECHO:
            response.headers[name] = f"readable {name}"
        response.headers[HIDDEN_HEADER] = "hidden"
        allowed = {name.lower() for name in HEADERS}
        return {name: value for name, value in request.headers.items() if name in allowed}

    writes: list[dict[str, str]] = []

    @app.post(WRITE_PATH)
    async def write(request: Request) -> dict[str, str]:
        """A state-changing route: records the ``Origin`` of each request that reaches it."""
        writes.append({"origin": request.headers.get("origin", "")})
        return {"written": "yes"}

    @app.get(WRITES_PATH)
    async def written() -> list[dict[str, str]]:
        return writes

    return RequestLog(app)
