"""One ID per request: kept from the caller when it is a sane token, otherwise new.

:class:`RequestIdMiddleware` is pure ASGI and sits in front of everything
else, CORS included, so every response carries ``X-Request-ID``: errors and
preflight answers too. While a request is served, :func:`current_request_id`
returns its ID, so log lines written meanwhile can name it; the refused-preflight
line does, and :class:`AccessLogRequestId` adds it to uvicorn's access log.
"""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"

MAX_LENGTH = 128
"""Longer incoming IDs are replaced, so a client cannot bloat every log line."""

SANE_ID = re.compile(rb"[A-Za-z0-9._:+/=@-]{1,%d}" % MAX_LENGTH)
"""Letters, digits and ``._:+/=@-``: UUIDs, hex, base64 and most tracing IDs pass; no spaces, quotes or commas."""

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The ID of the request being served now, or None outside a request."""
    return _current.get()


def request_id_for(raw_headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` when it is sane (the first one counts), otherwise a new random ID.

    A new ID is 128 random bits in hex, as long as a UUID's hex form; building a
    ``uuid.UUID`` object would cost four times as much, on every request.
    """
    incoming = next((value for name, value in raw_headers if name == HEADER), None)
    if incoming is not None and SANE_ID.fullmatch(incoming):
        return incoming.decode("ascii")
    return os.urandom(16).hex()


class RequestIdMiddleware:
    """Give each HTTP request an ID and set it on its response, replacing any the application set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(scope["headers"])
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != HEADER]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        token = _current.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


class AccessLogRequestId(logging.Filter):
    """Adds the request ID to uvicorn's access log records.

    Each record gets a ``request_id`` attribute (for JSON formatters), and the
    client address its line starts with reads ``127.0.0.1:51234 request_id=...``,
    so uvicorn's own text format shows it too. uvicorn writes the line while
    the response starts, inside the request, so the ID is known.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        record.request_id = request_id
        if request_id is not None and isinstance(record.args, tuple) and len(record.args) == 5:
            client, *rest = record.args
            record.args = (f"{client} request_id={request_id}", *rest)
        return True


ACCESS_LOG_FILTER = AccessLogRequestId()


def add_request_id_to_access_log() -> None:
    """Install :class:`AccessLogRequestId` on uvicorn's access logger (once, however often called)."""
    logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)
