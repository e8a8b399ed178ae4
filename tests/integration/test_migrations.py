"""Migrations keep data: down to the catalog revision and back up recomputes derived tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, String, func, select, text
from sqlalchemy.orm import Session

from assay.catalog.models import Control, ControlAncestor, Framework
from assay.catalog.service import sync_builtin
from assay.db.migrate import current_revision, downgrade, head_revision, upgrade
from assay.db.registry import Base
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


def test_models_and_migrations_agree(engine: Engine) -> None:
    """After `upgrade head` the database matches the models exactly: every table, column,
    type, nullability, index, unique and foreign key (Alembic's autogenerate comparison)."""
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = compare_metadata(context, Base.metadata)
        # the control: a column the migrations do not create is reported
        changed = MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["users"].append_column(Column("nickname", String(40)))
        control = compare_metadata(context, changed)
        conn.rollback()
    assert [diff[:3] for diff in control] == [("add_column", None, "users")]
    assert differences == [], "models and migrations differ:\n" + "\n".join(map(repr, differences))
