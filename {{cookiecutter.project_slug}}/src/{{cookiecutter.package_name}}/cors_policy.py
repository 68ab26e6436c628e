"""The CORS safety rules of this service: which origins each environment may allow, and which rule answers whom.

This module and the ones it imports (``origin_grammar``, ``origin_matcher``,
``path_prefixes``, ``setting_values``) are the single home of those rules.
The project generator's hook loads these very files to check the answers
before a service is generated, and the service's settings apply them again
at start-up, so both refuse the same things with the same words.

A policy answers three audiences: the service's own frontends, partner sites
(read-only, never credentials), and every origin under a public path (read,
never credentials). An origin belongs to one rule only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .origin_grammar import ALL_ORIGINS, NormalisedOrigin, is_pattern, normalise_origins
from .origin_matcher import OriginMatcher
from .path_prefixes import PathPrefixes
from .setting_values import PolicyError

PUBLIC_METHODS = ("GET", "HEAD")
"""What every origin may do under a public path: read, never with credentials."""

PARTNER_METHODS = ("GET", "HEAD")
"""The partner rule's methods unless ``CORS_PARTNER_METHODS`` says otherwise: read-only."""


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

    @property
    def origin_profile(self) -> Environment:
        """The environment whose answered origins this one uses: the test environment uses development's."""
        return Environment.DEVELOPMENT if self is Environment.TEST else self


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


def check_exempt_paths(prefixes: Sequence[str], *, setting: str, switch_setting: str) -> None:
    """Refuse an exemption that would switch the write protection off for every path."""
    if "/" in prefixes:
        raise PolicyError(
            setting,
            "/",
            "exempts every path from the cross-origin write protection",
            f"List only the paths that receive cross-site posts, such as /webhooks; or set {switch_setting}=false",
        )


class RuleName(StrEnum):
    """The audiences a policy answers: its own frontends, partner sites, and everyone on public paths."""

    FRONTEND = "frontend"
    PARTNER = "partner"
    PUBLIC = "public"


@dataclass(frozen=True, kw_only=True)
class CorsAnswer:
    """What a CORS answer is made of: the origins it allows, and its methods, headers and credentials."""

    allow_origins: tuple[str, ...]
    allow_credentials: bool
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int

    def matcher(self) -> OriginMatcher:
        return OriginMatcher(self.allow_origins)


@dataclass(frozen=True, kw_only=True)
class CorsRule(CorsAnswer):
    """The CORS answer one audience gets."""

    name: RuleName


@dataclass(frozen=True, kw_only=True)
class CorsPolicy(CorsAnswer):
    """A checked CORS configuration for one environment.

    The frontend rule is the policy's own fields. Partner origins get a rule of
    their own, never with credentials; under a public path every origin may
    read, never with credentials. An origin belongs to one rule only.
    """

    environment: Environment
    partner_origins: tuple[str, ...] = ()
    partner_methods: tuple[str, ...] = PARTNER_METHODS
    partner_headers: tuple[str, ...] = ()
    public_paths: tuple[str, ...] = ()

    def frontend_rule(self) -> CorsRule:
        return self._rule(RuleName.FRONTEND, self.allow_origins, self.allow_methods, self.allow_headers)

    def partner_rule(self) -> CorsRule | None:
        """The partner sites' rule, or None when no partner origin is configured."""
        if not self.partner_origins:
            return None
        return self._rule(RuleName.PARTNER, self.partner_origins, self.partner_methods, self.partner_headers)

    def public_rule(self) -> CorsRule | None:
        """Every origin's rule under the public paths, or None when there are none."""
        if not self.public_paths:
            return None
        return self._rule(RuleName.PUBLIC, (ALL_ORIGINS,), PUBLIC_METHODS, ())

    def _rule(
        self, name: RuleName, origins: tuple[str, ...], methods: tuple[str, ...], headers: tuple[str, ...]
    ) -> CorsRule:
        """One audience's rule: credentials for the frontends only; exposed headers and lifetime shared by all."""
        credentials = self.allow_credentials and name is RuleName.FRONTEND
        return CorsRule(
            name=name,
            allow_origins=origins,
            allow_credentials=credentials,
            allow_methods=methods,
            allow_headers=headers,
            expose_headers=self.expose_headers,
            max_age=self.max_age,
        )


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
