"""The app's engine: SQLite connections have foreign keys on and write-ahead logging."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from assay.db.engine import get_engine, unit_of_work
from tests.conftest import backend

pytestmark = pytest.mark.skipif(
    backend() != "sqlite", reason="SQLite pragmas; this run uses PostgreSQL"
)


def test_connections_have_foreign_keys_and_wal() -> None:
    engine = get_engine()
    assert engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_every_pooled_connection_gets_the_pragmas() -> None:
    """Several connections at once, so more than the first one of the pool is checked."""
    engine = get_engine()
    conns = [engine.connect() for _ in range(3)]
    try:
        for conn in conns:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        for conn in conns:
            conn.close()


def test_units_of_work_enforce_foreign_keys() -> None:
    """Foreign keys are enforced, not only switched on: a dangling reference is refused."""
    from sqlalchemy.exc import IntegrityError

    from assay.tenancy.models import Membership, Role

    with (
        pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"),
        unit_of_work() as session,
    ):
        session.add(Membership(organization_id=987654, user_id=987654, role=Role.ADMIN))
        session.flush()
