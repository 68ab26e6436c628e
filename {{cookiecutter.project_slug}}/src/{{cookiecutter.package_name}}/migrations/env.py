"""Alembic's entry point for the origin registry's migrations.

``schema.py`` runs it with an open connection (``config.attributes["connection"]``),
inside the transaction that holds the schema lock.
"""

from alembic import context
from sqlalchemy import Connection

from {{ cookiecutter.package_name }}.origin_store import Base
from {{ cookiecutter.package_name }}.schema import VERSION_TABLE

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run the migrations with '{{ cookiecutter.package_name }} migrate', which opens DATABASE_URL")
context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
