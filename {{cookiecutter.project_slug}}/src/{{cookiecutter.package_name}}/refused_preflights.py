"""Refusal diagnostics: each preflight Starlette refuses is logged as one line, and explained in development.

Starlette has decided before this module is asked; :mod:`.cors_reasons` names
the rules of the refusing :class:`~.cors_policy.CorsRule` that the preflight
broke. Every refusal costs at most a share of a rate-limited log
(:class:`~.refusal_log.RefusalLog`), and its line carries the request's ID; the
broken rules are worked out only for a line written, so a flood of refusals
costs little. In development only, the 400 answer's body says why too, as
``cors explain`` would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response

from .cors_policy import CorsRule, Environment
from .cors_reasons import BrokenRule, CrossOriginRequest, broken_rules, explanation
from .origin_matcher import OriginMatcher
from .refusal_log import RefusalLog, structured_line
from .request_id import current_request_id

logger = logging.getLogger("{{ cookiecutter.package_name }}")


@dataclass(frozen=True)
class RefusedPreflight:
    """What a refused preflight asked for, and why it was refused."""

    origin: str
    method: str
    headers: str
    environment: Environment
    rules: tuple[str, ...]
    request_id: str

    def fields(self) -> dict[str, str]:
        return {
            "origin": self.origin,
            "method": self.method,
            "headers": self.headers,
            "environment": str(self.environment),
            "refused": "; ".join(self.rules),
            "request_id": self.request_id,
        }

    def log_line(self) -> str:
        return structured_line("CORS preflight refused", self.fields())


class PreflightRefusals:
    """Tells of the preflights one rule refuses: in the log always, in the answer in development."""

    def __init__(self, rule: CorsRule, environment: Environment) -> None:
        self.rule = rule
        self.environment = environment
        self.log = RefusalLog(logger, "cors_refusal")

    def answer(self, refusal: Response, request_headers: Headers, matcher: OriginMatcher) -> Response:
        """Log Starlette's ``refusal`` of a preflight and return it; in development, its body says why."""
        if self.environment is not Environment.DEVELOPMENT:
            self.log_refusal(request_headers, matcher)
            return refusal
        rules = self.rules_broken_by(request_headers, matcher)
        self.log.warning(lambda: self.refusal_of(request_headers, rules))
        return explained_refusal(refusal, rules)

    def log_refusal(self, request_headers: Headers, matcher: OriginMatcher) -> None:
        """Log a preflight refused under ``matcher`` (the one in force).

        The rules it broke are worked out only for a line the rate limit lets through.
        """
        self.log.warning(lambda: self.refusal_of(request_headers, self.rules_broken_by(request_headers, matcher)))

    def rules_broken_by(self, request_headers: Headers, matcher: OriginMatcher) -> list[BrokenRule]:
        return broken_rules(self.rule, matcher, self.environment, preflight_request(request_headers))

    def refusal_of(self, request_headers: Headers, rules: list[BrokenRule]) -> RefusedPreflight:
        return RefusedPreflight(
            origin=request_headers["origin"],
            method=request_headers["access-control-request-method"],
            headers=request_headers.get("access-control-request-headers", ""),
            environment=self.environment,
            rules=tuple(rule.rule for rule in rules),
            request_id=current_request_id() or "",
        )


def preflight_request(request_headers: Headers) -> CrossOriginRequest:
    """The request a preflight asks about, from its ``Origin`` and ``Access-Control-Request-*`` headers."""
    requested = request_headers.get("access-control-request-headers")
    return CrossOriginRequest(
        origin=request_headers["origin"],
        method=request_headers["access-control-request-method"],
        headers=() if requested is None else tuple(h.strip() for h in requested.split(",")),
        private_network="access-control-request-private-network" in request_headers,
    )


def explained_refusal(refusal: Response, rules: list[BrokenRule]) -> Response:
    """Starlette's refusal with a body that says why, as ``cors explain`` would: for development only."""
    body = f"{bytes(refusal.body).decode()}\n{explanation(rules)}\n(this explanation is sent in development only)\n"
    headers = {k: v for k, v in refusal.headers.items() if k not in ("content-length", "content-type")}
    return PlainTextResponse(body, status_code=refusal.status_code, headers=headers)
