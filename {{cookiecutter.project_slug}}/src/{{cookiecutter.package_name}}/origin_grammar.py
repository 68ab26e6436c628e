"""The origin grammar: a configured origin entry checked and made canonical, an ``Origin`` header taken apart.

An origin entry is one of:

- an exact origin, ``scheme://host[:port]`` with ``http`` or ``https``;
- a host pattern, ``https://*.example.com``: the ``*`` is exactly one DNS
  label, like a TLS wildcard certificate, and at least two labels follow it;
- a port pattern, ``http://localhost:*``: any port, or none;
- ``*``: every origin (whether it may be used is a rule of ``cors_policy``).

Entries and headers are split into host and port by one function,
:func:`split_host_port`. Standard library only, except for wildcard entries:
those are checked against the Public Suffix List that the
``publicsuffixlist`` package ships (offline, no download). The project
generator's hook loads this file too, so the generator and the service read
origins alike.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .setting_values import ASCII_DIGITS, PolicyError, split_list

ALL_ORIGINS = "*"
DEFAULT_PORTS = {"http": "80", "https": "443"}
DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
"""One host name label as browsers send it: lower case, no leading or trailing hyphen."""
MAX_HOST_LENGTH = 253
"""The longest host name DNS can hold; longer entries are refused."""
_CANONICAL_PORT = re.compile(r"[1-9][0-9]{0,4}")


@dataclass(frozen=True)
class NormalisedOrigin:
    """An origin entry in canonical form, and what was changed to get there."""

    text: str
    changes: tuple[str, ...] = ()


def split_host_port(authority: str) -> tuple[str, str, str] | None:
    """Host, ``":"`` when a port follows it, and port, as ``authority.partition(":")`` gives them for a name.

    A bracketed IPv6 host stays whole (``[::1]:8000`` gives ``("[::1]", ":", "8000")``).
    None when its bracket is not closed, or is followed by anything but ``:``.
    """
    if not authority.startswith("["):
        return authority.partition(":")
    address, bracket, tail = authority.partition("]")
    if not bracket or tail[:1] not in ("", ":"):
        return None
    return address + bracket, tail[:1], tail[1:]


def origin_parts(origin: str) -> tuple[str, str, str]:
    """Scheme, host and port (``""`` when absent, ``"*"`` for any) of a canonical origin entry."""
    scheme, _, authority = origin.partition("://")
    host, _, port = split_host_port(authority) or (authority, "", "")
    return scheme, host, port


def header_parts(origin: str) -> tuple[str, str, str] | None:
    """Scheme, host and port of an ``Origin`` header in the canonical form browsers send, else None.

    The header is taken as it is, never normalised: ``HTTPS://...``, a default
    port or a port with a leading zero is not what a browser sends.
    """
    scheme, separator, authority = origin.partition("://")
    parts = split_host_port(authority)
    if not separator or scheme not in DEFAULT_PORTS or parts is None:
        return None
    host, colon, port = parts
    if colon and (not _CANONICAL_PORT.fullmatch(port) or int(port) > 65535 or port == DEFAULT_PORTS[scheme]):
        return None
    return scheme, host, port


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
    host, port = _entry_host_port(authority, setting, entry)
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


def _entry_host_port(authority: str, setting: str, entry: str) -> tuple[str, str]:
    """The host and port of an entry's authority, refused when either is malformed."""
    parts = split_host_port(authority)
    if parts is None:
        problem = "has text after the IPv6 address" if "]" in authority else "has an invalid IPv6 address"
        raise PolicyError(setting, entry, problem, "Write it as http://[::1]:8000")
    host, colon, port = parts
    if not host:
        raise PolicyError(setting, entry, "has no host", "Write it as https://app.example.com")
    if colon and port != "*" and not (ASCII_DIGITS.fullmatch(port) and 0 < int(port) < 65536):
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
        if ASCII_DIGITS.fullmatch(fixed[-1]):
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
    if ASCII_DIGITS.fullmatch(labels[-1]):
        raise PolicyError(
            setting,
            entry,
            "ends its host with a number, so browsers read it as an IPv4 address",
            "Write the address in full, as in http://192.0.2.10, or use a host name",
        )
    if not all(DNS_LABEL.fullmatch(label) for label in labels):
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
