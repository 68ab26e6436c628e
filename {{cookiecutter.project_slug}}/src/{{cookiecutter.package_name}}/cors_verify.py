"""``cors verify``: does a running service answer the way this configuration says?

An ingress, a CDN or a proxy in front of the service can strip, duplicate or
cache CORS headers, and a wrong ``APP_ENV`` silently changes the origins. The
checks send real requests to a base URL and compare the answers with the
local configuration for one environment:

- every configured origin (patterns by one or two examples) gets, to a
  preflight, a 2xx with exactly that origin, the credentials, methods, headers
  and max-age configured, and ``Vary: Origin``; to a simple request, the same
  origin and the exposed headers;
- lookalikes of each entry (suffix and prefix tricks, the other scheme,
  another port, an extra label, ``null``) and the other environments' origins
  get no ``Access-Control-Allow-Origin`` at all.

A repeated ``Access-Control-Allow-Origin`` (a proxy adding its own) fails, and
so does an answer carrying another origin's value (a cache ignoring
``Origin``). The plan is fixed before the first request, each request has a
timeout and none is retried. Only the standard library is used, and no
credentials are ever sent.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from .cors_policy import CorsPolicy, Environment
from .cors_reasons import SIMPLE_METHODS
from .origin_grammar import ALL_ORIGINS, DEFAULT_PORTS, origin_parts

USER_AGENT = "cors-verify"
BODY_BYTES_READ = 65536
"""Only the headers are checked; at most this much of a body is read before the connection is closed."""
NOT_SENT = "none"
ALL_LISTED = "all configured"
ALLOW_CREDENTIALS = "access-control-allow-credentials"
ALLOW_METHODS = "access-control-allow-methods"
ALLOW_HEADERS = "access-control-allow-headers"
EXPOSE_HEADERS = "access-control-expose-headers"
MAX_AGE = "access-control-max-age"

Headers = list[tuple[str, str]]


class VerifyUsageError(ValueError):
    """The base URL or an option cannot be used; the message is one line."""


@dataclass(frozen=True)
class Probe:
    """One origin to send, and whether the configuration allows it."""

    origin: str
    case: str
    allowed: bool


@dataclass(frozen=True)
class Check:
    """One expectation about one answer."""

    origin: str
    kind: str
    case: str
    check: str
    expected: str
    got: str

    @property
    def passed(self) -> bool:
        return self.expected == self.got

    def line(self) -> str:
        verdict = "ok  " if self.passed else "FAIL"
        return (
            f"{verdict} {self.kind:<9} {self.origin} ({self.case}) {self.check}:"
            f" expected {self.expected}, got {self.got}"
        )


@dataclass(frozen=True)
class Target:
    """Where the requests go: ``BASE_URL`` plus ``--path``."""

    scheme: str
    host: str
    port: int | None
    path: str

    @classmethod
    def parse(cls, base_url: str, path: str) -> Target:
        parts = urlsplit(base_url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise VerifyUsageError(f"BASE_URL: {base_url!r} is not an http(s) URL, such as http://127.0.0.1:8000")
        if parts.username is not None or parts.password is not None:
            raise VerifyUsageError(f"BASE_URL: {parts.hostname!r} carries credentials; cors verify never sends any")
        if parts.query or parts.fragment:
            raise VerifyUsageError(f"BASE_URL: {base_url!r} has a query or fragment; give the service's base URL only")
        try:
            port = parts.port
        except ValueError:
            raise VerifyUsageError(f"BASE_URL: {base_url!r} has an invalid port") from None
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/") + path)

    def send(self, method: str, headers: Headers, timeout: float) -> tuple[int, Headers]:
        """One request on a fresh connection; the status and every answer header."""
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, self.path, headers=dict([("User-Agent", USER_AGENT), *headers]))
            response = connection.getresponse()
            response.read(BODY_BYTES_READ)
            return response.status, [(name.lower(), value) for name, value in response.getheaders()]
        finally:
            connection.close()


@dataclass(frozen=True)
class Report:
    base_url: str
    environment: Environment
    requests: int
    checks: list[Check]
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(check.passed for check in self.checks)

    def text(self) -> str:
        lines = [check.line() for check in self.checks]
        if self.error is not None:
            lines.append(f"FAIL {self.error}")
        failed = sum(not check.passed for check in self.checks) + (self.error is not None)
        lines.append(
            f"{'passed' if self.passed else 'FAILED'}: {len(self.checks)} checks, {failed} failed,"
            f" {self.requests} requests to {self.base_url} for APP_ENV={self.environment}"
        )
        return "\n".join(lines)

    def json_text(self) -> str:
        document: dict[str, Any] = {
            "base_url": self.base_url,
            "environment": str(self.environment),
            "passed": self.passed,
            "requests": self.requests,
            "error": self.error,
            "checks": [asdict(check) | {"passed": check.passed} for check in self.checks],
        }
        return json.dumps(document, indent=2)


def examples(entry: str) -> list[str]:
    """Origins a browser could send that the entry allows: one or two for a pattern."""
    if entry == ALL_ORIGINS:
        return ["https://cors-verify.example.net"]
    scheme, host, port = origin_parts(entry)
    host = host.replace("*.", "cors-verify.", 1)
    if port == "*":
        return [f"{scheme}://{host}", f"{scheme}://{host}:3000"]
    return [f"{scheme}://{host}" + (f":{port}" if port else "")]


def lookalikes(origin: str) -> list[tuple[str, str]]:
    """Origins an attacker would try against an allowed one (the battery's classes)."""
    scheme, host, port = origin_parts(origin)
    suffix = f":{port}" if port else ""
    other_scheme = "http" if scheme == "https" else "https"
    other_port = int(port or DEFAULT_PORTS[scheme]) + 1
    return [
        ("suffix lookalike", f"{scheme}://{host}.evil.test{suffix}"),
        ("prefix lookalike", f"{scheme}://evil{host}{suffix}"),
        ("extra label", f"{scheme}://evil.{host}{suffix}"),
        (f"{other_scheme} twin", f"{other_scheme}://{host}{suffix}"),
        ("other port", f"{scheme}://{host}:{other_port}"),
    ]


def probes(policy: CorsPolicy, others: Mapping[Environment, CorsPolicy]) -> list[Probe]:
    """Every origin to send, in order: each allowed example first, then what must be refused."""
    allows = policy.matcher()
    planned: dict[str, Probe] = {}
    for entry in policy.allow_origins:
        for origin in examples(entry):
            planned.setdefault(origin, Probe(origin, "configured" if origin == entry else f"example of {entry}", True))
            for case, lookalike in lookalikes(origin):
                if not allows(lookalike):
                    planned.setdefault(lookalike, Probe(lookalike, f"{case} of {origin}", False))
    for environment, other in others.items():
        for entry in other.allow_origins:
            for origin in examples(entry) if entry != ALL_ORIGINS else []:
                if not allows(origin):
                    planned.setdefault(origin, Probe(origin, f"allowed in {environment} only", False))
    if not allows("null"):
        planned.setdefault("null", Probe("null", "sandboxed page", False))
    return list(planned.values())


def check_answers(policy: CorsPolicy, probe: Probe, preflight: tuple[int, Headers], response: Headers) -> list[Check]:
    """The checks of one origin's two answers against the policy."""
    status, answer = preflight

    def check(kind: str, name: str, expected: str, got: str) -> Check:
        return Check(probe.origin, kind, probe.case, name, expected, got)

    if not probe.allowed:
        return [
            check("preflight", "allow-origin", NOT_SENT, allow_origin(answer, probe.origin)),
            check("request", "allow-origin", NOT_SENT, allow_origin(response, probe.origin)),
        ]
    expected_origin = "*" if ALL_ORIGINS in policy.allow_origins and not policy.allow_credentials else probe.origin
    credentials = "true" if policy.allow_credentials else NOT_SENT
    checks = [
        check("preflight", "status", "2xx", "2xx" if 200 <= status < 300 else str(status)),
        check("preflight", "allow-origin", expected_origin, allow_origin(answer, probe.origin)),
        check("preflight", "allow-credentials", credentials, joined(answer, ALLOW_CREDENTIALS)),
        check("preflight", "allow-methods", ALL_LISTED, missing(answer, ALLOW_METHODS, policy.allow_methods)),
        check("preflight", "allow-headers", ALL_LISTED, missing(answer, ALLOW_HEADERS, policy.allow_headers)),
        check("preflight", "max-age", str(policy.max_age), joined(answer, MAX_AGE)),
        check("request", "allow-origin", expected_origin, allow_origin(response, probe.origin)),
        check("request", "allow-credentials", credentials, joined(response, ALLOW_CREDENTIALS)),
        check("request", "expose-headers", ALL_LISTED, missing(response, EXPOSE_HEADERS, policy.expose_headers)),
    ]
    if expected_origin != "*":
        checks += [
            check("preflight", "vary", "Origin", varies_on_origin(answer)),
            check("request", "vary", "Origin", varies_on_origin(response)),
        ]
    return checks


def values(headers: Headers, name: str) -> list[str]:
    return [value for key, value in headers if key == name]


def joined(headers: Headers, name: str) -> str:
    found = values(headers, name)
    return ", ".join(found) if found else NOT_SENT


def allow_origin(headers: Headers, origin: str) -> str:
    """The ``Access-Control-Allow-Origin`` an answer carries, described so that a mistake shows."""
    found = values(headers, "access-control-allow-origin")
    if len(found) > 1:
        return f"{len(found)} values ({', '.join(found)})"
    if not found:
        return NOT_SENT
    if found[0] not in (origin, "*"):
        return f"{found[0]} (another origin's answer: a cache ignoring Origin?)"
    return found[0]


def missing(headers: Headers, name: str, wanted: Iterable[str]) -> str:
    listed = {part.strip().lower() for value in values(headers, name) for part in value.split(",")}
    absent = [item for item in wanted if item.lower() not in listed]
    return ALL_LISTED if not absent else f"missing {', '.join(absent)}"


def varies_on_origin(headers: Headers) -> str:
    parts = {part.strip().lower() for value in values(headers, "vary") for part in value.split(",")}
    return "Origin" if "origin" in parts else joined(headers, "vary")


def preflight_method(policy: CorsPolicy) -> str:
    """A configured method that needs a preflight if there is one, so the check is a real preflight."""
    return next((m for m in policy.allow_methods if m not in SIMPLE_METHODS), (*policy.allow_methods, "GET")[0])


def verify(
    base_url: str,
    policy: CorsPolicy,
    others: Mapping[Environment, CorsPolicy],
    path: str = "/health",
    timeout: float = 5.0,
) -> Report:
    """Send the planned requests to ``base_url`` and check every answer; the first unanswered request stops it."""
    target = Target.parse(base_url, path)
    plan = probes(policy, others)
    method = preflight_method(policy)
    checks: list[Check] = []
    sent = 0
    for probe in plan:
        preflight = [("Origin", probe.origin), ("Access-Control-Request-Method", method)]
        if policy.allow_headers:
            preflight.append(("Access-Control-Request-Headers", ", ".join(policy.allow_headers)))
        try:
            preflight_answer = target.send("OPTIONS", preflight, timeout)
            sent += 1
            _, response = target.send("GET", [("Origin", probe.origin)], timeout)
            sent += 1
        except (OSError, http.client.HTTPException) as error:
            message = f"no answer from {base_url} for {probe.origin}: {error or type(error).__name__}"
            return Report(base_url, policy.environment, sent, checks, message)
        checks += check_answers(policy, probe, preflight_answer, response)
    return Report(base_url, policy.environment, sent, checks)
