"""Fixtures for the template's tests; the helpers they use live in ``tests/support``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .support.postgresql import PostgreSQLServer, postgresql_server
from .support.template import GenerateOnce, generate
from .support.variants import VARIANTS


@pytest.fixture(scope="session", autouse=True)
def cookiecutter_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep replay files and clones out of the user's home directory."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(f"replay_dir: {home / 'replay'}\ncookiecutters_dir: {home / 'cookiecutters'}\n")
    previous = os.environ.get("COOKIECUTTER_CONFIG")
    os.environ["COOKIECUTTER_CONFIG"] = str(config)
    yield home
    if previous is None:
        del os.environ["COOKIECUTTER_CONFIG"]
    else:
        os.environ["COOKIECUTTER_CONFIG"] = previous


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GenerateOnce:
    """The one cache of generated projects: each named answer set once per session (per xdist worker).

    Tests that change the project they get generate their own with ``support.template.generate``.
    """
    projects: dict[str, Path] = {}

    def project(name: str, answers: Mapping[str, Any]) -> Path:
        if name not in projects:
            projects[name] = generate(tmp_path_factory.mktemp(name), answers)
        return projects[name]

    return project


@pytest.fixture(scope="session")
def generated_variant(generated: GenerateOnce) -> Callable[[str], Path]:
    """``generated_variant(name)``: the shared project of the variant ``name`` of ``support.variants.VARIANTS``."""
    return lambda name: generated(name, VARIANTS[name])


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQLServer]:
    """A PostgreSQL server on loopback for this test session (per xdist worker)."""
    with postgresql_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgresql_url(postgresql: PostgreSQLServer) -> str:
    """The URL of the session's PostgreSQL server."""
    return postgresql.url
