"""A small reverse proxy on loopback that adds a response header, as a misconfigured ingress or CDN does."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@contextmanager
def header_adding_proxy(upstream: str, name: str, value: str) -> Iterator[str]:
    """Serve a proxy to ``upstream`` that adds ``name: value`` to every answer; yield its base URL."""
    target = urlsplit(upstream)

    class Forward(BaseHTTPRequestHandler):
        def forward(self) -> None:
            connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=10)
            try:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                connection.request(self.command, self.path, body=self.rfile.read(length), headers=headers)
                answer = connection.getresponse()
                body = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for key, header_value in answer.getheaders():
                if key.lower() not in ("content-length", "connection", "date", "server"):
                    self.send_header(key, header_value)
            self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_OPTIONS = do_POST = forward

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads answers, not the proxy's log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
