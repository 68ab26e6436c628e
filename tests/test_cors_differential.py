"""The generated service's CORS answers are stock Starlette's, byte for byte (issue 13, item 1).

The service answers simple requests and requests without ``Origin`` from
header bytes it asked Starlette for once per ``Origin``. Here every request
goes, as a raw ASGI call, both to the generated app and to the same app with
its CORS layer replaced by stock ``CORSMiddleware`` (one per rule, configured
with the same exact origins and options, chosen by path and origin as the
README describes), and the two answers must be equal: status, every header
in order with its duplicates, body, and the exception a crash raises. The one
difference allowed is the service's own: to a refused ``Origin`` it sends no
``Access-Control-*`` header at all.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .support.cors_battery import IntendedPolicy, Origin, adversarial_origins
from .support.servers import package_of
from .support.template import GenerateOnce
from .support.variants import VARIANTS

VARIANT = "defaults"
FRONTENDS = ("https://app.example.com", "https://admin.example.com", "https://app.example.com:8443")
PARTNERS = ("https://dashboard.partner.io", "https://reports.partner.io:9443")
PUBLIC = "/public"

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "credentials": {"cors_allow_origins": FRONTENDS},
    "rules": {"cors_allow_origins": FRONTENDS, "cors_partner_origins": PARTNERS, "cors_public_paths": (PUBLIC,)},
    "no-credentials-nothing-exposed": {
        "cors_allow_origins": FRONTENDS,
        "cors_allow_credentials": False,
        "cors_expose_headers": (),
    },
}
"""Production settings of the generated service; each origin list is exact origins, which stock Starlette matches."""

PATHS = (
    "/health",
    "/stream",
    "/own-vary",
    "/own-varies",
    "/own-cors",
    "/not-modified",
    "/crash",
    "/raw/upper-case",
    f"{PUBLIC}/item",
    f"{PUBLIC}lookalike",
)
"""The service's route, and the routes added to it here: streaming, own ``Vary`` and CORS headers, a 304, a 500."""


async def streamed() -> AsyncIterator[bytes]:
    for part in (b"one,", b"two,", b"three"):
        yield part


def add_test_routes(app: Any) -> None:
    """Routes whose responses Starlette's CORS ``send`` has to merge with, or stream past."""
    app.add_api_route("/stream", lambda: StreamingResponse(streamed(), media_type="text/plain"))
    app.add_api_route("/own-vary", lambda: Response(b"varies", headers={"Vary": "Accept-Encoding"}))
    app.add_api_route(
        "/own-varies",
        lambda: Response(b"varies", headers=[("vary", "Accept"), ("vary", "Cookie")]),  # type: ignore[arg-type]
    )
    app.add_api_route(
        "/own-cors",
        lambda: Response(
            b"own",
            headers={
                "Access-Control-Allow-Origin": "https://own.example",
                "Access-Control-Expose-Headers": "X-Own",
                "Vary": "Cookie",
            },
        ),
    )
    app.add_api_route("/not-modified", lambda: Response(status_code=304, headers={"ETag": '"v1"'}))
    app.add_api_route("/crash", crash)
    app.add_api_route(f"{PUBLIC}/item", lambda: {"public": True})
    app.add_api_route(f"{PUBLIC}lookalike", lambda: {"public": False})
    app.mount("/raw", upper_case_headers)


def crash() -> None:
    raise RuntimeError("crash on purpose")


async def upper_case_headers(scope: Scope, receive: Receive, send: Send) -> None:
    """A raw ASGI app whose header names are not lower-case, which Starlette's ``MutableHeaders`` does not see."""
    headers = [
        (b"Vary", b"Accept"),
        (b"Access-Control-Allow-Origin", b"https://raw.example"),
        (b"content-length", b"2"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


LOOP = asyncio.new_event_loop()
"""One event loop runs every request of this module (a new loop per request would cost more than the request)."""


@pytest.fixture(scope="module", autouse=True)
def close_loop() -> Iterator[None]:
    yield
    LOOP.close()


@dataclass(frozen=True)
class RawAnswer:
    status: int | None
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    raised: str | None

    def without_cors_headers(self) -> RawAnswer:
        headers = tuple((n, v) for n, v in self.headers if not n.lower().startswith(b"access-control-"))
        return RawAnswer(self.status, headers, self.body, self.raised)


def call(app: ASGIApp, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> RawAnswer:
    """One raw ASGI request; the answer as the server would get it."""
    headers = [(b"host", b"api.example.com"), (b"x-request-id", b"differential-test"), *headers]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path}
    scope |= {"raw_path": path.encode(), "query_string": b"", "headers": headers}
    messages: list[Message] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays connected until the answer is complete
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        messages.append(message)

    raised = None
    try:
        LOOP.run_until_complete(app(scope, receive, send))
    except Exception as error:  # the server logs a crash; the answer was sent before
        raised = f"{type(error).__name__}: {error}"
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    if start is None:
        return RawAnswer(None, (), body, raised)
    return RawAnswer(start["status"], tuple((bytes(n), bytes(v)) for n, v in start["headers"]), body, raised)


class StockRules:
    """Stock ``CORSMiddleware`` per rule, chosen as the README says: public path, then partner origin, else frontend."""

    def __init__(self, inner: ASGIApp, policy: Any) -> None:
        def stock(rule: Any) -> CORSMiddleware:
            """Starlette configured by a rule: its fields but the name are ``CORSMiddleware``'s options."""
            return CORSMiddleware(inner, **{k: v for k, v in dataclasses.asdict(rule).items() if k != "name"})

        self.frontend = stock(policy.frontend_rule())
        partner, public = policy.partner_rule(), policy.public_rule()
        self.partner = None if partner is None else stock(partner)
        self.public = None if public is None else stock(public)
        self.public_paths = policy.public_paths

    def rule_for(self, path: str, origin: str | None) -> CORSMiddleware:
        if self.public is not None and any(path == p or path.startswith(p + "/") for p in self.public_paths):
            return self.public
        if self.partner is not None and origin is not None and self.partner.is_allowed_origin(origin):
            return self.partner
        return self.frontend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"origin"), None)
        await self.rule_for(scope["path"], origin)(scope, receive, send)


@dataclass
class Pair:
    """The generated app, and the same app with stock Starlette in place of its CORS layer."""

    service: Any
    stock: StockRules
    reference: ASGIApp

    def expected(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> RawAnswer:
        answer = call(self.reference, method, path, headers)
        origin = next((v.decode("latin-1") for n, v in headers if n == b"origin"), None)
        if origin is not None and not self.stock.rule_for(path, origin).is_allowed_origin(origin):
            return answer.without_cors_headers()
        return answer

    def check(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        got = call(self.service, method, path, headers)
        assert got == self.expected(method, path, headers), (method, path, headers)


def with_stock_cors(service: Any, stock: StockRules) -> ASGIApp:
    """The service's front layers (request ID) in front of ``stock`` instead of its own CORS layer."""
    if service.front in (service.cors, service.cors_rules):
        return stock
    front = copy.copy(service.front)
    assert front.app in (service.cors, service.cors_rules), "the front stack changed: update with_stock_cors"
    front.app = stock
    return front


@pytest.fixture(scope="module")
def package(generated: GenerateOnce) -> Iterator[Callable[[str], ModuleType]]:
    """The generated service's modules, imported in this process; forgotten afterwards."""
    project = generated(VARIANT, VARIANTS[VARIANT])
    name = package_of(project)
    sys.path.insert(0, str(project / "src"))
    yield lambda module: importlib.import_module(f"{name}.{module}")
    sys.path.remove(str(project / "src"))
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def pair_with(service: Any, policy: Any) -> Pair:
    """``service``, and the same app with stock Starlette configured by ``policy`` in place of its CORS layer."""
    stock = StockRules(service.cors.app, policy)
    return Pair(service, stock, with_stock_cors(service, stock))


def build(package: Callable[[str], ModuleType], configuration: str) -> Pair:
    settings_module = package("settings")
    settings = settings_module.Settings(app_env="production", **CONFIGURATIONS[configuration])
    service = package("app").create_app(settings)
    add_test_routes(service)
    return pair_with(service, settings.cors_policy)


@pytest.fixture(scope="module")
def pairs(package: Callable[[str], ModuleType]) -> dict[str, Pair]:
    return {name: build(package, name) for name in CONFIGURATIONS}


def as_bytes(origin: Origin) -> bytes:
    return origin if isinstance(origin, bytes) else origin.encode("latin-1")


def battery(configuration: str) -> list[bytes]:
    """The adversarial origins of a configuration's origins, and every configured origin."""
    options = CONFIGURATIONS[configuration]
    policy = IntendedPolicy(
        origins=options["cors_allow_origins"],
        credentials=options.get("cors_allow_credentials", True),
        partners=options.get("cors_partner_origins", ()),
    )
    origins = [as_bytes(attack.origin) for attack in adversarial_origins(policy)]
    return list(dict.fromkeys([*map(as_bytes, (*policy.origins, *policy.partners)), *origins]))


def requests_for(origin: bytes | None) -> list[tuple[str, list[tuple[bytes, bytes]]]]:
    """A simple GET, a HEAD, a write, an OPTIONS that is no preflight, and a preflight, from ``origin``."""
    headers = [] if origin is None else [(b"origin", origin)]
    requests = [("GET", headers), ("HEAD", headers), ("POST", headers), ("OPTIONS", headers)]
    if origin is not None:
        preflight = [*headers, (b"access-control-request-method", b"GET")]
        requests.append(("OPTIONS", [*preflight, (b"access-control-request-headers", b"authorization")]))
    return requests


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
def test_every_answer_is_stock_starlettes(pairs: dict[str, Pair], configuration: str) -> None:
    """The battery, every configured origin and no ``Origin``, on every route: Starlette's answer each time."""
    pair = pairs[configuration]
    for origin in [None, *battery(configuration)]:
        for method, headers in requests_for(origin):
            for path in PATHS if method == "GET" else ("/health", f"{PUBLIC}/item", "/own-cors"):
                pair.check(method, path, headers)


def test_repeated_origin_headers_are_read_as_starlette_reads_them(pairs: dict[str, Pair]) -> None:
    """Two ``Origin`` headers: the first counts, for the kept answer as for Starlette."""
    pair = pairs["rules"]
    allowed, refused, partner = FRONTENDS[0].encode(), b"https://evil.test", PARTNERS[0].encode()
    for first, second in [(allowed, refused), (refused, allowed), (partner, allowed), (allowed, partner)]:
        for path in PATHS:
            pair.check("GET", path, [(b"origin", first), (b"origin", second)])


def test_kept_answers_follow_a_change_of_the_allowed_origins(package: Callable[[str], ModuleType]) -> None:
    """When the matcher is replaced (as the registry's refresh does), no answer kept for the old origins is sent."""
    settings = package("settings").Settings(app_env="production", cors_allow_origins=FRONTENDS)
    policy = settings.cors_policy
    current = [policy.matcher()]
    service = type(package("app").create_app(settings))(policy, lambda: current[0])
    add_test_routes(service)
    first = [(b"origin", FRONTENDS[0].encode())]
    allowed_before = call(service, "GET", "/health", first)
    pair_with(service, policy).check("GET", "/health", first)
    changed = dataclasses.replace(policy, allow_origins=FRONTENDS[1:])
    current[0] = changed.matcher()
    pair_with(service, changed).check("GET", "/health", first)
    assert (b"access-control-allow-origin", FRONTENDS[0].encode()) in allowed_before.headers
    assert call(service, "GET", "/health", first).headers != allowed_before.headers


ORIGIN_TEXT = st.one_of(
    st.sampled_from([*FRONTENDS, *PARTNERS]),
    st.builds(
        lambda origin, cut, extra: origin[:cut] + extra,
        st.sampled_from([*FRONTENDS, *PARTNERS]),
        st.integers(0, 40),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=6),
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
)


@settings(max_examples=200, deadline=None)
@given(
    origin=st.one_of(st.none(), ORIGIN_TEXT.map(lambda text: text.encode("latin-1"))),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]),
    path=st.sampled_from(PATHS),
    configuration=st.sampled_from(list(CONFIGURATIONS)),
)
def test_any_origin_gets_stock_starlettes_answer(
    pairs: dict[str, Pair], origin: bytes | None, method: str, path: str, configuration: str
) -> None:
    headers = [] if origin is None else [(b"origin", origin)]
    pairs[configuration].check(method, path, headers)
