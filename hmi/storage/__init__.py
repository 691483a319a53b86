"""Local storage: the historian (SQLite via SQLAlchemy)."""
