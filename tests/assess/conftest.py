"""An assessment world: the tenancy world, the built-in catalogs, and a CIS IG1 assessment."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from assay.assess.models import Assessment
from assay.assess.workflow import NewAssessment, create_assessment
from assay.tenancy.models import Role
from tests.factories import World, build_world, sync_catalogs


@dataclass
class AssessWorld:
    world: World
    assessment: Assessment


@pytest.fixture
def aw(session: Session) -> AssessWorld:
    world = build_world(session)
    sync_catalogs(session)
    assessment = create_assessment(
        session,
        world.actor("northwind", Role.ADMIN),
        NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="2026 CIS", target_ig=1
        ),
    )
    session.commit()
    return AssessWorld(world, assessment)
