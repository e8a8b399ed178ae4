"""The SQLite engine Assay makes: every connection has foreign keys on, write-ahead logging and
a busy timeout. Each test makes its own SQLite file, so the checks run in the PostgreSQL pass of
the suite too (the default database is SQLite whichever server the rest of the run uses)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from assay.db.engine import make_engine, unit_of_work


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'assay.db'}")
    yield engine
    engine.dispose()


def test_connections_have_foreign_keys_and_wal(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_every_pooled_connection_gets_the_pragmas(sqlite_engine: Engine) -> None:
    """Several connections at once, so more than the first one of the pool is checked."""
    conns = [sqlite_engine.connect() for _ in range(3)]
    try:
        for conn in conns:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        for conn in conns:
            conn.close()


def test_units_of_work_enforce_foreign_keys(sqlite_engine: Engine) -> None:
    """Foreign keys are enforced, not only switched on: a dangling reference is refused and the
    unit of work leaves nothing behind."""
    with unit_of_work(sqlite_engine) as session:
        session.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        session.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent)")
        )
    with (
        pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"),
        unit_of_work(sqlite_engine) as session,
    ):
        session.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 987654)"))
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM child")).scalar() == 0
