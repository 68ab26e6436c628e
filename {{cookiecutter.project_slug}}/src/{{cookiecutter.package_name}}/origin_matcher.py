"""The origin matcher: whether an ``Origin`` header is allowed by a list of canonical origin entries."""

from __future__ import annotations

from collections.abc import Iterable

from .origin_grammar import ALL_ORIGINS, DNS_LABEL, header_parts, is_pattern, origin_parts


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
            scheme, host, port = origin_parts(pattern)
            if host.startswith("*."):
                self._any_label.add((scheme, host[2:], port))
            else:
                self._any_port.add((scheme, host))

    def __call__(self, origin: str) -> bool:
        if self.allows_all or origin in self._exact:
            return True
        parts = header_parts(origin)
        if parts is None:
            return False
        scheme, host, port = parts
        if (scheme, host) in self._any_port:
            return True
        label, dot, parent = host.partition(".")
        if not dot or not DNS_LABEL.fullmatch(label):
            return False
        return (scheme, parent, port) in self._any_label or (scheme, parent, "*") in self._any_label
