"""``{{ cookiecutter.package_name }} origins add|remove|list`` and ``migrate``: the origin registry's commands.

The command reads the same settings as the service (``APP_ENV``, ``CORS_*``,
``DATABASE_URL``) and opens the same :class:`OriginRegistry`, so a write is
checked by the same rules and announced as the admin API's are: running
replicas on PostgreSQL use it within a second, any others at their next
refresh, within ``CORS_REGISTRY_REFRESH_SECONDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .origin_registry import Change, OriginRegistry, RefusedOriginsError
from .origin_store import OriginStore, RegistryUnavailableError
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


def open_registry() -> OriginRegistry:
    """The configured database's registry, opened as the service opens it."""
    settings = load_settings()
    store = OriginStore(settings.database_url)
    return OriginRegistry.open(store, settings.cors_policy, settings.cors_registry_refresh_seconds)


def run(action: str, entries: Sequence[str]) -> list[str]:
    """Carry out one action against the configured database; return the lines to print."""
    registry = open_registry()
    if action == "add":
        return outcome(registry.add(entries), "added", "already stored")
    if action == "remove":
        return outcome(registry.remove(entries), "removed", "not stored")
    return registry.stored_origins()


def outcome(change: Change, done: str, already: str) -> list[str]:
    """One line per origin named: what the write did to it."""
    return [f"{done if origin in change.changed else already}: {origin}" for origin in change.requested]


def main(arguments: argparse.Namespace) -> int:
    """Run ``origins ACTION`` or ``migrate``; a refused entry or configuration changes nothing and exits with 1."""
    try:
        lines = migrate() if arguments.action == "migrate" else run(arguments.action, getattr(arguments, "origins", ()))
    except RegistryUnavailableError as error:
        print(f"{arguments.program}: nothing was changed: {error}", file=sys.stderr)
        return 1
    except (ConfigurationError, RefusedOriginsError) as error:
        print(f"{arguments.program}: refused, nothing was changed: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
