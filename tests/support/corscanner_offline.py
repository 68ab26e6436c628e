"""Run the published CORS scanner CORScanner (PyPI ``corscanner``) offline against a loopback server.

Usage: ``python corscanner_offline.py https://app.example.com:8443/health``

CORScanner derives its attack origins from the host of the URL it scans
(``https://app.example.com.evil.com``, ``https://evilexample.com``, ``null``,
``http://app.example.com``, ...), so the URL names the service's real host,
and this script resolves that one name to 127.0.0.1, as a hosts-file entry
would. Two more adjustments keep it offline: ``tldextract`` uses its bundled
public-suffix list instead of downloading one, and nothing else is touched.
The scanner's verdict is printed as one JSON object: ``{}`` when it found
nothing. It runs in its own process because importing CORScanner
monkey-patches the whole interpreter with gevent.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

import CORScanner.cors_scan  # first: it monkey-patches ssl and socket, which must precede other imports
import tldextract
import tldextract.tldextract


def resolve_to_loopback(host: str) -> None:
    resolve = socket.getaddrinfo

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        return resolve("127.0.0.1" if name == host else name, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def main(url: str) -> None:
    resolve_to_loopback(urlsplit(url).hostname or "")
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    print(json.dumps(CORScanner.cors_scan.cors_check(url) or {}))


if __name__ == "__main__":
    main(sys.argv[1])
