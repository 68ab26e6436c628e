"""The origin registry's table: one row per allowed origin, in canonical form.

A database whose table was made before the registry had migrations already
holds this table; it is kept as it is, and only the revision is recorded.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("cors_origins"):
        return
    op.create_table(
        "cors_origins",
        sa.Column("origin", sa.String(320), primary_key=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cors_origins")
