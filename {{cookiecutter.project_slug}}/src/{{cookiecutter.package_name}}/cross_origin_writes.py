"""Cross-origin write protection: a forged state-changing request never reaches a route.

CORS decides which pages may *read* a response. It does not stop a page on
another site from sending a form ``POST``, or a ``fetch`` with a safelisted
content type, that carries the user's cookies: the route runs, and only the
answer is hidden. This layer refuses such a request with ``403`` before any
route runs. It needs no token, only headers every current browser sends:

- ``GET``, ``HEAD`` and ``OPTIONS`` (so every preflight) pass;
- a path under ``CSRF_EXEMPT_PATHS`` passes (webhooks posted to by other sites);
- ``Sec-Fetch-Site: same-origin`` or ``none`` (the user's own action) passes;
- an ``Origin`` the CORS policy allows, with a method it allows, passes;
- without ``Sec-Fetch-Site`` (an old browser, or no browser at all), a request
  without ``Origin`` passes, and so does one whose ``Origin`` names the
  request's own ``Host``;
- everything else, ``Origin: null`` included, is refused and logged (rate-limited,
  like refused preflights: see :mod:`.refusal_log`).

It sits behind the CORS middleware, so a refusal still carries the CORS
headers an allowed frontend needs to read the ``403``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .cors_fastapi import CORSFastAPI
from .cors_middleware import CurrentMatcher
from .cors_policy import CorsPolicy, Environment
from .origin_matcher import OriginMatcher
from .path_prefixes import PathPrefixes
from .refusal_log import RefusalLog, structured_line

logger = logging.getLogger("{{ cookiecutter.package_name }}")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values a browser sends only for the site's own pages or the user's own action."""

REFUSED_BODY = {"detail": "cross-origin request refused"}


class WriteDecision(NamedTuple):
    """Whether an unsafe request may reach the routes, and why."""

    allowed: bool
    reason: str


class TrustRule(Protocol):
    """A rule that may trust a cross-origin write from an ``Origin``.

    The frontend origins are one; per-origin rules (partner origins, public
    paths) can join them as further rules, each for the methods it allows.
    """

    def judge(self, origin: str, method: str, path: str) -> WriteDecision: ...


@dataclass(frozen=True, slots=True)
class FrontendOrigins:
    """The origins the CORS middleware allows (its very matcher), for the policy's methods."""

    current_matcher: CurrentMatcher
    methods: frozenset[str]
    environment: Environment

    def judge(self, origin: str, method: str, path: str) -> WriteDecision:
        if not self.current_matcher()(origin):
            return WriteDecision(False, f"origin not in CORS_ALLOW_ORIGINS for APP_ENV={self.environment}")
        if method not in self.methods:
            return WriteDecision(False, f"method {method} not in CORS_ALLOW_METHODS")
        return WriteDecision(True, "origin and method allowed by the CORS policy")


@dataclass(frozen=True, slots=True)
class PartnerOrigins:
    """The partner rule's origins, for the partner rule's methods only (read-only unless configured)."""

    matcher: OriginMatcher
    methods: frozenset[str]

    def judge(self, origin: str, method: str, path: str) -> WriteDecision:
        if not self.matcher(origin):
            return WriteDecision(False, "")  # not a partner: the frontend rule's reason says why
        if method not in self.methods:
            return WriteDecision(False, f"method {method} not in CORS_PARTNER_METHODS (partner rule)")
        return WriteDecision(True, "partner origin and method allowed by the CORS policy")


@dataclass(frozen=True, slots=True)
class WriteRules:
    """Decides whether a request may reach the routes; the layer and ``cors explain`` ask it alike."""

    trust: tuple[TrustRule, ...]
    exempt: PathPrefixes

    @classmethod
    def for_policy(
        cls, policy: CorsPolicy, current_matcher: CurrentMatcher, exempt_paths: Iterable[str] = ()
    ) -> WriteRules:
        trust: list[TrustRule] = [FrontendOrigins(current_matcher, frozenset(policy.allow_methods), policy.environment)]
        if policy.partner_origins:
            trust.append(PartnerOrigins(OriginMatcher(policy.partner_origins), frozenset(policy.partner_methods)))
        return cls(tuple(trust), PathPrefixes(exempt_paths))

    def decide(
        self, origin: str | None, sec_fetch_site: str | None, host: str | None, method: str, path: str
    ) -> WriteDecision:
        """The decision for a request with these headers (None: the header is absent)."""
        if method in SAFE_METHODS:
            return WriteDecision(True, f"{method} is a safe method")
        exempt = self.exempt(path)
        if exempt is not None:
            return WriteDecision(True, f"path is under {exempt}, exempt by CSRF_EXEMPT_PATHS")
        if sec_fetch_site in TRUSTED_FETCH_SITES:
            return WriteDecision(True, f"Sec-Fetch-Site is {sec_fetch_site}")
        if origin == "null":
            return WriteDecision(False, "Origin null (a sandboxed or opaque page) is never trusted")
        refusals: list[str] = []
        if origin is not None:
            for rule in self.trust:
                decision = rule.judge(origin, method, path)
                if decision.allowed:
                    return decision
                if decision.reason:
                    refusals.append(decision.reason)
        if sec_fetch_site is None:
            return self.fallback(origin, host, refusals)
        if origin is None:
            return WriteDecision(False, f"Sec-Fetch-Site is {sec_fetch_site} and no Origin names the page")
        return WriteDecision(False, "; ".join(refusals))

    @staticmethod
    def fallback(origin: str | None, host: str | None, refusals: Sequence[str]) -> WriteDecision:
        """Without ``Sec-Fetch-Site``: no ``Origin`` is not a browser; an ``Origin`` naming ``Host`` is same-origin."""
        if origin is None:
            return WriteDecision(True, "neither Sec-Fetch-Site nor Origin: not a browser's cross-origin request")
        if host is not None and origin.partition("://")[2] == host.lower():
            return WriteDecision(True, "Origin names the request's Host")
        return WriteDecision(False, "; ".join([*refusals, "Origin does not name the request's Host"]))


def write_decision(
    rules: WriteRules, origin: str | None, sec_fetch_site: str | None, host: str | None, method: str, path: str
) -> WriteDecision:
    """Whether the write protection lets this request through, and why (for ``cors explain``)."""
    return rules.decide(origin, sec_fetch_site, host, method.upper(), path)


@dataclass(frozen=True)
class RefusedWrite:
    """A refused unsafe request: what it carried, and why it was refused."""

    origin: str | None
    sec_fetch_site: str | None
    method: str
    path: str
    environment: Environment
    reason: str

    def fields(self) -> dict[str, str]:
        return {
            "origin": self.origin or "",
            "sec_fetch_site": self.sec_fetch_site or "",
            "method": self.method,
            "path": self.path,
            "environment": str(self.environment),
            "refused": self.reason,
        }

    def log_line(self) -> str:
        return structured_line("Cross-origin write refused", self.fields())


def request_headers(raw_headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str | None]:
    """``Origin``, ``Sec-Fetch-Site`` and ``Host``; as in Starlette's ``Headers``, the first of repeats counts."""
    found: dict[bytes, str] = {}
    for name, value in raw_headers:
        if name in (b"origin", b"sec-fetch-site", b"host") and name not in found:
            found[name] = value.decode("latin-1")
    return found.get(b"origin"), found.get(b"sec-fetch-site"), found.get(b"host")


class CrossOriginWriteProtection:
    """The ASGI layer: asks :class:`WriteRules` about each unsafe request, answers a refusal with ``403``.

    Refusals share one :class:`RefusalLog` per application, so a flood of forged
    requests costs at most a few log lines a second.
    """

    def __init__(self, app: ASGIApp, rules: WriteRules, environment: Environment) -> None:
        self.app = app
        self.rules = rules
        self.environment = environment
        self.refusal_log = RefusalLog(logger, "cross_origin_refusal")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        origin, sec_fetch_site, host = request_headers(scope["headers"])
        method, path = scope["method"], scope["path"]
        decision = self.rules.decide(origin, sec_fetch_site, host, method, path)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        refusal = RefusedWrite(origin, sec_fetch_site, method, path, self.environment, decision.reason)
        self.refusal_log.warning(lambda: refusal)
        await JSONResponse(REFUSED_BODY, status_code=403)(scope, receive, send)


def protect_writes(app: CORSFastAPI, policy: CorsPolicy, *, enabled: bool, exempt_paths: Sequence[str]) -> None:
    """Put the write protection between CORS and the routes, and announce what weakens it."""
    if not enabled:
        if policy.environment is not Environment.DEVELOPMENT:
            logger.warning(
                "Cross-origin write protection is off (CSRF_PROTECTION=false) in APP_ENV=%s: "
                "a page on any site can send your users' cookies with a form post to every route",
                policy.environment,
            )
        return
    for path in exempt_paths:
        logger.warning(
            "Cross-origin write protection: %s and every path below it are exempt (CSRF_EXEMPT_PATHS); "
            "a page on any site can post to them",
            path,
        )
    rules = WriteRules.for_policy(policy, app.cors.current_matcher, exempt_paths)
    app.add_middleware(CrossOriginWriteProtection, rules=rules, environment=policy.environment)
