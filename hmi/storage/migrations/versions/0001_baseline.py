"""Baseline: the tables Linewise 0.1 created before migrations existed (tags, samples).

Files written then have these tables and no alembic_version; `open_database` stamps them with this
revision and upgrades them from here, so no history is rewritten.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    op.create_table(
        "samples",
        sa.Column("tag_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts_us", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("quality", sa.SmallInteger, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("samples")
    op.drop_table("tags")
