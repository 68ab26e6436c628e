"""A throw-away PostgreSQL server on loopback, from the machine's PostgreSQL binaries.

Debian's ``postgresql`` package puts them in ``/usr/lib/postgresql/<version>/bin``
(``make test`` installs it when missing). PostgreSQL refuses to run as root, so
as root the server runs as the ``postgres`` user that the package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from .servers import free_port


class PostgreSQLMissing(RuntimeError):
    pass


def binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise PostgreSQLMissing(
            "PostgreSQL is not installed: run 'apt-get install -y postgresql' (as `make test` does)"
        )
    return Path(pg_ctl).parent


class PostgreSQLServer:
    """A running server: its URL, a restart on the same port, and fresh databases."""

    def __init__(self, bindir: Path, data: Path, as_user: list[str], port: int) -> None:
        self.bindir, self.data, self.as_user, self.port = bindir, data, as_user, port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    def pg_ctl(self, *arguments: str) -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data / "db"), *arguments)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off -c full_page_writes=off"
        self.pg_ctl("-o", options, "-l", str(self.data / "log"), "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop (every client is disconnected) and start again on the same port."""
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        """A new, empty database on this server; its URL."""
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def postgresql_server() -> Iterator[PostgreSQLServer]:
    """Start a server on 127.0.0.1; stop it and delete its files afterwards."""
    bindir = binaries()
    as_user: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="template-postgresql-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(data, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    server = PostgreSQLServer(bindir, data, as_user, free_port())
    try:
        server.run(str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N")
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(data, ignore_errors=True)
