"""Stored host audits: a world with catalogs and a few assets per client."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import World, build_world, make_asset


@pytest.fixture
def world(session: Session, catalogs: None) -> World:
    built = build_world(session)
    make_asset(session, built, "client-a", "Web server 1", "web1.client-a.test")
    make_asset(session, built, "client-a", "Database", "db1.client-a.test")
    make_asset(session, built, "client-b", "B web", "web1.client-b.test")
    session.commit()
    return built
