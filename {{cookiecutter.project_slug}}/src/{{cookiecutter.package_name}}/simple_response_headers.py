"""The CORS headers of responses to simple requests, asked of Starlette once per ``Origin`` and kept as bytes.

Starlette's ``CORSMiddleware`` adds its headers to every response that is not
a preflight answer: it reads the request's headers into a ``Headers``, wraps
``send``, and edits each response's headers through a ``MutableHeaders``.
What it adds depends only on the ``Origin`` header (or its absence) and the
configuration, so :class:`SimpleResponseHeaders` asks Starlette once per
``Origin`` what it adds to a response that has no CORS or ``Vary`` header of
its own, keeps those bytes, and appends them to each such response. A
response that does carry one of those headers is handed to Starlette's own
``send`` instead, so every answer stays Starlette's, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .bounded_cache import AnswerCache

RawHeaders = list[tuple[bytes, bytes]]

EDITED_NAMES = (b"access-control-", b"vary")
"""What the names of the headers Starlette's CORS ``send`` edits start with, once lower-cased."""

EDITED_FIRST_LETTERS = frozenset((b"a", b"A", b"v", b"V"))
"""The first letters of those names: most other names are told apart by their first byte alone."""


class StarletteCORS(Protocol):
    """What is used of a Starlette ``CORSMiddleware``: the app it wraps and its response-editing ``send``."""

    app: ASGIApp

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None: ...


def carries_cors_or_vary(headers: RawHeaders) -> bool:
    """Whether a response may have a ``Vary`` or ``Access-Control-*`` header, which Starlette would merge or replace.

    A name that only starts like one (``Vary-Extra``) counts too: such a
    response is merely given to Starlette's own ``send``.
    """
    for name, _ in headers:  # noqa: SIM110 (any() over a generator costs more, on every response)
        if name[:1] in EDITED_FIRST_LETTERS and name.lower().startswith(EDITED_NAMES):
            return True
    return False


class SimpleResponseHeaders:
    """Starlette's CORS answer to simple requests, from headers it gave once per ``Origin``.

    ``cors.send`` is asked what it adds to an empty response for each
    ``Origin`` value (the first header counts, as in Starlette's ``Headers``;
    None is a request without one). The answers are kept in a
    :class:`~.bounded_cache.AnswerCache`, all forgotten when
    ``current_matcher`` returns a new matcher (the allowed origins changed).
    """

    def __init__(self, cors: StarletteCORS, current_matcher: Callable[[], object]) -> None:
        self.cors = cors
        self.current_matcher = current_matcher
        self.answers: AnswerCache[bytes | None, RawHeaders] = AnswerCache(origin_size, current_matcher())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request that is not a preflight through the wrapped app, adding Starlette's CORS headers."""
        origin = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
                break
        added = self.answers.answer(origin, self.current_matcher())
        if added is None:
            added = await self.ask_starlette(origin)
            self.answers.keep(origin, added)

        async def send_with_cors_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if carries_cors_or_vary(headers):
                    await self.cors.send(message, send, Headers(scope=scope))
                    return
                message["headers"] = [*headers, *added]
            await send(message)

        await self.cors.app(scope, receive, send_with_cors_headers)

    async def ask_starlette(self, origin: bytes | None) -> RawHeaders:
        """Run Starlette's ``send`` once on an empty response and keep the headers it ends with."""
        sent: list[Message] = []

        async def keep_message(message: Message) -> None:
            sent.append(message)

        request_headers = Headers(raw=[] if origin is None else [(b"origin", origin)])
        empty: Message = {"type": "http.response.start", "status": 200, "headers": []}
        await self.cors.send(empty, keep_message, request_headers)
        return list(sent[0]["headers"])


def origin_size(origin: bytes | None) -> int:
    """An ``Origin`` value's length in bytes (0 without one): a long one is answered but not kept."""
    return 0 if origin is None else len(origin)
