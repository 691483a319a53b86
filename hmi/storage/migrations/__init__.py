"""Alembic migrations of the historian database (applied by `hmi.storage.database.open_database`)."""
