"""Storage: SQLAlchemy engine, sessions and Alembic migrations."""
