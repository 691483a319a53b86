"""Tag kind (analog/discrete interpolation) and acquisition start/stop events.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tags") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="analog"))
    op.create_table(
        "acquisition",
        sa.Column("ts_us", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event", sa.SmallInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("acquisition")
    with op.batch_alter_table("tags") as batch:
        batch.drop_column("kind")
