"""Why a cross-origin request is refused, in plain words, and what to change.

The decision is always Starlette's, made by the service's own middleware; this
module only names the rules a refused request broke, each with the setting to
change, and notices near misses: an origin that differs from an allowed one by
a path, its case, its scheme, its port or a subdomain level, or that another
environment allows. The refusal log, the 400 answer in development and
``cors explain`` all use these words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.middleware.cors import ALL_METHODS, SAFELISTED_HEADERS

from .cors_policy import CorsRule, Environment, RuleName
from .origin_grammar import NormalisedOrigin, is_pattern, normalise_origin, origin_parts
from .origin_matcher import OriginMatcher
from .refusal_log import cut
from .setting_values import PolicyError

SIMPLE_METHODS = frozenset({"GET", "HEAD", "POST"})
SIMPLE_HEADERS = frozenset({"accept", "accept-language", "content-language"})
"""Headers a page may send without a preflight (``Content-Type`` only with form types, so not listed)."""

OriginCheck = Callable[[str], bool]


@dataclass(frozen=True)
class CrossOriginRequest:
    """What a page asks for: its origin, the method and headers of its request, whether it sends credentials."""

    origin: str
    method: str = "GET"
    headers: tuple[str, ...] = ()
    credentials: bool = False
    private_network: bool = False

    @property
    def needs_preflight(self) -> bool:
        """Whether a browser asks with a preflight first: a method or a header a simple request cannot have."""
        return self.method not in SIMPLE_METHODS or any(h.lower() not in SIMPLE_HEADERS for h in self.headers)


@dataclass(frozen=True)
class BrokenRule:
    """One rule a request broke: its name in the refusal log, the fix, and notes on near misses."""

    rule: str
    fix: str
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [f"refused: {self.rule}", f"  fix: {self.fix}", *(f"  note: {note}" for note in self.notes)]


RULE_SETTINGS = {
    RuleName.FRONTEND: ("CORS_ALLOW_METHODS", "CORS_ALLOW_HEADERS"),
    RuleName.PARTNER: ("CORS_PARTNER_METHODS", "CORS_PARTNER_HEADERS"),
    RuleName.PUBLIC: ("the public paths' methods (GET, HEAD)", "the public paths' headers (none)"),
}
"""Which settings hold each rule's methods and request headers."""

UNEXPLAINED = BrokenRule("refused by Starlette's CORS checks", "compare the answer's headers with what the page sends")


def broken_rules(
    rule: CorsRule,
    matcher: OriginMatcher,
    environment: Environment,
    request: CrossOriginRequest,
    elsewhere: Mapping[Environment, OriginCheck] | None = None,
) -> list[BrokenRule]:
    """Each part of ``rule`` that ``request`` breaks (for a request Starlette refused under that rule).

    ``matcher`` is the rule's matcher in force (with the registry's origins,
    where there is one); ``elsewhere`` says which origins other environments
    allow, and only adds notes on near misses. The checks are Starlette's, read
    from the configuration it was given: see :func:`allows_method` and
    :func:`allows_header`.
    """
    rules = []
    methods, headers = RULE_SETTINGS[rule.name]
    fix = "add {} to {}" if rule.name is not RuleName.PUBLIC else "a public path only serves reads: {} is not in {}"
    whose = "" if rule.name is RuleName.FRONTEND else f" ({rule.name} rule)"
    if not matcher(request.origin):
        rules.append(origin_rule(request.origin, environment, matcher, elsewhere or {}))
    if not allows_method(rule, request.method):
        method = cut(request.method)
        rules.append(BrokenRule(f"method {method} not in {methods}{whose}", fix.format(method, methods)))
    refused = [header for header in request.headers if not allows_header(rule, header)]
    if refused:
        rules.append(
            BrokenRule(
                f"headers {cut(', '.join(h.lower() for h in refused))} not in {headers}{whose}",
                fix.format(cut(", ".join(refused)), headers),
            )
        )
    if request.private_network:  # the service never allows it (Starlette's default)
        rules.append(
            BrokenRule(
                "private network access is not allowed",
                "this service does not answer private network preflights: call it from a page on the same network",
            )
        )
    if request.credentials and not rule.allow_credentials and rule.name is RuleName.FRONTEND:
        rules.append(
            BrokenRule(
                "credentials requested, but CORS_ALLOW_CREDENTIALS is false",
                "send the request without credentials, or set CORS_ALLOW_CREDENTIALS=true (never together with '*')",
            )
        )
    elif request.credentials and not rule.allow_credentials:
        rules.append(
            BrokenRule(
                f"credentials requested, but the {rule.name} rule never allows them",
                "send the request without credentials (fetch's credentials: 'omit');"
                " an origin that needs them is a frontend origin: move it to CORS_ALLOW_ORIGINS",
            )
        )
    return rules or [UNEXPLAINED]


def allows_method(rule: CorsRule, method: str) -> bool:
    """Starlette's method check: the method is listed (case matters), or ``*`` stands for its standard methods."""
    return method in (ALL_METHODS if "*" in rule.allow_methods else rule.allow_methods)


def allows_header(rule: CorsRule, header: str) -> bool:
    """Starlette's header check: ``*`` allows any; else the header, in any case, is listed or safelisted."""
    allowed = {name.lower() for name in (*SAFELISTED_HEADERS, *rule.allow_headers)}
    return "*" in rule.allow_headers or header.lower() in allowed


def origin_rule(
    origin: str,
    environment: Environment,
    matcher: OriginMatcher,
    elsewhere: Mapping[Environment, OriginCheck],
) -> BrokenRule:
    browser_form = as_browser_sends(origin)
    if browser_form is None:
        fix = f"{quoted(origin)} is not an origin a browser sends (scheme://host[:port]); check the Origin header"
    elif browser_form.text != origin and matcher(browser_form.text):
        fix = (
            f"a browser never sends {quoted(origin)}: it sends {cut(browser_form.text)}"
            f" ({', '.join(browser_form.changes)}), which is allowed"
        )
    elif environment is Environment.PRODUCTION and browser_form.text.startswith("http://"):
        fix = "production allows https:// origins only: serve the page over https"
    else:
        fix = (
            f"if that page should call this service, add {cut(browser_form.text)} to CORS_ALLOW_ORIGINS for"
            f" APP_ENV={environment} (the variable replaces the whole list: keep the others)"
        )
    notes = near_misses(origin, browser_form, environment, matcher, elsewhere)
    return BrokenRule(f"origin not in CORS_ALLOW_ORIGINS for APP_ENV={environment}", fix, tuple(notes))


def near_misses(
    origin: str,
    browser_form: NormalisedOrigin | None,
    environment: Environment,
    matcher: OriginMatcher,
    elsewhere: Mapping[Environment, OriginCheck],
) -> list[str]:
    """Entries of ``matcher``, or other environments, that ``origin`` just misses."""
    if browser_form is None:
        return []
    notes = []
    text = browser_form.text
    scheme, host, port = origin_parts(text)
    twin = f"{'https' if scheme == 'http' else 'http'}://{text.partition('://')[2]}"
    if matcher(twin):
        notes.append(f"{twin} is allowed, over the other scheme: serve the page as {twin}, or add {cut(text)}")
    for entry in matcher.entries:
        entry_scheme, entry_host, entry_port = origin_parts(entry)
        if entry_scheme != scheme or is_pattern(entry):
            continue
        if entry_host == host and entry_port != port:
            notes.append(f"{entry} is allowed, on {port_name(entry_port)}, not {port_name(port)}")
    for entry in matcher.entries:
        entry_scheme, entry_host, entry_port = origin_parts(entry)
        if entry_scheme != scheme or not entry_host.startswith("*.") or entry_port not in (port, "*"):
            continue
        parent = entry_host[2:]
        if host == parent:
            notes.append(f"{entry} matches one label before {parent}, not {parent} itself: add {cut(text)}")
        elif host.endswith(f".{parent}") and "." in host.removesuffix(f".{parent}"):
            deeper = text.replace(host, f"*.{host.partition('.')[2]}", 1)
            notes.append(f"{entry} reaches one subdomain level only: add {cut(text)}, or the pattern {cut(deeper)}")
    notes += [f"allowed in {other}, not in {environment}" for other, check in elsewhere.items() if check(text)]
    return notes


def as_browser_sends(origin: str) -> NormalisedOrigin | None:
    """The origin a browser would send for ``origin`` (path, case and default port dropped), or None."""
    scheme, separator, rest = origin.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    try:
        form = normalise_origin(f"{scheme}{separator}{authority}", "Origin")
    except PolicyError:
        return None
    if is_pattern(form.text):
        return None
    if authority == rest:
        return form
    dropped = "removed the trailing slash" if rest == f"{authority}/" else "removed the path"
    return NormalisedOrigin(form.text, (*form.changes, dropped))


def port_name(port: str) -> str:
    return f"port {port}" if port else "the default port"


def quoted(value: str) -> str:
    """``value`` quoted as a Python string, cut when long."""
    return repr(cut(value))


def explanation(rules: Sequence[BrokenRule]) -> str:
    """The rules as lines of text: the refusal, the fix, the notes."""
    return "\n".join(line for rule in rules for line in rule.lines())
