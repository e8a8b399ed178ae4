"""Schema migrations through Alembic, driven from code (`assay db upgrade`, `assay db current`)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from assay.db.engine import get_engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("assay.db") / "migrations"))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    _run(engine or get_engine(), command.upgrade, revision)


def downgrade(engine: Engine | None = None, revision: str = "-1") -> None:
    """Take the schema back to `revision` (used by migration tests)."""
    _run(engine or get_engine(), command.downgrade, revision)


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run a migration step in one transaction.

    On SQLite, foreign keys are switched off meanwhile: batch migrations rebuild a table by
    copying it and dropping the original, and with foreign keys on, that drop would cascade
    deletes into every table referring to it. Integrity is checked before committing.
    """
    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # must happen outside a transaction: straight on the driver connection
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def current_revision(engine: Engine | None = None) -> str | None:
    engine = engine or get_engine()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine | None = None) -> str | None:
    config = alembic_config(engine or get_engine())
    return ScriptDirectory.from_config(config).get_current_head()
