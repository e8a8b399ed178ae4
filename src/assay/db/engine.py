"""Engine and session factories; SQLite gets WAL and foreign keys on every connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from assay.config import settings
from assay.errors import ConfigurationError

IMMEDIATE_OPTION = "assay_write_transaction"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Units of work take the write lock at BEGIN (IMMEDIATE), so concurrent writers wait for
    each other (busy timeout) instead of failing when they upgrade a stale read snapshot, and the
    audit chain is appended one writer at a time. Other sessions begin deferred."""
    immediate = connection.get_execution_options().get(IMMEDIATE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite connections get WAL, foreign keys and a busy timeout.

    A URL that cannot be parsed, or names a driver that is not installed, is a
    ConfigurationError naming `ASSAY_DATABASE_URL` (never the URL: it may hold a password)."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ValueError, ImportError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigurationError(f"ASSAY_DATABASE_URL cannot be used: {reason}") from exc


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(settings().database_url)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back on any error."""
    session = session_factory(engine)()
    try:
        with session.begin():
            session.connection(execution_options={IMMEDIATE_OPTION: True})
            yield session
    finally:
        session.close()
