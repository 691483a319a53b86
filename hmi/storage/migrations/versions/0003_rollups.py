"""1-minute and 1-hour roll-ups per tag (hmi.storage.rollups).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column]:
    return [
        sa.Column("tag_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("start_us", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("good_count", sa.Integer, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("min", sa.Float, nullable=True),
        sa.Column("max", sa.Float, nullable=True),
        sa.Column("first_us", sa.BigInteger, nullable=False),
        sa.Column("first_value", sa.Float, nullable=True),
        sa.Column("first_quality", sa.SmallInteger, nullable=False),
        sa.Column("last_us", sa.BigInteger, nullable=False),
        sa.Column("last_value", sa.Float, nullable=True),
        sa.Column("last_quality", sa.SmallInteger, nullable=False),
        sa.Column("integral", sa.Float, nullable=False),
        sa.Column("good_s", sa.Float, nullable=False),
        sa.Column("covered_s", sa.Float, nullable=False),
    ]


def upgrade() -> None:
    for name in ("rollup_1m", "rollup_1h"):
        op.create_table(name, *_columns(), sqlite_with_rowid=False)


def downgrade() -> None:
    op.drop_table("rollup_1h")
    op.drop_table("rollup_1m")
