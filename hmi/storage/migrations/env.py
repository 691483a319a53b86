"""Alembic environment: migrations run on the connection `open_database` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from hmi.storage.schema import metadata

connection = context.config.attributes["connection"]
# Batch mode lets SQLite alter tables (it recreates them); PostgreSQL alters in place.
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
