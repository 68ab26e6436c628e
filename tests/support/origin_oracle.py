"""The reference oracle for the origin grammar: whether an ``Origin`` header is allowed by answered entries.

Written from the grammar the generated README documents, in the plainest way
possible, sharing no code with the service's ``OriginMatcher``: an exact
origin matches only itself; a ``*.`` host pattern matches exactly one DNS
label in front of its parent; a ``:*`` port pattern matches no port or any
canonical port; ``*`` matches everything. Entries are read as answered (any
case, default port, trailing slash) and stand for their canonical form;
browsers send origins in canonical form, so a header in any other form (other
case, default port, trailing dot, userinfo, ...) matches nothing. IPv6 hosts
are bracketed (``http://[::1]:8000``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_PORTS = {"http": "80", "https": "443"}
DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
CANONICAL_PORT = re.compile(r"[1-9][0-9]{0,4}")


def split_authority(authority: str) -> tuple[str, str, str] | None:
    """Host, ``":"`` if a port separator follows it, and port; None when a bracketed host is not closed right."""
    if authority.startswith("["):
        end = authority.find("]") + 1
        if end == 0 or authority[end : end + 1] not in ("", ":"):
            return None
        return authority[:end], authority[end : end + 1], authority[end + 1 :]
    return authority.partition(":")


def entry_parts(entry: str) -> tuple[str, str, str]:
    """Scheme, host and port of an answered entry, in the canonical form it stands for.

    ``HTTP://LocalHost:80/`` stands for ``("http", "localhost", "")``; the port
    is ``""`` when absent or the scheme's default, ``"*"`` for any port.
    """
    scheme, _, rest = entry.strip().partition("://")
    scheme = scheme.lower()
    host, _, port = split_authority(rest.rstrip("/").lower()) or (rest, "", "")
    return scheme, host, "" if port == DEFAULT_PORTS.get(scheme) else port


def reference_allows(entries: Iterable[str], origin: str) -> bool:
    """Whether ``origin``, exactly as received, is allowed by the answered entries."""
    entries = [entry.strip() for entry in entries]
    if "*" in entries:
        return True
    scheme, separator, authority = origin.partition("://")
    parts = split_authority(authority)
    if not separator or parts is None or (parts[1] and not parts[2]):
        return False
    host, _, port = parts
    for entry in entries:
        entry_scheme, entry_host, entry_port = entry_parts(entry)
        if scheme == entry_scheme and host_matches(entry_host, host) and port_matches(entry_port, port, scheme):
            return True
    return False


def host_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        label, dot, parent = host.partition(".")
        return bool(dot) and parent == pattern[2:] and DNS_LABEL.fullmatch(label) is not None
    return host == pattern


def port_matches(pattern: str, port: str, scheme: str) -> bool:
    if pattern == "*":
        return port == "" or (
            CANONICAL_PORT.fullmatch(port) is not None and int(port) <= 65535 and port != DEFAULT_PORTS[scheme]
        )
    return port == pattern
