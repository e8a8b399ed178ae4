"""Migrations keep data: down to the catalog revision and back up recomputes derived tables."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from assay.catalog.models import Control, ControlAncestor, Framework
from assay.catalog.service import sync_builtin
from assay.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.factories import SYSTEM


def test_down_and_up_keeps_catalogs_and_rebuilds_closure(engine: Engine, session: Session) -> None:
    sync_builtin(session, SYSTEM)
    session.commit()
    controls = session.scalar(select(func.count()).select_from(Control))
    closure = session.scalar(select(func.count()).select_from(ControlAncestor))
    session.close()
    try:
        downgrade(engine, "0002")
        assert current_revision(engine) == "0002"
        with engine.connect() as conn:  # table rebuilds must not cascade into controls
            assert conn.execute(text("SELECT count(*) FROM controls")).scalar() == controls
    finally:
        upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert session.scalar(select(func.count()).select_from(ControlAncestor)) == closure
    assessable = dict(session.execute(select(Framework.key, Framework.assessable)).all())
    assert assessable == {"nist-csf-2.0": [3], "cis-controls-v8.1": [2]}
