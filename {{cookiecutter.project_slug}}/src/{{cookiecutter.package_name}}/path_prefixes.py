"""Path prefixes (``CSRF_EXEMPT_PATHS``, ``CORS_PUBLIC_PATHS``): their grammar, and which one covers a request path.

A path prefix is a path as the routes spell it, ``/hooks`` or ``/hooks/stripe``;
it covers itself and every path below it, on segment boundaries: ``/hooks``
covers ``/hooks/x`` but not ``/hooksy``. Standard library only: the project
generator's hook loads this file too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .setting_values import PolicyError, split_list

_PATH_CHARACTERS = re.compile(r"[A-Za-z0-9._~!$&'()+,;=:@/-]*")
"""What a path carries unencoded (RFC 3986), less ``*``, which a prefix never needs."""


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
