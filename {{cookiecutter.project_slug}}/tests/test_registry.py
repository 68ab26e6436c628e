"""The origin registry against a real database: SQLite always, PostgreSQL when given.

Set ``TEST_POSTGRESQL_URL`` (for example ``postgresql://postgres@127.0.0.1:5432/postgres``)
to run every test here on PostgreSQL too; its ``cors_origins`` table is dropped first.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.origin_registry import Base, OriginRegistry, OriginStore
from {{ cookiecutter.package_name }}.settings import ConfigurationError, Settings

BEARER = "test-admin-token"
AUTH = {"Authorization": f"Bearer {BEARER}"}
STATIC = "https://static.example.com"
NEW = "https://tenant-1.example.com"

Service = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'origins.db'}"
        return
    url = os.environ.get("TEST_POSTGRESQL_URL")
    if not url:
        pytest.skip("TEST_POSTGRESQL_URL is not set")
    store = OriginStore(url)
    Base.metadata.drop_all(store.engine)
    store.engine.dispose()
    yield url


@pytest.fixture
def service(database_url: str) -> Service:
    """Start a service on the test database; the lifespan (and so the refresher) runs."""

    @contextmanager
    def start(**settings: Any) -> Iterator[TestClient]:
        values: dict[str, Any] = {
            "database_url": database_url,
            "admin_token": BEARER,
            "cors_allow_origins": (STATIC,),
            "cors_registry_refresh_seconds": 3600,
            **settings,
        }
        with TestClient(create_app(Settings(**values)), raise_server_exceptions=False) as client:
            yield client

    return start


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


def test_the_request_path_never_queries_the_database(service: Service) -> None:
    with service() as client:
        client.post("/admin/origins", json={"origins": [NEW]}, headers=AUTH)
        statements: list[str] = []
        engine = registry_of(client).store.engine
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

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


def test_a_stored_origin_this_environment_refuses_is_ignored_and_logged(
    service: Service, other_writer: OriginStore, caplog: pytest.LogCaptureFixture
) -> None:
    other_writer.add(["http://tenant.example.com", NEW])

    with caplog.at_level(logging.WARNING), service(app_env="production") as client:
        assert not allows(client, "http://tenant.example.com")
        assert allows(client, NEW)
    assert "http://tenant.example.com" in caplog.text
    assert "plain http" in caplog.text


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
    with service(cors_registry_refresh_seconds=0.2) as client:
        assert not allows(client, NEW)

        other_writer.add([NEW])

        assert wait_until(lambda: allows(client, NEW), seconds=5) < 5


def test_two_instances_sharing_a_database_converge_after_a_write_on_one(service: Service) -> None:
    with service(cors_registry_refresh_seconds=0.2) as first, service(cors_registry_refresh_seconds=0.2) as second:
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
