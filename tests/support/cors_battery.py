"""An attacker's battery for a CORS service: adversarial origins and the checks, judged by the oracle.

The oracle is :func:`origin_oracle.reference_allows`, written from the
grammar and sharing no code with the service's ``OriginMatcher``.

:func:`audit` sends every origin of a corpus to a live server, as a preflight
and as a simple request, and returns findings: one line per deviation from
the oracle. An empty list is a pass. A response that allows no origin must
also carry no other ``Access-Control-*`` header: those tell a scanner the
configuration (methods, headers, credentials) although no browser may use it.
:func:`audit_writes` sends each origin as a forged cross-site write instead,
which must be refused (``403``) unless the oracle allows the origin and the
policy the method; ``null`` never passes.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .origin_oracle import DEFAULT_PORTS, entry_parts, reference_allows

HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440"}
"""Latin letters and the Cyrillic letters that look the same."""

Origin = str | bytes
"""An ``Origin`` header value; bytes for values that are not ASCII."""


@dataclass(frozen=True)
class Attack:
    """One adversarial ``Origin``; ``target`` is the answered entry it imitates, if any."""

    case: str
    origin: Origin
    target: str = ""


@dataclass(frozen=True)
class Finding:
    attack: Attack
    problem: str

    def __str__(self) -> str:
        target = f" of {self.attack.target}" if self.attack.target else ""
        return f"{self.attack.case}{target}: Origin {self.attack.origin!r}: {self.problem}"


@dataclass(frozen=True)
class IntendedPolicy:
    """What the service is meant to allow, as answered when it was generated."""

    origins: tuple[str, ...]
    credentials: bool
    methods: tuple[str, ...] = ("GET",)
    partners: tuple[str, ...] = ()
    """Partner origins: allowed to read, never with credentials."""
    public_paths: tuple[str, ...] = ()
    """Path prefixes every origin may read (``*``), never with credentials."""

    @property
    def allows_all(self) -> bool:
        return any(entry.strip() == "*" for entry in self.origins)


def expected_allow_origin(policy: IntendedPolicy, origin: str) -> str | None:
    """The ``Access-Control-Allow-Origin`` a correct service sends for ``origin``, or None."""
    if reference_allows(policy.partners, origin):
        return origin
    if not reference_allows(policy.origins, origin):
        return None
    return "*" if policy.allows_all and not policy.credentials else origin


def credentialed(policy: IntendedPolicy, origin: Origin) -> bool:
    """Whether a correct service lets ``origin`` send credentials: a frontend origin of a policy with them."""
    text = origin.decode("latin-1") if isinstance(origin, bytes) else origin
    return policy.credentials and any(reference_allows(policy.origins, o) for o in (text, text.strip(" \t")))


def acceptable_allow_origins(policy: IntendedPolicy, origin: Origin) -> set[str | None]:
    """Every correct ``Access-Control-Allow-Origin`` for a header value (None: no header).

    The server reads bytes as Latin-1. Spaces and tabs around a value are not
    part of it (RFC 9110), but HTTP parsers differ in stripping them, so for
    such a value refusing it is correct too.
    """
    text = origin.decode("latin-1") if isinstance(origin, bytes) else origin
    return {expected_allow_origin(policy, text), expected_allow_origin(policy, text.strip(" \t"))}


def concrete_origin(entry: str) -> str:
    """An origin a browser could send that the entry allows."""
    scheme, host, port = entry_parts(entry)
    host = host.replace("*.", "tenant-1.", 1)
    port = "3000" if port == "*" else port
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def lookalikes(entry: str) -> list[tuple[str, Origin]]:
    """Origins derived from one answered entry: one that it allows, and attacks on it."""
    origin = concrete_origin(entry)
    scheme, host, port = entry_parts(origin)
    host_only = origin.removesuffix(f":{port}") if port else origin
    p = f":{port}" if port else ""
    other_scheme = "http" if scheme == "https" else "https"
    cases: list[tuple[str, Origin]] = [
        ("allowed origin (control)", origin),
        ("suffix lookalike", f"{scheme}://{host}.evil.test{p}"),
        ("suffix lookalike, no dot", f"{scheme}://{host}evil.test{p}"),
        ("prefix lookalike", f"{scheme}://evil{host}{p}"),
        ("prefix lookalike with hyphen", f"{scheme}://evil-{host}{p}"),
        ("extra label", f"{scheme}://evil.{host}{p}"),
        (f"{other_scheme} twin", f"{other_scheme}://{host}{p}"),
        ("other port", f"{host_only}:{int(port or DEFAULT_PORTS[scheme]) + 1}"),
        ("explicit default port", f"{host_only}:{DEFAULT_PORTS[scheme]}"),
        ("port with a leading zero", f"{host_only}:0{port or DEFAULT_PORTS[scheme]}"),
        ("port out of range", f"{host_only}:65536"),
        ("empty port", f"{host_only}:"),
        ("userinfo", f"{scheme}://user@{host}{p}"),
        ("userinfo naming the allowed host", f"{scheme}://{host}{p}@evil.test"),
        ("trailing dot", f"{scheme}://{host}.{p}"),
        ("trailing slash", f"{origin}/"),
        ("path", f"{origin}/app"),
        ("upper-case host", f"{scheme}://{host.upper()}{p}"),
        ("upper-case scheme", f"{scheme.upper()}://{host}{p}"),
        ("mixed case", f"{scheme}://{host.title()}{p}"),
        ("leading space (HTTP strips it)", f" {origin}"),
        ("trailing tab (HTTP strips it)", f"{origin}\t"),
        ("space inside", f"{scheme}:// {host}{p}"),
        ("very long subdomain chain", f"{scheme}://{'.'.join(['a' * 63] * 60)}.{host}{p}"),
        ("very long value", origin + "a" * 8000),
        ("several origins, allowed first", f"{origin} https://evil.test"),
        ("several origins, comma-separated", f"{origin},https://evil.test"),
        ("several origins, allowed last", f"https://evil.test, {origin}"),
    ]
    cases += [(f"dot {i + 1} replaced", f"{scheme}://{dot_replaced(host, i)}{p}") for i in range(host.count("."))]
    homograph = next((host.replace(c, glyph, 1) for c, glyph in HOMOGLYPHS.items() if c in host), None)
    if homograph is not None:
        cases += [
            ("unicode homograph host", f"{scheme}://{homograph}{p}".encode()),
            ("punycode of the homograph", f"{scheme}://{homograph.encode('idna').decode()}{p}"),
        ]
    if entry_parts(entry)[1].startswith("*."):
        parent = entry_parts(entry)[1][2:]
        cases += [
            ("pattern's parent itself", f"{scheme}://{parent}{p}"),
            ("two labels under the pattern", f"{scheme}://a.b.{parent}{p}"),
            ("label starting with a hyphen", f"{scheme}://-x.{parent}{p}"),
            ("label with an underscore", f"{scheme}://x_y.{parent}{p}"),
            ("64-character label", f"{scheme}://{'a' * 64}.{parent}{p}"),
            ("punycode label (allowed)", f"{scheme}://xn--bcher-kva.{parent}{p}"),
        ]
    return cases


def dot_replaced(host: str, index: int) -> str:
    """The host with its dot number ``index`` (from 0) replaced: what an unescaped regex dot allows."""
    labels = host.split(".")
    return ".".join(labels[: index + 1]) + "x" + ".".join(labels[index + 1 :])


GENERIC_ATTACKS = [
    Attack("null", "null"),
    Attack("unrelated https origin", "https://evil.test"),
    Attack("unrelated http origin", "http://evil.test"),
    Attack("file scheme", "file://"),
    Attack("empty origin", ""),
    Attack("not an origin", "evil"),
]


def adversarial_origins(policy: IntendedPolicy) -> list[Attack]:
    """The corpus for a policy: generic attacks plus lookalikes of every answered entry."""
    attacks = list(GENERIC_ATTACKS)
    for entry in (*policy.origins, *policy.partners):
        if entry.strip() != "*":
            attacks += [Attack(case, origin, entry.strip()) for case, origin in lookalikes(entry)]
    unique: dict[Origin, Attack] = {}
    for attack in attacks:
        unique.setdefault(attack.origin, attack)
    return list(unique.values())


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name]

    def varies_on_origin(self) -> bool:
        return "origin" in {part.strip().lower() for value in self.values("vary") for part in value.split(",")}


def exchange(client: httpx.Client, method: str, path: str, headers: list[tuple[str, Origin]]) -> Answer:
    """Send one request; values httpx refuses to send (surrounding whitespace) go by ``http.client``."""
    try:
        response = client.request(method, path, headers=[(k, v) for k, v in headers])
    except httpx.LocalProtocolError:
        return exchange_raw(str(client.base_url), method, path, headers)
    return Answer(response.status_code, list(response.headers.multi_items()))


def exchange_raw(base_url: str, method: str, path: str, headers: list[tuple[str, Origin]]) -> Answer:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return Answer(response.status, response.getheaders())
    finally:
        connection.close()


def check_origin(client: httpx.Client, policy: IntendedPolicy, attack: Attack) -> list[Finding]:
    """Findings for one origin: a preflight and a simple request, both judged by the oracle."""
    acceptable = acceptable_allow_origins(policy, attack.origin)
    credentials = credentialed(policy, attack.origin)
    text = attack.origin.decode("latin-1") if isinstance(attack.origin, bytes) else attack.origin
    method = "GET" if reference_allows(policy.partners, text) else policy.methods[0]
    preflight = exchange(
        client, "OPTIONS", "/health", [("Origin", attack.origin), ("Access-Control-Request-Method", method)]
    )
    simple = exchange(client, "GET", "/health", [("Origin", attack.origin)])
    problems = [f"preflight {problem}" for problem in judge(preflight, acceptable, credentials)]
    problems += [f"request {problem}" for problem in judge(simple, acceptable, credentials)]
    if (preflight.status == 200) != bool(preflight.values("access-control-allow-origin")):
        problems.append(f"preflight answered {preflight.status}")
    for prefix in policy.public_paths:
        public = exchange(
            client,
            "OPTIONS",
            f"{prefix}/battery",
            [("Origin", attack.origin), ("Access-Control-Request-Method", "GET")],
        )
        problems += [f"public-path preflight {problem}" for problem in judge(public, {"*"}, credentialed=False)]
    return [Finding(attack, problem) for problem in problems]


def judge(answer: Answer, acceptable: set[str | None], credentialed: bool) -> list[str]:
    allow_origin = answer.values("access-control-allow-origin")
    credentials = answer.values("access-control-allow-credentials")
    problems = []
    if len(allow_origin) > 1 or (allow_origin[0] if allow_origin else None) not in acceptable:
        expected = " or ".join(sorted(repr(value) for value in acceptable))
        problems.append(f"Access-Control-Allow-Origin is {allow_origin}, expected {expected}")
    if "true" in credentials and "*" in allow_origin:
        problems.append("allows '*' together with credentials")
    if allow_origin and credentials != (["true"] if credentialed else []):
        problems.append(f"Access-Control-Allow-Credentials is {credentials}")
    if not answer.varies_on_origin():
        problems.append(f"Vary {answer.values('vary')} does not include Origin")
    leaked = sorted({key.lower() for key, _ in answer.headers if key.lower().startswith("access-control-")})
    if not allow_origin and leaked:
        problems.append(f"allows no origin, yet sends {', '.join(leaked)}")
    return problems


def audit(client: httpx.Client, policy: IntendedPolicy, corpus: Iterable[Attack]) -> list[Finding]:
    """Every finding for a corpus against a live server; an empty list means it resisted them all."""
    return [finding for attack in corpus for finding in check_origin(client, policy, attack)]


WRITE_METHODS = ("POST", "PROPPATCH")
"""A method the answers usually allow, and one they never do."""


def write_passes(policy: IntendedPolicy, origin: str, method: str) -> bool:
    """Whether a cross-site write from ``origin`` must reach the service's routes."""
    return origin != "null" and method in policy.methods and reference_allows(policy.origins, origin)


def check_write(client: httpx.Client, policy: IntendedPolicy, attack: Attack) -> list[Finding]:
    """Findings for one origin sent as cross-site writes to ``/health``, a path with no write route.

    A refused write gets ``403``; one that passes reaches the routes, which
    answer ``405``, so the status tells which side of the protection it ended on.
    """
    text = attack.origin.decode("latin-1") if isinstance(attack.origin, bytes) else attack.origin
    findings = []
    for method in WRITE_METHODS:
        acceptable = {405 if write_passes(policy, value, method) else 403 for value in (text, text.strip(" \t"))}
        answer = exchange(client, method, "/health", [("Origin", attack.origin), ("Sec-Fetch-Site", "cross-site")])
        if answer.status not in acceptable:
            expected = " or ".join(str(status) for status in sorted(acceptable))
            findings.append(Finding(attack, f"cross-site {method} answered {answer.status}, expected {expected}"))
    return findings


def audit_writes(client: httpx.Client, policy: IntendedPolicy, corpus: Iterable[Attack]) -> list[Finding]:
    """Every forged write of a corpus that was not refused, or a trusted one that was."""
    return [finding for attack in corpus for finding in check_write(client, policy, attack)]
