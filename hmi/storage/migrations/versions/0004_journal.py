"""The event journal (hash-chained per station) and the outbox of rows waiting for the sync plugins.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("station", sa.String, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts_us", sa.BigInteger, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("event", sa.String, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("user_name", sa.String, nullable=False),
        sa.Column("old_value", sa.String, nullable=False),
        sa.Column("new_value", sa.String, nullable=False),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("message", sa.String, nullable=False),
        sa.Column("result", sa.String, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_journal_ts_us", "journal", ["ts_us"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("station", sa.String, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_index("ix_journal_ts_us", table_name="journal")
    op.drop_table("journal")
