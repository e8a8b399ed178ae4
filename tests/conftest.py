"""Test database set-up: one migrated database per run, SQLite or PostgreSQL, emptied per test.

`ASSAY_TEST_DB=postgresql` runs the suite on the PostgreSQL server at `ASSAY_TEST_PG_URL`
(default 127.0.0.1:5432, database `test`) in a schema of its own that is dropped afterwards.
When the server is missing the run fails; it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from assay.config import settings
from assay.db.engine import engine_for, session_factory
from assay.db.migrate import upgrade
from assay.db.registry import Base

PG_URL = os.environ.get("ASSAY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def backend() -> str:
    return os.environ.get("ASSAY_TEST_DB", "sqlite")


def pytest_report_header() -> str:
    return f"assay test database: {backend()}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'assay-test.db'}"
        return
    if backend() != "postgresql":
        raise pytest.UsageError(f"ASSAY_TEST_DB must be sqlite or postgresql, not {backend()}")
    schema = f"assay_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # the server is required: fail, never skip
        pytest.fail(f"PostgreSQL is required for this run but unreachable at {PG_URL}: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _environment(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    data_dir = tmp_path_factory.mktemp("data")
    patch = pytest.MonkeyPatch()
    patch.setenv("ASSAY_DATA_DIR", str(data_dir))
    patch.setenv("ASSAY_DATABASE_URL", database_url)
    patch.setenv("ASSAY_SECRET_KEY", "test-secret-key-not-for-production")
    settings.cache_clear()
    upgrade(engine_for(database_url))
    yield
    engine_for(database_url).dispose()
    engine_for.cache_clear()
    settings.cache_clear()
    patch.undo()


@pytest.fixture(scope="session")
def engine(database_url: str, _environment: None) -> Engine:
    return engine_for(database_url)


@pytest.fixture(scope="session")
def shared_app(_environment: None) -> FastAPI:
    """One app per test process. Building one costs a fifth of a second of FastAPI's route
    analysis, and the app holds no state of its own: settings, engine and data are looked up on
    every request. Tests that add routes to an app take `fresh_app` instead."""
    from assay.app import create_app

    return create_app()


@pytest.fixture
def fresh_app(_environment: None) -> FastAPI:
    """An app of this test's own, free to be changed."""
    from assay.app import create_app

    return create_app()


def _empty_all_tables(engine: Engine) -> None:
    """DELETE children before parents: much faster than TRUNCATE on PostgreSQL for small tables."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(engine: Engine) -> Iterator[None]:
    yield
    _empty_all_tables(engine)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging and inspecting data; commit explicitly to make rows visible."""
    db = session_factory(engine)()
    try:
        yield db
    finally:
        db.rollback()
        db.close()


@pytest.fixture
def catalogs(engine: Engine) -> None:
    """The built-in catalogs (NIST CSF 2.0, CIS Controls v8.1 and their crosswalk), committed."""
    from tests.factories import load_catalogs

    load_catalogs(engine)


@pytest.fixture
def data_dir() -> Path:
    return settings().data_dir


REFERENCE_DIR = Path(
    os.environ.get(
        "ASSAY_REFERENCE_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "reference"
    )
)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Official files in ../shared/reference. Absent: a failure in CI, a skip elsewhere."""
    if REFERENCE_DIR.is_dir():
        return REFERENCE_DIR
    if os.environ.get("CI") == "true":
        pytest.fail(f"reference data required in CI but missing: {REFERENCE_DIR}")
    pytest.skip(f"reference data not present at {REFERENCE_DIR}")
