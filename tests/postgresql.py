"""A throw-away PostgreSQL server on loopback, from the machine's PostgreSQL binaries.

Debian's ``postgresql`` package puts them in ``/usr/lib/postgresql/<version>/bin``
(``.ci/run`` installs it when missing). PostgreSQL refuses to run as root, so
as root the server runs as the ``postgres`` user that the package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgreSQLMissing(RuntimeError):
    pass


def binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise PostgreSQLMissing("PostgreSQL is not installed: run 'apt-get install -y postgresql' (as .ci/run does)")
    return Path(pg_ctl).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def postgresql_server() -> Iterator[str]:
    """Start a server on 127.0.0.1 and yield its URL; stop it and delete its files afterwards."""
    bindir = binaries()
    as_user: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="template-postgresql-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(data, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off -c full_page_writes=off"

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N")
        run(str(bindir / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l", str(data / "log"), "-w", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(data, ignore_errors=True)
