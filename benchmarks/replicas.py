"""A registry write seen by another replica: two generated services sharing one real PostgreSQL database.

Both replicas poll only every 60 s, so what is measured is the PostgreSQL
notice: the time from sending a write to one replica (the admin API) until
the other allows the origin in a preflight, for each of ten writes. Each
replica also counts the database queries run on its event loop's thread, the
request path, which must stay at none.
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
TOKEN = "bench-admin-token-of-at-least-32-characters"
WRITES = 10
GIVE_UP_SECONDS = 10.0


def allows(base: str, origin: str) -> bool:
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    request = urllib.request.Request(f"{base}/health", method="OPTIONS", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.headers.get("access-control-allow-origin") == origin
    except urllib.error.HTTPError:
        return False


def add(base: str, origin: str) -> None:
    body = json.dumps({"origins": [origin]}).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    urllib.request.urlopen(urllib.request.Request(f"{base}/admin/origins", body, headers), timeout=5).close()


def seconds_until_allowed(base: str, origin: str, started: float) -> float:
    """Seconds from ``started`` (just before the write was sent) until ``base`` allows ``origin``."""
    while not allows(base, origin):
        if time.monotonic() - started > GIVE_UP_SECONDS:
            return float("inf")
        time.sleep(0.002)
    return time.monotonic() - started


def section(work: Path, environment: dict[str, str]) -> str:
    """Start PostgreSQL and two replicas, write ten times through one, and report what the other saw."""
    sys.path.insert(0, str(TEMPLATE))
    from tests.support.postgresql import postgresql_server
    from tests.support.servers import free_port, wait_until_answering

    with postgresql_server() as database:
        shared = {
            **environment,
            "DATABASE_URL": database.url,
            "ADMIN_TOKEN": TOKEN,
            "CORS_ALLOW_ORIGINS": "https://static.example.com",
            "CORS_REGISTRY_REFRESH_SECONDS": "60",
            "BENCH_PACKAGE": "bench_registry",
        }
        replicas: list[tuple[subprocess.Popen[bytes], str, Path]] = []
        for name in ("writer", "reader"):
            port, log = free_port(), work / f"replica-{name}-queries.json"
            command = [sys.executable, "-m", "uvicorn", "apps:counted_registry", "--factory", "--port", str(port)]
            process = subprocess.Popen(
                [*command, "--log-level", "error"], cwd=work, env={**shared, "BENCH_QUERY_LOG": str(log)}
            )
            replicas.append((process, f"http://127.0.0.1:{port}", log))
        try:
            for process, base, _ in replicas:
                wait_until_answering(process, base)
            (_, writer, _), (_, reader, _) = replicas
            delays = []
            for number in range(WRITES):
                origin = f"https://write-{number}.example.com"
                started = time.monotonic()
                add(writer, origin)
                delays.append(seconds_until_allowed(reader, origin, started))
        finally:
            for process, _, _ in replicas:
                process.send_signal(signal.SIGINT)
            for process, _, _ in replicas:
                process.wait(timeout=30)
    on_request_path = [json.loads(log.read_text())["event_loop_thread"] for _, _, log in replicas]
    return (
        "\n".join(
            [
                "## The registry on PostgreSQL: a write seen by another replica",
                "",
                f"Two replicas on one PostgreSQL database, each polling every 60 s; {WRITES} writes through one"
                " replica's admin API, each timed from just before the write is sent until the other replica allows"
                " the origin (polled every 2 ms; the write's own round trip is included).",
                "",
                f"- Median {statistics.median(delays) * 1000:.0f} ms, maximum {max(delays) * 1000:.0f} ms"
                f" (target: within 1 s, {'met' if max(delays) <= 1 else 'MISSED'}).",
                f"- Database queries on the request path (the event loop's thread): {on_request_path[0]} on the writer,"
                f" {on_request_path[1]} on the reader.",
            ]
        )
        + "\n"
    )
