"""The preflight answer cache: Starlette's answer to each preflight question, kept for the origins allowed now.

A preflight's answer depends only on its question (the origin, the method
and the headers it asks for, and whether it asks for private network access),
so an answer once built is sent again to the same question. The answers are
kept for one :class:`~.origin_matcher.OriginMatcher`: when the matcher in force
changes (the allowed origins changed), they are all forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Send

from .bounded_cache import AnswerCache
from .origin_matcher import OriginMatcher

RawHeaders = list[tuple[bytes, bytes]]

PreflightQuestion = tuple[bytes, bytes, bytes | None, bytes | None]
"""What a preflight's answer depends on: its raw ``Origin``, ``Access-Control-Request-Method``,
``Access-Control-Request-Headers`` and ``Access-Control-Request-Private-Network`` values (None when absent).

A plain tuple, as it is built for every preflight (a named tuple costs a microsecond more).
"""


def preflight_question(raw_headers: RawHeaders) -> PreflightQuestion | None:
    """The question a request asks, or None if it is not a preflight (no ``Origin`` or no requested method).

    Like Starlette's ``Headers``, the first of repeated headers counts.
    """
    origin = method = headers = private_network = None
    for name, value in raw_headers:
        if name == b"origin":
            origin = origin if origin is not None else value
        elif name == b"access-control-request-method":
            method = method if method is not None else value
        elif name == b"access-control-request-headers":
            headers = headers if headers is not None else value
        elif name == b"access-control-request-private-network":
            private_network = private_network if private_network is not None else value
    if origin is None or method is None:
        return None
    return origin, method, headers, private_network


def question_bytes(question: PreflightQuestion) -> int:
    """The question's length in bytes: a long one is answered but not kept."""
    return sum(len(part or b"") for part in question)


@dataclass(frozen=True, slots=True)
class PreflightAnswer:
    """Starlette's answer to one preflight, kept as what the ASGI messages that send it carry."""

    status: int
    headers: RawHeaders
    body: bytes
    refused: bool

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body})


def preflight_cache(matcher: OriginMatcher) -> AnswerCache[PreflightQuestion, PreflightAnswer]:
    """An empty cache of preflight answers, for answers given under ``matcher``."""
    return AnswerCache(question_bytes, matcher)
