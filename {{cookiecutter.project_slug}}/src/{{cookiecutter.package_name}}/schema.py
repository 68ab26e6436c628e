"""The origin registry's tables, managed by Alembic: ``{{ cookiecutter.package_name }} migrate`` and start-up.

The migrations ship inside the package (``migrations/``), so the wheel and the
image carry them. :func:`migrate` brings the database to the revision this
version of the service expects. At start-up a replica only checks, with
:func:`prepare`: a schema at that revision is used as it is, and an empty
database gets the schema created. Replicas starting together take turns under
a lock (PostgreSQL's advisory lock, SQLite's write lock), so the second finds what the first created
instead of failing on it. A schema at an older revision (or the table made
before the registry had migrations) stops start-up with one line naming the
migrate command; upgrading a shared schema is a deliberate step, run once per
rollout. A schema at a revision this version does not know was migrated by a
newer version; this one serves on it with a warning (migrations keep the
previous version working), so a pod of the old version that restarts during a
rollout, or a rollback, still comes up.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, func, inspect, select

from .settings import ConfigurationError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "cors_origins_revision"
"""Alembic's record of the registry's revision; not ``alembic_version``, which the service's own schema may use."""
REGISTRY_TABLE = "cors_origins"
LOCK_KEY = 0x636F_7273_5F72_6567  # "cors_reg": the advisory lock every replica takes to change the schema
MIGRATE_COMMAND = "python -m {{ cookiecutter.package_name }} migrate"


class SchemaError(ConfigurationError):
    """The database's schema is not the one this service expects; the message names the fix."""


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for the packaged migrations, run on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def expected_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration in {MIGRATIONS}: the package is incomplete")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or None when it records none."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def lock(connection: Connection) -> None:
    """Take the schema lock until ``connection``'s transaction ends: the one a replica changing the schema holds.

    PostgreSQL: an advisory lock. SQLite: the database's write lock, taken at
    once with ``BEGIN IMMEDIATE`` (the driver would only begin before the first
    write, after this replica has looked and found no schema).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the schema to the expected revision; return the revisions before and after."""
    with engine.begin() as connection:
        lock(connection)
        before = current_revision(connection)
        try:
            command.upgrade(alembic_config(connection), "head")
        except CommandError as error:
            raise SchemaError(f"the origin registry's schema cannot be migrated: {error}") from None
        return before, expected_revision()


def prepare(engine: Engine) -> None:
    """Use the schema if it is at the expected revision (or a newer one), create it in an empty database, or refuse."""
    expected = expected_revision()
    with engine.connect() as connection:
        found = current_revision(connection)
    if found is None:
        found = create_if_empty(engine, expected)
    if found == expected:
        return
    if found is None or found in known_revisions():
        raise SchemaError(refusal(found, expected))
    logger.warning("the origin registry's schema is at revision %s, newer than this version's %s", found, expected)


def create_if_empty(engine: Engine, expected: str) -> str | None:
    """Under the schema lock, create the schema if the database has none; return the revision then recorded."""
    with engine.begin() as connection:
        lock(connection)
        found = current_revision(connection)  # another replica may have created it while this one waited
        if found is None and not inspect(connection).has_table(REGISTRY_TABLE):
            command.upgrade(alembic_config(connection), expected)
            return expected
        return found


def refusal(found: str | None, expected: str) -> str:
    """One line: the revision found, the one expected, and what to do."""
    state = f"at revision {found}" if found else "from before the registry had migrations"
    return (
        f"the origin registry's schema is {state}; this service needs revision {expected}. "
        f"Run '{MIGRATE_COMMAND}' with the same DATABASE_URL, then start the service again"
    )


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
