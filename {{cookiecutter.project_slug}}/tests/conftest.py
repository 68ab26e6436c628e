"""Fixtures: each test runs in an environment of its own and builds clients of the service from given settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
{%- if cookiecutter.origin_registry == "database" %}
from pathlib import Path
{%- endif %}
from typing import Any

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .cors_requests import ClientFactory, client_of


@pytest.fixture(autouse=True)
{%- if cookiecutter.origin_registry == "database" %}
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's shell and ``.env`` out of the tests; each test gets its own empty registry."""
    for name in list(os.environ):
        if name in ("APP_ENV", "ADMIN_TOKEN") or name.startswith("CORS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'origins.db'}")
{%- else %}
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's shell and ``.env`` out of the tests."""
    for name in list(os.environ):
        if name == "APP_ENV" or name.startswith(("CORS_", "CSRF_")):
            monkeypatch.delenv(name)
{%- endif %}
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture
def client_for() -> Iterator[ClientFactory]:
    """Build a test client for a service configured with the given settings."""
    clients: list[TestClient] = []

    def build(**settings: Any) -> TestClient:
        client = client_of(create_app(Settings(**settings)))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
