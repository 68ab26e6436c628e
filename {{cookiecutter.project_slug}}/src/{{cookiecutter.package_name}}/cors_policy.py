"""The origin grammar and the CORS safety rules of this service.

This module is the single home of those rules. The project generator's hook
loads this very file to check the answers before a service is generated, and
the service's settings apply it again at start-up, so both refuse the same
things with the same words. It depends on the standard library only, except
for wildcard entries: those are checked against the Public Suffix List that
the ``publicsuffixlist`` package ships (offline, no download).

An origin entry is one of:

- an exact origin, ``scheme://host[:port]`` with ``http`` or ``https``;
- a host pattern, ``https://*.example.com``: the ``*`` is exactly one DNS
  label, like a TLS wildcard certificate, and at least two labels follow it;
- a port pattern, ``http://localhost:*``: any port, or none;
- ``*``: every origin (development and test only, never with credentials).

A path prefix (``CSRF_EXEMPT_PATHS``) is a path as the routes spell it,
``/hooks`` or ``/hooks/stripe``; it covers itself and every path below it,
on segment boundaries: ``/hooks`` covers ``/hooks/x`` but not ``/hooksy``.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

ALL_ORIGINS = "*"
DEFAULT_PORTS = {"http": "80", "https": "443"}

_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CANONICAL_PORT = re.compile(r"[1-9][0-9]{0,4}")
_ASCII_DIGITS = re.compile(r"[0-9]+")
MAX_HOST_LENGTH = 253
"""The longest host name DNS can hold; longer entries are refused."""
MAX_ORIGIN_LENGTH = len("https://") + MAX_HOST_LENGTH + len(":65535")
"""The longest entry the grammar accepts (a stored origin never needs more room)."""
CHROMIUM_MAX_AGE = 7200
"""Chromium caches a preflight answer for at most this many seconds, whatever ``max_age`` says."""
_TOKEN_EXAMPLES = {"method": "GET", "header": "Authorization"}
_PATH_CHARACTERS = re.compile(r"[A-Za-z0-9._~!$&'()+,;=:@/-]*")
"""What a path carries unencoded (RFC 3986), less ``*``, which a prefix never needs."""


class Environment(StrEnum):
    """Where the service runs; each environment has its own allowed origins."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"
    TEST = "test"

    @property
    def allows_all_origins(self) -> bool:
        """Whether ``*`` may be configured: only on a developer's machine."""
        return self in (Environment.DEVELOPMENT, Environment.TEST)


class PolicyError(ValueError):
    """A setting breaks the grammar or a safety rule.

    The message names the setting, the refused value and what to write instead.
    """

    def __init__(self, setting: str, value: str, problem: str, fix: str) -> None:
        self.setting = setting
        self.value = value
        super().__init__(f"{setting}: {value!r} {problem}. {fix}")


@dataclass(frozen=True)
class NormalisedOrigin:
    """An origin entry in canonical form, and what was changed to get there."""

    text: str
    changes: tuple[str, ...] = ()


def split_list(value: str | Iterable[str], setting: str) -> list[str]:
    """Read a list given as a JSON array, as comma-separated text, or as a sequence."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if not isinstance(decoded, list) or not all(isinstance(item, str) for item in decoded):
                raise PolicyError(
                    setting,
                    value,
                    "is not a JSON array of strings",
                    'Write a comma-separated list, or a JSON array such as ["a", "b"]',
                )
            items: Iterable[str] = decoded
        else:
            items = text.split(",")
    else:
        items = value
    return [item.strip() for item in items if item.strip()]


def normalise_origin(entry: str, setting: str) -> NormalisedOrigin:
    """Check one origin entry against the grammar and return its canonical form."""
    if entry == ALL_ORIGINS:
        return NormalisedOrigin(ALL_ORIGINS)
    changes: list[str] = []
    scheme, separator, rest = entry.partition("://")
    if not separator:
        example = entry.lstrip("/").split("/")[0] or "app.example.com"
        raise PolicyError(
            setting, entry, "has no scheme", f"Write 'https://{example}' (or http:// for local development)"
        )
    if scheme.lower() not in DEFAULT_PORTS:
        raise PolicyError(
            setting,
            entry,
            f"uses the scheme {scheme!r}; browsers send only http and https origins",
            f"Write 'https://{rest}'",
        )
    if scheme != scheme.lower():
        changes.append("lower-cased the scheme")
        scheme = scheme.lower()
    if rest.endswith("/") and rest.count("/") == 1:
        rest = rest[:-1]
        changes.append("removed the trailing slash")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if authority != rest:
        raise PolicyError(
            setting,
            entry,
            "has a path, query or fragment; an origin is only scheme://host[:port]",
            f"Write '{scheme}://{authority}'",
        )
    if "@" in authority:
        bare = authority.rpartition("@")[2]
        raise PolicyError(setting, entry, "carries user information", f"Write '{scheme}://{bare}'")
    host, port = _split_authority(authority, setting, entry)
    if port != "*" and port.lstrip("0") != port:
        changes.append("removed the leading zeros of the port")
        port = port.lstrip("0")
    if host != host.lower():
        changes.append("lower-cased the host")
        host = host.lower()
    _check_host(host, setting, entry, scheme)
    if port == DEFAULT_PORTS[scheme]:
        changes.append(f"dropped the default port :{port}")
        port = ""
    text = f"{scheme}://{host}" + (f":{port}" if port else "")
    return NormalisedOrigin(text, tuple(changes))


def _split_authority(authority: str, setting: str, entry: str) -> tuple[str, str]:
    if authority.startswith("["):
        host, _, tail = authority.partition("]")
        host += "]"
        if tail and not tail.startswith(":"):
            raise PolicyError(setting, entry, "has text after the IPv6 address", "Write it as http://[::1]:8000")
        port = tail[1:]
        has_port = bool(tail)
    else:
        host, colon, port = authority.partition(":")
        has_port = bool(colon)
    if not host:
        raise PolicyError(setting, entry, "has no host", "Write it as https://app.example.com")
    if has_port and port != "*" and not (_ASCII_DIGITS.fullmatch(port) and 0 < int(port) < 65536):
        raise PolicyError(setting, entry, "has an invalid port", "Use a port from 1 to 65535, or '*' for any port")
    return host, port


def _check_host(host: str, setting: str, entry: str, scheme: str) -> None:
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise PolicyError(setting, entry, "has an invalid IPv6 address", "Write it as http://[::1]:8000") from None
        if address.scope_id is not None:
            bare = host[1:-1].partition("%")[0]
            raise PolicyError(
                setting, entry, "has an IPv6 zone index, which no browser sends", f"Write '{scheme}://[{bare}]'"
            )
        return
    if not host.isascii():
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = "xn--..."
        raise PolicyError(
            setting, entry, "has a non-ASCII host; browsers send its punycode form", f"Write '{scheme}://{ascii_host}'"
        )
    if host.endswith("."):
        raise PolicyError(setting, entry, "ends its host with a dot", f"Write '{scheme}://{host.rstrip('.')}'")
    if len(host) > MAX_HOST_LENGTH:
        raise PolicyError(
            setting,
            entry[:60] + "...",
            f"has a host of {len(host)} characters, more than the {MAX_HOST_LENGTH} a host name can hold",
            "List the origin your frontend is served from",
        )
    labels = host.split(".")
    if labels[0] == "*":
        fixed = labels[1:]
        if len(fixed) < 2:
            raise PolicyError(
                setting,
                entry,
                "lets the wildcard reach a whole top-level domain",
                "Put at least two labels after it, as in https://*.example.com",
            )
        if _ASCII_DIGITS.fullmatch(fixed[-1]):
            raise PolicyError(
                setting,
                entry,
                "puts a wildcard over a numeric address, which an IP address can match",
                "List each address itself, as in https://192.0.2.10",
            )
        _check_not_public_suffix(".".join(fixed), setting, entry)
        labels = fixed
    if any("*" in label for label in labels):
        raise PolicyError(
            setting,
            entry,
            "uses '*' inside the host",
            "A wildcard must be the whole leftmost label, as in https://*.example.com",
        )
    if _is_ipv4(host):
        return
    if _ASCII_DIGITS.fullmatch(labels[-1]):
        raise PolicyError(
            setting,
            entry,
            "ends its host with a number, so browsers read it as an IPv4 address",
            "Write the address in full, as in http://192.0.2.10, or use a host name",
        )
    if not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise PolicyError(
            setting,
            entry,
            "has an invalid host name",
            "Use letters, digits and hyphens between the dots, as in https://app.example.com",
        )


def _check_not_public_suffix(domain: str, setting: str, entry: str) -> None:
    """Refuse a wildcard directly under a public suffix, where anyone can register a name."""
    try:
        is_public = _public_suffixes()
    except ImportError:
        raise PolicyError(
            setting,
            entry,
            "is a wildcard; wildcards are checked against the Public Suffix List, but publicsuffixlist is missing",
            "Install it beside cookiecutter: pip install publicsuffixlist, or uvx --with publicsuffixlist cookiecutter",
        ) from None
    if is_public(domain):
        raise PolicyError(
            setting,
            entry,
            f"lets anyone match it: {domain!r} is a public suffix, under which anyone can register a name",
            f"List your own origins, or a wildcard under a domain you control, as in https://*.your-company.{domain}",
        )


@functools.cache
def _public_suffixes() -> Callable[[str], bool]:
    """The Public Suffix List shipped by ``publicsuffixlist`` (ICANN and private sections)."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=False).is_public


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def is_pattern(origin: str) -> bool:
    """Whether a canonical origin entry matches more than one origin."""
    return origin == ALL_ORIGINS or "://*." in origin or origin.endswith(":*")


def normalise_origins(value: str | Iterable[str], setting: str) -> list[NormalisedOrigin]:
    """Check a list of origin entries; duplicates are dropped, order is kept."""
    seen: dict[str, NormalisedOrigin] = {}
    for entry in split_list(value, setting):
        origin = normalise_origin(entry, setting)
        seen.setdefault(origin.text, origin)
    return list(seen.values())


def check_origin_rules(
    origins: Sequence[str],
    *,
    environment: Environment,
    allow_credentials: bool,
    setting: str,
    credentials_setting: str,
) -> None:
    """Refuse origin lists that are unsafe for the environment they serve."""
    if ALL_ORIGINS in origins:
        if not environment.allows_all_origins:
            raise PolicyError(
                setting,
                ALL_ORIGINS,
                f"allows every origin, which is refused in {environment}",
                "List the frontend origins, as in https://app.example.com",
            )
        if allow_credentials:
            raise PolicyError(
                setting,
                ALL_ORIGINS,
                "allows every origin together with credentials, so any web page could act as your users",
                f"List the frontend origins, or set {credentials_setting} to false",
            )
    if environment is Environment.PRODUCTION:
        if not origins:
            raise PolicyError(
                setting,
                "",
                "is empty, but production needs its frontend origins",
                "List them, as in https://app.example.com",
            )
        for origin in origins:
            if origin.startswith("http://"):
                raise PolicyError(
                    setting,
                    origin,
                    "is plain http, which is refused in production",
                    f"Write '{origin.replace('http://', 'https://', 1)}'",
                )


def check_origin_list(
    value: str | Iterable[str],
    *,
    environment: Environment,
    allow_credentials: bool,
    setting: str,
    credentials_setting: str,
) -> list[NormalisedOrigin]:
    """Read one environment's origin entries and apply the grammar and that environment's rules."""
    origins = normalise_origins(value, setting)
    check_origin_rules(
        [origin.text for origin in origins],
        environment=environment,
        allow_credentials=allow_credentials,
        setting=setting,
        credentials_setting=credentials_setting,
    )
    return origins


def normalise_tokens(value: str | Iterable[str], setting: str, kind: str) -> list[str]:
    """Check a list of HTTP methods or header names (RFC 9110 tokens)."""
    tokens: dict[str, str] = {}
    for item in split_list(value, setting):
        if not _HTTP_TOKEN.fullmatch(item):
            raise PolicyError(
                setting,
                item,
                f"is not a valid HTTP {kind}",
                f"Use a single {kind} such as {_TOKEN_EXAMPLES[kind]}, separated by commas",
            )
        canonical = item.upper() if kind == "method" else item
        tokens.setdefault(canonical.lower(), canonical)
    return list(tokens.values())


def parse_max_age(value: str | int, setting: str) -> int:
    """Check the preflight cache lifetime, in whole seconds."""
    text = str(value).strip()
    if isinstance(value, bool) or not _ASCII_DIGITS.fullmatch(text):
        raise PolicyError(
            setting, str(value), "is not a whole, non-negative number of seconds", "Write, for example, 600"
        )
    return int(text)


class OriginMatcher:
    """Decides whether an ``Origin`` header is allowed by a list of canonical entries.

    Browsers send origins in canonical form, so a header is compared as it is,
    never normalised: ``HTTPS://App.example.com`` is not an origin a browser sends.
    Each check is a few hash lookups, whatever the number of entries.
    """

    def __init__(self, origins: Iterable[str]) -> None:
        entries = set(origins)
        self.entries = tuple(sorted(entries))
        """The canonical entries this matcher allows, for explanations."""
        self.allows_all = ALL_ORIGINS in entries
        self._exact = frozenset(o for o in entries if not is_pattern(o))
        self._any_port: set[tuple[str, str]] = set()
        self._any_label: set[tuple[str, str, str]] = set()
        for pattern in entries - self._exact - {ALL_ORIGINS}:
            scheme, _, authority = pattern.partition("://")
            host, _, port = authority.partition(":") if not authority.startswith("[") else _ipv6(authority)
            if host.startswith("*."):
                self._any_label.add((scheme, host[2:], port))
            else:
                self._any_port.add((scheme, host))

    def __call__(self, origin: str) -> bool:
        if self.allows_all or origin in self._exact:
            return True
        parts = _canonical_parts(origin)
        if parts is None:
            return False
        scheme, host, port = parts
        if (scheme, host) in self._any_port:
            return True
        label, dot, parent = host.partition(".")
        if not dot or not _DNS_LABEL.fullmatch(label):
            return False
        return (scheme, parent, port) in self._any_label or (scheme, parent, "*") in self._any_label


def _ipv6(authority: str) -> tuple[str, str, str]:
    """Partition ``[addr]:port`` like ``str.partition(":")`` does for a name."""
    host, _, tail = authority.partition("]")
    return host + "]", tail[:1], tail[1:]


def _canonical_parts(origin: str) -> tuple[str, str, str] | None:
    """Split an origin a browser could send into scheme, host and port."""
    scheme, separator, authority = origin.partition("://")
    if not separator or scheme not in DEFAULT_PORTS:
        return None
    host, colon, port = _ipv6(authority) if authority.startswith("[") else authority.partition(":")
    if colon and (not _CANONICAL_PORT.fullmatch(port) or int(port) > 65535 or port == DEFAULT_PORTS[scheme]):
        return None
    return scheme, host, port


PUBLIC_METHODS = ("GET", "HEAD")
"""What every origin may do under a public path: read, never with credentials."""

PARTNER_METHODS = ("GET", "HEAD")
"""The partner rule's methods unless ``CORS_PARTNER_METHODS`` says otherwise: read-only."""


class RuleName(StrEnum):
    """The audiences a policy answers: its own frontends, partner sites, and everyone on public paths."""

    FRONTEND = "frontend"
    PARTNER = "partner"
    PUBLIC = "public"


@dataclass(frozen=True)
class CorsRule:
    """The CORS answer one audience gets: its origins, methods, headers and credentials."""

    name: RuleName
    allow_origins: tuple[str, ...]
    allow_credentials: bool
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int

    def matcher(self) -> OriginMatcher:
        return OriginMatcher(self.allow_origins)


@dataclass(frozen=True)
class CorsPolicy:
    """A checked CORS configuration for one environment.

    The frontend rule is the policy's own fields. Partner origins get a rule of
    their own, never with credentials; under a public path every origin may
    read, never with credentials. An origin belongs to one rule only.
    """

    environment: Environment
    allow_origins: tuple[str, ...]
    allow_credentials: bool
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int
    partner_origins: tuple[str, ...] = ()
    partner_methods: tuple[str, ...] = PARTNER_METHODS
    partner_headers: tuple[str, ...] = ()
    public_paths: tuple[str, ...] = ()

    def matcher(self) -> OriginMatcher:
        return OriginMatcher(self.allow_origins)

    def frontend_rule(self) -> CorsRule:
        return CorsRule(
            RuleName.FRONTEND,
            self.allow_origins,
            self.allow_credentials,
            self.allow_methods,
            self.allow_headers,
            self.expose_headers,
            self.max_age,
        )

    def partner_rule(self) -> CorsRule | None:
        """The partner sites' rule, or None when no partner origin is configured."""
        if not self.partner_origins:
            return None
        return CorsRule(
            RuleName.PARTNER,
            self.partner_origins,
            False,
            self.partner_methods,
            self.partner_headers,
            self.expose_headers,
            self.max_age,
        )

    def public_rule(self) -> CorsRule | None:
        """Every origin's rule under the public paths, or None when there are none."""
        if not self.public_paths:
            return None
        return CorsRule(RuleName.PUBLIC, (ALL_ORIGINS,), False, PUBLIC_METHODS, (), self.expose_headers, self.max_age)


class RuleSelector:
    """Which rule owns a request: a public path first, then a partner origin, else the frontend rule.

    One path lookup and one origin lookup, whatever the number of entries.
    """

    def __init__(self, policy: CorsPolicy) -> None:
        self.public_paths = PathPrefixes(policy.public_paths)
        self.partner_origins = OriginMatcher(policy.partner_origins)

    def __call__(self, path: str, origin: str | None) -> RuleName:
        """The rule of a request for ``path`` with this ``Origin`` header (None: no header)."""
        if self.public_paths(path) is not None:
            return RuleName.PUBLIC
        if origin is not None and self.partner_origins(origin):
            return RuleName.PARTNER
        return RuleName.FRONTEND


def check_partner_origins(
    partners: Sequence[str], frontends: Sequence[str], *, setting: str, frontend_setting: str
) -> None:
    """Refuse a partner entry that is also, or overlaps, a frontend entry: each origin has one rule."""
    frontend, partner = OriginMatcher(frontends), OriginMatcher(partners)
    for entry in partners:
        overlap = next((f for f in frontends if f == entry or partner(f)), None)
        if overlap is not None or (not is_pattern(entry) and frontend(entry)):
            raise PolicyError(
                setting,
                entry,
                f"is also allowed by {frontend_setting}"
                + (f" ({overlap!r})" if overlap and overlap != entry else "")
                + ", and an origin gets one rule only",
                f"Remove it from {setting} (partners: read-only, no credentials) or from {frontend_setting}",
            )


def check_public_paths(prefixes: Sequence[str], *, setting: str) -> None:
    """Refuse a public path that would open every path to every origin."""
    if "/" in prefixes:
        raise PolicyError(
            setting,
            "/",
            "makes every path readable by every origin",
            "List only the public prefixes, such as /public or /status",
        )


def normalise_path_prefix(entry: str, setting: str) -> str:
    """Check one path prefix against the grammar and return its canonical form (no trailing slash)."""
    if not entry.startswith("/"):
        raise PolicyError(setting, entry, "does not start with '/'", f"Write '/{entry.lstrip('/')}'")
    path = re.split(r"[?#]", entry, maxsplit=1)[0]
    if path != entry:
        raise PolicyError(setting, entry, "has a query or fragment; a prefix is only a path", f"Write '{path}'")
    if "*" in path:
        bare = path.split("*", 1)[0].rstrip("/") or "/"
        raise PolicyError(setting, entry, "uses '*'; a prefix already covers every path below it", f"Write '{bare}'")
    if not _PATH_CHARACTERS.fullmatch(path):
        raise PolicyError(
            setting,
            entry,
            "has a space, '%', or another character a path does not carry as it is",
            "Write the path as the routes spell it, in plain ASCII letters, digits and - . _ ~",
        )
    segments = path.rstrip("/").split("/")[1:]
    if any(segment in ("", ".", "..") for segment in segments):
        resolved = _resolved(segments)
        raise PolicyError(
            setting, entry, "has an empty, '.' or '..' segment", f"Write the path it stands for: '{resolved}'"
        )
    return path.rstrip("/") or "/"


def _resolved(segments: list[str]) -> str:
    """The path that segments with empty, ``.`` and ``..`` parts lead to."""
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            kept = kept[:-1]
        elif segment not in ("", "."):
            kept.append(segment)
    return "/" + "/".join(kept)


def normalise_path_prefixes(value: str | Iterable[str], setting: str) -> list[str]:
    """Check a list of path prefixes; duplicates are dropped, order is kept."""
    return list(dict.fromkeys(normalise_path_prefix(entry, setting) for entry in split_list(value, setting)))


def check_exempt_paths(prefixes: Sequence[str], *, setting: str, switch_setting: str) -> None:
    """Refuse an exemption that would switch the write protection off for every path."""
    if "/" in prefixes:
        raise PolicyError(
            setting,
            "/",
            "exempts every path from the cross-origin write protection",
            f"List only the paths that receive cross-site posts, such as /webhooks; or set {switch_setting}=false",
        )


class PathPrefixes:
    """Finds which of a set of canonical path prefixes covers a request path.

    A prefix covers a path equal to it or below it on a ``/`` boundary. A path
    with a ``.`` or ``..`` segment is covered by none, so no prefix reaches a
    path that some later layer might resolve elsewhere. The check is one split
    and one hash lookup per distinct prefix depth, whatever the path's length.
    """

    def __init__(self, prefixes: Iterable[str]) -> None:
        self.prefixes = frozenset(prefixes)
        self._depths = sorted({prefix.count("/") for prefix in self.prefixes if prefix != "/"}, reverse=True)

    def __call__(self, path: str) -> str | None:
        """The prefix that covers ``path``, or None."""
        if not self.prefixes or not path.startswith("/"):
            return None
        if "/." in path and any(segment in (".", "..") for segment in path.split("/")):
            return None
        if "/" in self.prefixes:
            return "/"
        segments = path.split("/", self._depths[0] + 1)
        for depth in self._depths:
            if len(segments) > depth:
                candidate = "/".join(segments[: depth + 1])
                if candidate in self.prefixes:
                    return candidate
        return None
