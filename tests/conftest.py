"""Fixtures and hooks for the template's tests; the helpers they use live in ``tests/support``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .support.ordering import LongestFirst, longest_first
from .support.postgresql import PostgreSQLServer, postgresql_server
from .support.template import GenerateOnce, generate
from .support.type_check import build_seed
from .support.variants import VARIANTS, answers_for


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (``support.ordering``)."""
    longest_first(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LongestFirst | None:
    """With ``-n`` (and no other ``--dist`` than the default), one test at a time, the shared set-ups together."""
    return LongestFirst(config, log) if config.getvalue("dist") == "load" else None


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
    """The one cache of generated projects: each answer set once per session (per xdist worker).

    The cache is keyed by the answers themselves, so two names for one answer set share a
    project and one name can never hand out another answer set's project; ``name`` only
    names its folder. Tests that change the project they get generate their own with
    ``support.template.generate``.
    """
    projects: dict[str, Path] = {}

    def project(name: str, answers: Mapping[str, Any]) -> Path:
        key = json.dumps(answers_for(answers), sort_keys=True)
        if key not in projects:
            projects[key] = generate(tmp_path_factory.mktemp(name), answers)
        return projects[key]

    return project


@pytest.fixture(scope="session")
def generated_variant(generated: GenerateOnce) -> Callable[[str], Path]:
    """``generated_variant(name)``: the shared project of the variant ``name`` of ``support.variants.VARIANTS``."""
    return lambda name: generated(name, VARIANTS[name])


@pytest.fixture(scope="session")
def mypy_seed(generated_variant: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mypy cache of the modules generated projects import from outside themselves (``support.type_check``).

    Built from the origin-registry variant, whose imports include every other variant's.
    """
    return build_seed(generated_variant("origin-registry"), tmp_path_factory.mktemp("mypy-seed"))


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQLServer]:
    """A PostgreSQL server on loopback for this test session (per xdist worker)."""
    with postgresql_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgresql_url(postgresql: PostgreSQLServer) -> str:
    """The URL of the session's PostgreSQL server."""
    return postgresql.url
