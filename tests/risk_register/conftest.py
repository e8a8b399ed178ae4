"""The risk register tests' world: the tenancy world (committed), what is stored, and a CIS
assessment whose answers stand in chosen states (for the control credits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.assess import answers, workflow
from assay.assess.answers import AnswerInput
from assay.assess.workflow import NewAssessment
from assay.auditlog.models import AuditEvent
from assay.risk import service
from assay.risk.models import Risk, RiskAcceptance, RiskAsset, RiskControl
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World, build_world

CIS = "cis-controls-v8.1"


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def stored(session: Session) -> tuple[int, int, int, int, int]:
    """(risks, asset links, control links, acceptances, audit events), read afresh."""
    session.rollback()
    return (
        _count(session, Risk),
        _count(session, RiskAsset),
        _count(session, RiskControl),
        _count(session, RiskAcceptance),
        _count(session, AuditEvent),
    )


def make_risk(session: Session, slug: str = "client-a", **fields: Any) -> int:
    """A risk of `slug` created by the local operator (committed); its id."""
    data: dict[str, Any] = {
        "title": "Ransomware on the file server",
        "inherent_likelihood": 4,
        "inherent_impact": 5,
    }
    data.update(fields)
    risk = service.create_risk(session, SYSTEM, slug, data)
    session.commit()
    return risk.id


def assess(
    session: Session,
    world: World,
    slug: str,
    answered: Mapping[str, tuple[str, str]],
    *,
    start: bool = True,
) -> int:
    """A CIS v8.1 IG1 assessment of `slug` (catalogs loaded) with, per safeguard label, an
    answer (status) by the client's IT operator left in a state: claimed, verified or rejected
    by the client's own auditor. Committed; its id."""
    admin = world.actor("northwind", Role.ADMIN)
    operator = world.actor(slug, Role.IT_OPERATOR)
    auditor = world.actor(slug, Role.AUDITOR)
    assessment = workflow.create_assessment(
        session, admin, NewAssessment(org_slug=slug, framework=CIS, name="CIS", target_ig=1)
    )
    if start:
        workflow.change_state(session, admin, assessment.id, "in_progress")
    for label, (status, state) in answered.items():
        justification = "not here" if status == "not_applicable" else ""
        answer = answers.answer_control(
            session, operator, assessment.id, label, AnswerInput(status, 3, justification)
        )
        if state == "verified":
            answers.verify_answer(session, auditor, answer.id)
        elif state == "rejected":
            answers.reject_answer(session, auditor, answer.id, "no proof")
    session.commit()
    return assessment.id
