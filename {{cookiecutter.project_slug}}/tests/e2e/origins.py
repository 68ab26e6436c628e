"""The origins the browser tests load the frontend page at, chosen from the answered development origins."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from {{ cookiecutter.package_name }}.cors_policy import Environment
from {{ cookiecutter.package_name }}.origin_grammar import ALL_ORIGINS, normalise_origin

from ..answers import ANSWERED_ORIGINS, concrete_origins

DEVELOPMENT = [normalise_origin(entry, "dev_origins").text for entry in ANSWERED_ORIGINS[Environment.DEVELOPMENT]]
ALLOWS_ALL = ALL_ORIGINS in DEVELOPMENT


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def servable(origin: str) -> bool:
    """Chromium can map the origin's host to the frontend server: plain http, a host name, a port."""
    url = urlsplit(origin)
    return url.scheme == "http" and url.port is not None and not is_ip_address(url.hostname or "")


ALLOWED = next((o for entry in DEVELOPMENT for o in concrete_origins(entry) if servable(o)), None)
"""The page origin the service must answer; None when no development origin can be served."""

_PAGE = urlsplit(ALLOWED or "http://localhost:3000")
HOST, PORT = _PAGE.hostname or "localhost", _PAGE.port or 3000
LOOKALIKE = f"http://{HOST}.evil.test:{PORT}"
OTHER_PORT = f"http://{HOST}:{PORT + 1}"
PARTNER = f"http://dashboard.partner.test:{PORT}"
"""A partner site's page: the browser tests configure it as the partner rule's origin."""

FOREIGN = {
    "lookalike host": (LOOKALIKE, ALLOWS_ALL),
    "another port": (OTHER_PORT, ALLOWS_ALL or OTHER_PORT in DEVELOPMENT or f"http://{HOST}:*" in DEVELOPMENT),
}
"""Other page origins, and whether the answers allow them (only '*' or a port pattern would)."""
