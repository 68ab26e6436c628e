"""``{{ cookiecutter.package_name }} origins add|remove|list`` and ``migrate``: the origin registry's commands.

The command reads the same settings as the service (``APP_ENV``, ``CORS_*``,
``DATABASE_URL``), so it applies the same rules to what it stores and writes
to the same database. A running service sees a change at its next refresh,
within ``CORS_REGISTRY_REFRESH_SECONDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .origin_registry import (
    OriginStore,
    RefusedOriginsError,
    RegistryUnavailableError,
    canonical_origins,
    check_new_origins,
)
from .settings import ConfigurationError, load_settings


def add_commands(commands: argparse._SubParsersAction[Any], program: str) -> None:
    """Add the ``origins`` command group to the service's command line, whose messages start with ``program``."""
    origins = commands.add_parser("origins", help="the origins allowed from the database")
    origins.set_defaults(run=main, program=program)
    actions = origins.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="allow origins (all or none: one refused entry stores nothing)")
    add.add_argument("origins", nargs="+", metavar="ORIGIN", help="as https://app.example.com or https://*.example.com")
    remove = actions.add_parser("remove", help="stop allowing origins")
    remove.add_argument("origins", nargs="+", metavar="ORIGIN")
    actions.add_parser("list", help="print the stored origins, one a line")
    migrating = commands.add_parser("migrate", help="bring the registry's schema to this version's revision")
    migrating.set_defaults(run=main, program=program, action="migrate")


def migrate() -> list[str]:
    """Upgrade the registry's schema in the configured database (once per rollout); return the line to print."""
    before, after = OriginStore(load_settings().database_url).migrate()
    if before == after:
        return [f"schema already at revision {after}"]
    return [f"schema migrated from revision {before or '(none)'} to {after}"]


def run(action: str, entries: Sequence[str]) -> list[str]:
    """Carry out one action against the configured database; return the lines to print."""
    settings = load_settings()
    policy = settings.cors_policy
    store = OriginStore(settings.database_url)
    store.create_schema()
    if action == "add":
        origins = check_new_origins(entries, policy)
        added = set(store.add(origins))
        return [f"{'added' if o in added else 'already stored'}: {o}" for o in dict.fromkeys(origins)]
    if action == "remove":
        origins = canonical_origins(entries)
        removed = set(store.remove(origins))
        return [f"{'removed' if o in removed else 'not stored'}: {o}" for o in dict.fromkeys(origins)]
    return store.origins()


def main(arguments: argparse.Namespace) -> int:
    """Run ``origins ACTION`` or ``migrate``; a refused entry or configuration changes nothing and exits with 1."""
    try:
        lines = migrate() if arguments.action == "migrate" else run(arguments.action, getattr(arguments, "origins", ()))
    except (ConfigurationError, RefusedOriginsError) as error:
        print(f"{arguments.program}: refused, nothing was changed: {error}", file=sys.stderr)
        return 1
    except RegistryUnavailableError as error:
        print(f"{arguments.program}: nothing was changed: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
