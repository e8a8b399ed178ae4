"""Loading assessments and answers for an actor: out of reach is not found, never forbidden."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy.orm import Session

from assay.assess.models import Answer, Assessment, AssessmentState
from assay.auth.actor import Actor
from assay.auth.policy import Relation
from assay.errors import Conflict, NotFound
from assay.tenancy.access import authorize_owner


def load_assessment(
    session: Session,
    actor: Actor,
    assessment_id: int,
    action: str = "assessment.view",
    involvement: Mapping[str, Collection[int]] | None = None,
) -> tuple[Assessment, Relation | None]:
    """The assessment, once `action` is authorized on its organization."""
    assessment = session.get(Assessment, assessment_id)
    owner = assessment.organization_id if assessment is not None else None
    missing = f"assessment {assessment_id} not found"
    _, relation = authorize_owner(session, actor, action, owner, missing, involvement)
    assert assessment is not None  # an owner was found
    return assessment, relation


def load_answer(session: Session, actor: Actor, answer_id: int) -> tuple[Answer, Assessment]:
    """An answer the actor may see (authorization for changing it is the caller's next step)."""
    answer = session.get(Answer, answer_id)
    if answer is None:
        raise NotFound(f"answer {answer_id} not found")
    try:
        assessment, _ = load_assessment(session, actor, answer.assessment_id)
    except NotFound:
        raise NotFound(f"answer {answer_id} not found") from None
    return answer, assessment


def require_open(assessment: Assessment) -> None:
    if assessment.state is AssessmentState.CLOSED:
        raise Conflict(f"assessment {assessment.id} is closed; reopen it to change anything")
