"""The asset tests' world: the tenancy world (committed) and a count of what is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.assets.models import Asset, AssetIdentifier
from assay.auditlog.models import AuditEvent
from tests.factories import World, build_world


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def stored(session: Session) -> tuple[int, int, int]:
    """(assets, identifiers, audit events) in the database, read afresh."""
    session.rollback()
    return _count(session, Asset), _count(session, AssetIdentifier), _count(session, AuditEvent)
