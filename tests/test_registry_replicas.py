"""Registry replicas as an operator runs them: uvicorn processes sharing one real PostgreSQL database.

Replicas started together all come up (the schema is created once, under an
advisory lock; on a SQLite file under its write lock); a write through one
replica is allowed by the others within a second although they poll only
every 60 s (PostgreSQL notices), also after
the database server restarted; a schema behind this version's revision stops
start-up with one line naming the migrate command.
"""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from .support.commands import run, run_in, service_environment
from .support.postgresql import PostgreSQLServer
from .support.servers import generated_services, package_of, start, stop, uvicorn_command
from .support.template import GenerateOnce

TOKEN = "replica-test-token-of-at-least-32-characters"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ANSWERS = {"origin_registry": "database", "deploy": "none", "ci": "none"}


@pytest.fixture(scope="module")
def project(generated: GenerateOnce) -> Path:
    return generated("registry-replicas", ANSWERS)


def replica_env(database_url: str) -> dict[str, str]:
    return service_environment() | {
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": TOKEN,
        "CORS_REGISTRY_REFRESH_SECONDS": "60",
    }


def allows(base_url: str, origin: str) -> bool:
    preflight = httpx.options(
        f"{base_url}/health", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}, timeout=5
    )
    return preflight.headers.get("access-control-allow-origin") == origin


def seconds_until_allowed(base_url: str, origin: str, limit: float) -> float:
    start = time.monotonic()
    while not allows(base_url, origin):
        elapsed = time.monotonic() - start
        assert elapsed < limit, f"{origin} not allowed by {base_url} after {limit} s"
        time.sleep(0.01)
    return time.monotonic() - start


def command_line(project: Path, database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The service's own command line, ``python -m <package> ...``, against ``database_url``."""
    env = replica_env(database_url) | {"PYTHONPATH": str(project / "src")}
    return run(project, [sys.executable, "-m", package_of(project), *arguments], timeout=60, env=env)


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_four_replicas_started_together_on_an_empty_database_all_serve(
    project: Path, database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """On SQLite (one file, several workers of one pod) the schema lock is the database's write lock."""
    if database == "postgresql":
        url = request.getfixturevalue("postgresql").create_database("four_replicas")
    else:
        url = f"sqlite:///{tmp_path / 'origins.db'}"
    logs = [tmp_path / f"replica-{n}.log" for n in range(4)]

    with generated_services(project, [replica_env(url)] * 4, logs) as replicas:
        assert [httpx.get(f"{replica}/health", timeout=5).status_code for replica in replicas] == [200] * 4
        added = httpx.post(
            f"{replicas[0]}/admin/origins", json={"origins": ["https://tenant.example.com"]}, headers=AUTH, timeout=5
        )
        assert added.status_code == 201, added.text
        # SQLite has no notices: the others see the write at their next poll, a minute away.
        for replica in replicas if database == "postgresql" else replicas[:1]:
            seconds_until_allowed(replica, "https://tenant.example.com", limit=5)
    assert not [log.name for log in logs if "Traceback" in log.read_text()]


def test_a_write_on_one_replica_reaches_another_within_a_second_even_after_a_database_restart(
    project: Path, postgresql: PostgreSQLServer, tmp_path: Path
) -> None:
    database = postgresql.create_database("notified_replicas")
    logs = [tmp_path / "writer.log", tmp_path / "reader.log"]

    with generated_services(project, [replica_env(database)] * 2, logs) as (writer, reader):
        delays = []
        for n in range(10):
            origin = f"https://tenant-{n}.example.com"
            assert not allows(reader, origin)
            response = httpx.post(f"{writer}/admin/origins", json={"origins": [origin]}, headers=AUTH, timeout=5)
            assert response.status_code == 201, response.text
            delays.append(seconds_until_allowed(reader, origin, limit=1))
        print(
            f"write seen on the other replica: median {statistics.median(delays) * 1000:.0f} ms, "
            f"max {max(delays) * 1000:.0f} ms (10 writes, refresh interval 60 s)"
        )

        postgresql.restart()
        added = command_line(project, database, "origins", "add", "https://after-restart.example.com")
        assert added.returncode == 0, added.stderr
        seconds_until_allowed(reader, "https://after-restart.example.com", limit=10)
        response = httpx.post(
            f"{writer}/admin/origins",
            json={"origins": ["https://listening-again.example.com"]},
            headers=AUTH,
            timeout=5,
        )
        assert response.status_code == 201, response.text
        seconds_until_allowed(reader, "https://listening-again.example.com", limit=1)
    assert "listening for registry writes again" in logs[1].read_text()


def test_a_schema_behind_this_version_stops_start_up_with_one_line_naming_migrate(
    project: Path, tmp_path: Path
) -> None:
    database = tmp_path / "origins.db"
    with sqlite3.connect(database) as made_before_migrations:
        made_before_migrations.execute(
            "CREATE TABLE cors_origins (origin VARCHAR(320) PRIMARY KEY, added_at DATETIME NOT NULL)"
        )
        made_before_migrations.execute("INSERT INTO cors_origins VALUES ('https://kept.example.com', '2026-01-01')")
    url = f"sqlite:///{database}"
    log = tmp_path / "behind.log"

    command = uvicorn_command(f"{package_of(project)}.main:app", project / "src")
    server = start(command, cwd=project, env=replica_env(url), log=log)
    try:
        status = server.wait(timeout=60)
    finally:
        stop(server)
    refusal = [line for line in log.read_text().splitlines() if line.strip()]

    assert status != 0
    assert len(refusal) == 1, refusal
    assert f"python -m {package_of(project)} migrate" in refusal[0]
    migrated = command_line(project, url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated from revision (none)" in migrated.stdout
    with generated_services(project, [replica_env(url)], [log]) as (service,):
        assert allows(service, "https://kept.example.com")


def test_the_wheel_carries_the_migrations(project: Path, tmp_path: Path) -> None:
    """What the image installs (a built wheel, not the source tree) migrates a database."""
    built = run_in(project, "uv", "build", "--wheel", "--quiet", "--out-dir", str(tmp_path), timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("*.whl")
    installed = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    env = service_environment() | {"DATABASE_URL": f"sqlite:///{tmp_path / 'origins.db'}", "PYTHONPATH": str(installed)}

    migrated = run(tmp_path, [sys.executable, "-m", package_of(project), "migrate"], timeout=60, env=env)

    assert migrated.returncode == 0, migrated.stderr
    assert "migrated from revision (none)" in migrated.stdout
