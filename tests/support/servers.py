"""Servers on loopback: a free port, and one way to start an ASGI app under uvicorn and wait until it serves.

The template's tests and ``benchmarks/bench.py`` both start servers this way.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def preflight(
    base_url: str, origin: str, method: str = "GET", *, path: str = "/health", headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """A served app's answer to the preflight a browser sends from ``origin`` before ``method`` on ``path``."""
    question = {"Origin": origin, "Access-Control-Request-Method": method, **(headers or {})}
    return httpx.options(f"{base_url}{path}", headers=question, timeout=10)


def package_of(project: Path) -> str:
    """The import name of a generated service's package (``src/<package>/main.py``)."""
    [main] = (project / "src").glob("*/main.py")
    return main.parent.name


@contextmanager
def uvicorn_server(
    app: str,
    *,
    app_dir: Path,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    factory: bool = False,
    options: Sequence[str] = (),
) -> Iterator[str]:
    """Serve ``app`` (``module:attribute``) and yield its base URL, ``http[s]://127.0.0.1:<port>``.

    Uvicorn picks a free port itself (``--port 0``) and names it in its start-up
    line; the server's output goes to ``log``. ``options`` are more uvicorn
    options, such as ``--ssl-certfile``.
    """
    with serving(uvicorn_command(app, app_dir, factory, options), cwd=cwd, env=env, log=log) as url:
        yield url


@contextmanager
def serving(command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> Iterator[str]:
    """Run a server command that serves through uvicorn, and yield its base URL once ``/health`` answers.

    The command must bind 127.0.0.1 on a port uvicorn names in its start-up line (``--port 0``).
    """
    server = start(list(command), cwd=cwd, env=env, log=log)
    try:
        yield wait_until_serving(server, log)
    finally:
        stop(server)


def uvicorn_command(app: str, app_dir: Path, factory: bool = False, options: Sequence[str] = ()) -> list[str]:
    """Uvicorn serving ``app`` on a free loopback port (``--port 0``)."""
    command = [sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir), "--host", "127.0.0.1", "--port", "0"]
    return command + ["--factory"] * factory + list(options)


def start(command: list[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server without waiting for it; its output goes to ``log``."""
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=output, stderr=output)


def stop(server: subprocess.Popen[bytes]) -> None:
    """Terminate a server; kill it if it has not exited within ten seconds."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


STARTED = re.compile(r"Uvicorn running on (https?://127\.0\.0\.1:\d+)")


def wait_until_serving(server: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> str:
    """The server's base URL, once it has said it listens and answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{log.read_text()}")
        started = STARTED.search(log.read_text())
        if started and answers_health(started[1]):
            return started[1]
        time.sleep(0.05)
    raise RuntimeError(f"the server did not start within {timeout} s:\n{log.read_text()}")


def answers_health(base_url: str) -> bool:
    """Whether ``<base_url>/health`` answers 2xx now (a reloader names its port before its worker serves)."""
    try:
        return httpx.get(f"{base_url}/health", timeout=5, verify=False).is_success
    except httpx.TransportError:
        return False


def wait_until_answering(server: subprocess.Popen[bytes], base_url: str, timeout: float = 60) -> None:
    """Wait until a server started on a known port answers ``/health``; raise if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server at {base_url} stopped with status {server.returncode}")
        if answers_health(base_url):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server at {base_url} did not answer within {timeout} s")


@contextmanager
def generated_service(project: Path, env: Mapping[str, str], log: Path, options: Sequence[str] = ()) -> Iterator[str]:
    """Serve a generated service exactly as its README says: ``uvicorn <package>.main:app``."""
    app = f"{package_of(project)}.main:app"
    with uvicorn_server(app, app_dir=project / "src", cwd=project, env=env, log=log, options=options) as url:
        yield url


@contextmanager
def generated_services(project: Path, envs: Sequence[Mapping[str, str]], logs: Sequence[Path]) -> Iterator[list[str]]:
    """Start one generated service per environment, all at the same moment; yield their base URLs once all serve."""
    command = uvicorn_command(f"{package_of(project)}.main:app", project / "src")
    servers = [start(command, cwd=project, env=env, log=log) for env, log in zip(envs, logs, strict=True)]
    try:
        yield [wait_until_serving(server, log) for server, log in zip(servers, logs, strict=True)]
    finally:
        for server in servers:
            stop(server)
