"""The origin registry against a real database: SQLite always, PostgreSQL when given.

Set ``TEST_POSTGRESQL_URL`` (for example ``postgresql://postgres@127.0.0.1:5432/postgres``)
to run every test here on PostgreSQL too; its ``cors_origins`` table and the
registry's schema revision are dropped first.
"""

from __future__ import annotations

import inspect
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, String, column, event, table, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from {{ cookiecutter.package_name }} import schema
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.origin_registry import OriginRegistry, RefusedOriginsError, check_origins
from {{ cookiecutter.package_name }}.origin_store import Base, OriginStore, StoredOrigin, masked_url
from {{ cookiecutter.package_name }}.schema import MIGRATE_COMMAND, VERSION_TABLE, SchemaError
from {{ cookiecutter.package_name }}.settings import ConfigurationError, Settings

BEARER = "test-admin-token-of-at-least-32-characters"
AUTH = {"Authorization": f"Bearer {BEARER}"}
STATIC = "https://static.example.com"
NEW = "https://tenant-1.example.com"

Service = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'origins.db'}"
        return
    yield empty_postgresql()


@pytest.fixture
def postgresql_url() -> str:
    return empty_postgresql()


def empty_postgresql() -> str:
    """``TEST_POSTGRESQL_URL``'s database without the registry's table and revision."""
    url = os.environ.get("TEST_POSTGRESQL_URL")
    if not url:
        pytest.skip("TEST_POSTGRESQL_URL is not set")
    drop_registry(url)
    return url


def drop_registry(url: str) -> None:
    store = OriginStore(url)
    Base.metadata.drop_all(store.engine)
    with store.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    store.engine.dispose()


@pytest.fixture
def service(database_url: str) -> Service:
    """Start a service on the test database; the lifespan (and so the refresher) runs."""
    return partial(running_service, database_url)


@contextmanager
def running_service(database_url: str, **settings: Any) -> Iterator[TestClient]:
    values: dict[str, Any] = {
        "database_url": database_url,
        "admin_token": BEARER,
        "cors_allow_origins": (STATIC,),
        "cors_registry_refresh_seconds": 3600,
        **settings,
    }
    with TestClient(create_app(Settings(**values)), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def other_writer(database_url: str) -> Iterator[OriginStore]:
    """Another process's view of the same database, as the command line has."""
    store = OriginStore(database_url)
    store.create_schema()
    yield store
    store.engine.dispose()


def registry_of(client: TestClient) -> OriginRegistry:
    registry = client.app.state.origin_registry  # type: ignore[attr-defined]
    assert isinstance(registry, OriginRegistry)
    return registry


def allows(client: TestClient, origin: str) -> bool:
    response = client.options("/health", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
    return response.status_code == 200 and response.headers.get("access-control-allow-origin") == origin


def wait_until(condition: Callable[[], bool], seconds: float) -> float:
    """Poll until ``condition`` holds; return how long it took, or fail after ``seconds``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"not true after {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - start


def test_an_added_origin_is_allowed_at_once_and_a_removed_one_refused(service: Service) -> None:
    with service() as client:
        assert not allows(client, NEW)

        added = client.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)
        assert added.status_code == 201
        assert added.json() == {"changed": [NEW]}
        assert allows(client, NEW)
        simple = client.get("/health", headers={"Origin": NEW})
        assert simple.headers["access-control-allow-origin"] == NEW

        removed = client.delete("/admin/origins", params={"origin": NEW}, headers=AUTH)
        assert removed.json() == {"changed": [NEW]}
        assert not allows(client, NEW)


def test_a_cross_site_write_passes_once_its_origin_is_registered(service: Service) -> None:
    cross_site = {**AUTH, "Origin": NEW, "Sec-Fetch-Site": "cross-site"}
    with service() as client:
        refused = client.post("/admin/origins", json={"origins": [NEW]}, headers=cross_site)
        assert refused.status_code == 403
        assert client.get("/admin/origins", headers=AUTH).json() == {"origins": []}

        client.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)
        removed = client.delete("/admin/origins", params={"origin": NEW}, headers=cross_site)
        assert (removed.status_code, removed.json()) == (200, {"changed": [NEW]})


def test_entries_are_stored_in_canonical_form_and_patterns_work(service: Service) -> None:
    with service() as client:
        response = client.post("/admin/origins", json={"origins": ["HTTPS://*.Tenants.example.com:443/"]}, headers=AUTH)

        assert response.json() == {"changed": ["https://*.tenants.example.com"]}
        assert client.get("/admin/origins", headers=AUTH).json() == {"origins": ["https://*.tenants.example.com"]}
        assert allows(client, "https://acme.tenants.example.com")
        assert not allows(client, "https://a.b.tenants.example.com")


def test_static_origins_still_apply(service: Service) -> None:
    with service() as client:
        client.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)

        assert allows(client, STATIC)
        assert allows(client, NEW)


def test_replicas_take_the_schema_lock_in_turn(database_url: str) -> None:
    """While one replica holds the schema lock (creating the schema), another cannot take it; it waits its turn."""
    engine = OriginStore(database_url).engine
    with engine.begin() as holding:
        schema.lock(holding)
        with engine.begin() as waiting:
            give_up_waiting_after_200_ms(waiting)
            with pytest.raises(OperationalError):
                schema.lock(waiting)
    with engine.begin() as after:
        schema.lock(after)
    engine.dispose()


def give_up_waiting_after_200_ms(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA busy_timeout = 200")
    else:
        connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")


def issued_by_a_refresh() -> bool:
    """Whether the statement being executed comes from :meth:`OriginRegistry.refresh` (background work, by design)."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_code is not OriginRegistry.refresh.__code__:
        frame = frame.f_back
    return frame is not None


def test_the_request_path_never_queries_the_database(service: Service) -> None:
    with service() as client:
        client.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)
        registry = registry_of(client)
        statements: list[str] = []
        # The periodic refresh and the PostgreSQL listener's refreshes may run meanwhile; their queries don't count.
        event.listen(
            registry.store.engine,
            "before_cursor_execute",
            lambda *args: None if issued_by_a_refresh() else statements.append(args[2]),
        )
        for origin in (NEW, STATIC, "https://refused.example.net"):
            allows(client, origin)
            client.get("/health", headers={"Origin": origin})
        client.get("/health")
        assert statements == []

        client.post("/admin/origins", json={"origins": ["https://tenant-2.example.com"]}, headers=AUTH)
        assert statements, "the counter sees the admin write, so it would see a query on the request path"


def test_one_refused_entry_refuses_the_whole_request(service: Service) -> None:
    with service() as client:
        response = client.post("/admin/origins", json={"origins": [NEW, "tenant-2.example.com"]}, headers=AUTH)

        assert response.status_code == 422
        (problem,) = response.json()["detail"]
        assert problem["loc"] == ["body", "origins", 1]
        assert "has no scheme" in problem["msg"]
        assert "https://tenant-2.example.com" in problem["msg"]
        assert client.get("/admin/origins", headers=AUTH).json() == {"origins": []}
        assert not allows(client, NEW)


@pytest.mark.parametrize(
    ("settings", "entry", "reason"),
    [
        pytest.param({"app_env": "production"}, "http://tenant.example.com", "plain http", id="http-in-production"),
        pytest.param({"app_env": "staging"}, "*", "refused in staging", id="all-origins-in-staging"),
        pytest.param({"cors_allow_credentials": True}, "*", "CORS_ALLOW_CREDENTIALS", id="all-with-credentials"),
        pytest.param({}, "https://*.com", "at least two labels", id="wildcard-over-a-tld"),
    ],
)
def test_the_policy_rules_apply_to_the_registry(
    service: Service, settings: dict[str, Any], entry: str, reason: str
) -> None:
    with service(**settings) as client:
        response = client.post("/admin/origins", json={"origins": [entry]}, headers=AUTH)

        assert response.status_code == 422
        assert reason in response.json()["detail"][0]["msg"]
        assert client.get("/admin/origins", headers=AUTH).json() == {"origins": []}


@pytest.mark.parametrize(
    ("row", "origin", "reason"),
    [
        pytest.param("http://tenant.example.com", "http://tenant.example.com", "plain http", id="http-in-production"),
        pytest.param("https://Tenant.example.com", "https://tenant.example.com", "not in canonical form", id="cased"),
    ],
)
def test_a_stored_origin_this_environment_refuses_is_ignored_and_logged(
    service: Service, other_writer: OriginStore, caplog: pytest.LogCaptureFixture, row: str, origin: str, reason: str
) -> None:
    """Rows written around the registry (by SQL, or by an environment with other rules) are checked when read."""
    other_writer.add([row, NEW])

    with caplog.at_level(logging.WARNING), service(app_env="production") as client:
        assert not allows(client, origin)
        assert allows(client, NEW)
    assert f"ignoring stored origin {row!r}: " in caplog.text
    assert reason in caplog.text


def test_the_admin_endpoints_need_the_token(service: Service) -> None:
    with service() as client:
        missing = client.get("/admin/origins")
        wrong = client.post("/admin/origins", json={"origins": [NEW]}, headers={"Authorization": "Bearer guess"})

        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert wrong.status_code == 401
        assert not allows(client, NEW)


def test_without_a_token_the_admin_endpoints_do_not_exist(service: Service) -> None:
    with service(admin_token=None) as client:
        assert client.get("/admin/origins", headers=AUTH).status_code == 404
        assert not any(path.startswith("/admin") for path in client.get("/openapi.json").json()["paths"])


def test_a_write_elsewhere_arrives_within_the_refresh_interval(service: Service, other_writer: OriginStore) -> None:
    with service(cors_registry_refresh_seconds=0.5) as client:
        assert not allows(client, NEW)

        other_writer.add([NEW])

        assert wait_until(lambda: allows(client, NEW), seconds=5) < 5


def test_two_instances_sharing_a_database_converge_after_a_write_on_one(service: Service) -> None:
    with service(cors_registry_refresh_seconds=0.5) as first, service(cors_registry_refresh_seconds=0.5) as second:
        assert not allows(first, NEW)
        assert not allows(second, NEW)

        first.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)
        assert allows(first, NEW)
        wait_until(lambda: allows(second, NEW), seconds=5)

        second.delete("/admin/origins", params={"origin": NEW}, headers=AUTH)
        assert not allows(second, NEW)
        wait_until(lambda: not allows(first, NEW), seconds=5)


def test_a_database_url_that_is_not_one_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match=r"DATABASE_URL: 'origins\.db' is not a database URL"):
        create_app(Settings(database_url="origins.db"))


def test_a_missing_database_driver_is_named_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)

    with pytest.raises(ConfigurationError, match=r"needs the psycopg package.*\[postgresql\]") as refused:
        create_app(Settings(database_url="postgresql://service:secret@db.internal/origins"))
    assert "secret" not in str(refused.value)


def create_schema_together(url: str, replicas: int) -> list[BaseException]:
    """Each replica's start-up creates the schema at the same instant; return what they raised."""
    stores = [OriginStore(url) for _ in range(replicas)]
    together = threading.Barrier(replicas)
    failures: list[BaseException] = []

    def start(store: OriginStore) -> None:
        with store.engine.connect():
            together.wait()
        try:
            store.create_schema()
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.engine.dispose()
    return failures


def test_replicas_creating_the_schema_together_all_succeed(postgresql_url: str) -> None:
    for _ in range(5):
        drop_registry(postgresql_url)

        assert create_schema_together(postgresql_url, replicas=8) == []
        assert OriginStore(postgresql_url).stored_origins() == []


def test_a_write_reaches_another_replica_within_a_second_on_postgresql(postgresql_url: str) -> None:
    with running_service(postgresql_url) as first, running_service(postgresql_url) as second:
        first.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)
        assert wait_until(lambda: allows(second, NEW), seconds=1) < 1

        second.delete("/admin/origins", params={"origin": NEW}, headers=AUTH)
        assert wait_until(lambda: not allows(first, NEW), seconds=1) < 1


def test_a_command_line_write_reaches_a_running_service_within_a_second_on_postgresql(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgresql_url)
    with running_service(postgresql_url) as service:
        assert main(["origins", "add", NEW]) == 0
        assert wait_until(lambda: allows(service, NEW), seconds=1) < 1

        assert main(["origins", "remove", NEW]) == 0
        assert wait_until(lambda: not allows(service, NEW), seconds=1) < 1
    assert capsys.readouterr().out == f"added: {NEW}\nremoved: {NEW}\n"


def test_a_schema_from_before_migrations_is_refused_at_start_up_naming_migrate(database_url: str) -> None:
    store = OriginStore(database_url)
    with store.engine.begin() as connection:
        connection.execute(text("CREATE TABLE cors_origins (origin VARCHAR(320) PRIMARY KEY, added_at TIMESTAMP)"))

    with pytest.raises(SchemaError, match=f"Run '{MIGRATE_COMMAND}'"):
        create_app(Settings(database_url=database_url))

    store.migrate()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.get("/health").status_code == 200


def test_a_schema_migrated_by_a_newer_version_is_served_with_a_warning(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A pod of this version restarting during the next version's rollout, or a rollback, still comes up."""
    store = OriginStore(database_url)
    store.migrate()
    with store.engine.begin() as connection:
        connection.execute(
            update(table(VERSION_TABLE, column("version_num"))).values(version_num="from-a-newer-version")
        )

    with caplog.at_level(logging.WARNING), TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.get("/health").status_code == 200
    assert "revision from-a-newer-version, newer than" in caplog.text


def test_the_admin_endpoints_stay_out_of_the_openapi_schema(service: Service) -> None:
    with service() as client:
        assert client.get("/admin/origins", headers=AUTH).status_code == 200
        paths = client.get("/openapi.json").json()["paths"]

    assert "/health" in paths
    assert [path for path in paths if path.startswith("/admin")] == []


def test_every_entry_the_grammar_accepts_fits_the_column() -> None:
    longest_host = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    longest = [
        f"https://{longest_host}:65535",
        f"https://*.{longest_host[2:]}:65535",
        "https://[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535",
    ]
    too_long = [f"https://e.{longest_host}", "http://[fe80::1%" + "a" * 400 + "]:8000"]
    column = StoredOrigin.__table__.c.origin.type

    accepted = check_origins(longest, None)
    assert isinstance(column, String)
    assert column.length is not None
    assert max(len(origin) for origin in accepted) <= column.length
    with pytest.raises(RefusedOriginsError) as refused:
        check_origins(too_long, None)
    assert sorted(refused.value.reasons) == [0, 1]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file whose lock waits last 0.1 s (SQLite's ``timeout`` option) instead of 5 s."""
    return f"sqlite:///{tmp_path / 'origins.db'}?timeout=0.1"


@contextmanager
def locked(url: str) -> Iterator[None]:
    """Hold SQLite's exclusive lock, as a long write or a stuck process would."""
    connection = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.close()


def test_a_locked_database_gets_503_while_the_last_snapshot_keeps_serving(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url=sqlite_url, admin_token=BEARER, cors_registry_refresh_seconds=0.5, cors_allow_origins=(STATIC,)
    )
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings)) as client:
        client.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)

        with locked(sqlite_url):
            written = client.post("/admin/origins", json={"origins": ["https://tenant-2.example.com"]}, headers=AUTH)
            listed = client.get("/admin/origins", headers=AUTH)
            removed = client.delete("/admin/origins", params={"origin": NEW}, headers=AUTH)
            assert allows(client, NEW)
            time.sleep(1.3)
            assert allows(client, NEW)

        assert [written.status_code, listed.status_code, removed.status_code] == [503, 503, 503]
        assert "database is locked" in written.json()["detail"]
        assert wait_until(lambda: client.get("/admin/origins", headers=AUTH).status_code == 200, seconds=5) < 5
        assert client.get("/admin/origins", headers=AUTH).json() == {"origins": [NEW]}

    failures = [r for r in caplog.records if "could not refresh" in r.getMessage()]
    assert len(failures) == 1, "a failing database is logged when it fails, not at every refresh"
    assert failures[0].exc_info is None
    assert "database is locked" in failures[0].getMessage()


@pytest.mark.parametrize("problem", ["missing directory", "not a database", "locked"])
def test_a_database_that_cannot_be_used_stops_start_up_with_one_line(
    sqlite_url: str, tmp_path: Path, problem: str
) -> None:
    url = {"missing directory": f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"}.get(problem, sqlite_url)
    if problem == "not a database":
        (tmp_path / "origins.db").write_bytes(b"not SQLite " * 100)
    guard = locked(sqlite_url) if problem == "locked" else nullcontext()

    with guard, pytest.raises(ConfigurationError) as refused:
        create_app(Settings(database_url=url))

    message = str(refused.value)
    assert message.startswith(f"DATABASE_URL: {url!r} cannot be used: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://service:s3cret-pw@db.internal:port/origins",
        "postgresql://service:s3cret@pw@db.internal/origins",
        "nosuchdb://service:s3cret-pw@db.internal/origins",
        "sqlite:///origins.db?timeout=s3cret-pw",
    ],
)
def test_a_malformed_database_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_app(Settings(database_url=url))

    message = str(refused.value)
    assert message.startswith("DATABASE_URL: ")
    assert "\n" not in message
    assert "s3cret" not in message or "timeout=s3cret" in url, "only a password is hidden"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://service:s3cret@db.internal/origins", "postgresql://service:***@db.internal/origins"),
        ("postgresql://service:s3c@r/et@db.internal/origins", "postgresql://service:***@db.internal/origins"),
        ("postgresql://service:a://b@db.internal/origins", "postgresql://service:***@db.internal/origins"),
        ("service:s3cret@db.internal/origins", "service:***@db.internal/origins"),
        (
            "postgresql://db.internal/origins?sslmode=require&Password=s3cret",
            "postgresql://db.internal/origins?sslmode=require&Password=***",
        ),
        ("postgresql://service@db.internal/origins", "postgresql://service@db.internal/origins"),
        ("sqlite:///origins.db", "sqlite:///origins.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert masked_url(url) == shown
