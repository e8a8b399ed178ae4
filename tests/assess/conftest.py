"""An assessment world: the tenancy world, the built-in catalogs, and a CIS IG1 assessment."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from assay.assess.models import Assessment
from assay.assess.workflow import NewAssessment, create_assessment
from assay.catalog.service import sync_builtin
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World, build_world


@dataclass
class AssessWorld:
    world: World
    assessment: Assessment


@pytest.fixture
def aw(session: Session) -> AssessWorld:
    world = build_world(session)
    sync_builtin(session, SYSTEM)
    assessment = create_assessment(
        session,
        world.actor("northwind", Role.ADMIN),
        NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="2026 CIS", target_ig=1
        ),
    )
    session.commit()
    return AssessWorld(world, assessment)
