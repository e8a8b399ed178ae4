"""Answering controls and independent verification.

A verification snapshots the answer and the hashes of its evidence. Any later change to either
puts the answer back to claimed and records why. Separation of duties is the policy's:
whoever answered, implemented or supplied evidence for a control never verifies or rejects it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assay.assess.access import load_answer, load_assessment, require_open
from assay.assess.models import (
    Answer,
    AnswerEvidence,
    AnswerState,
    Assessment,
    Evidence,
    Independence,
    Status,
    Verification,
)
from assay.assess.workflow import assessed_controls, member_id
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.auth.policy import Relation
from assay.catalog.models import Control, Framework
from assay.db.base import utcnow
from assay.errors import Conflict, InvalidInput, NotFound
from assay.tenancy.models import Organization

MAX_TEXT_CHARS = 10000
ANSWER_FIELDS = ("status", "maturity", "justification", "notes", "owner_id", "implemented_by_id")


@dataclass(frozen=True)
class AnswerInput:
    """What an answer says. Emails name people who must belong to the client or its MSP."""

    status: str
    maturity: int | None = None
    justification: str = ""
    notes: str = ""
    owner_email: str | None = None
    implemented_by_email: str | None = None


def parse_status(value: str) -> Status:
    try:
        return Status(value.strip().lower().replace(" ", "_"))
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise InvalidInput(f"unknown status '{value[:40]}' (use {allowed})") from None


def _validate(data: AnswerInput) -> Status:
    status = parse_status(data.status)
    if data.maturity is not None and not 0 <= data.maturity <= 5:
        raise InvalidInput("maturity must be between 0 and 5")
    if status is Status.NOT_APPLICABLE and not data.justification.strip():
        raise InvalidInput("'not applicable' needs a justification")
    for name, text in (("justification", data.justification), ("notes", data.notes)):
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(f"{name} must have at most {MAX_TEXT_CHARS} characters")
    return status


def assessed_control(session: Session, assessment: Assessment, label: str) -> Control:
    framework = session.get(Framework, assessment.framework_id)
    assert framework is not None
    control = session.scalar(
        select(Control).where(
            Control.label == label.strip(),
            Control.id.in_(assessed_controls(assessment, framework)),
        )
    )
    if control is None:
        raise NotFound(f"control '{label[:64]}' is not part of assessment {assessment.id}")
    return control


def answer_control(
    session: Session, actor: Actor, assessment_id: int, label: str, data: AnswerInput
) -> Answer:
    """Create or change the answer for one control; a change to a verified answer re-opens it."""
    assessment, _ = load_assessment(session, actor, assessment_id, "answer.submit")
    require_open(assessment)
    status = _validate(data)
    control = assessed_control(session, assessment, label)
    org = session.get(Organization, assessment.organization_id)
    assert org is not None
    values: dict[str, Any] = {
        "status": status,
        "maturity": data.maturity,
        "justification": data.justification.strip(),
        "notes": data.notes.strip(),
        "owner_id": member_id(session, org, data.owner_email),
        "implemented_by_id": member_id(session, org, data.implemented_by_email),
    }
    answer = session.scalar(
        select(Answer).where(Answer.assessment_id == assessment.id, Answer.control_id == control.id)
    )
    now = utcnow()
    if answer is None:
        answer = Answer(
            organization_id=assessment.organization_id,
            assessment_id=assessment.id,
            control_id=control.id,
            state=AnswerState.CLAIMED,
            state_changed_at=now,
            claimed_at=now,
            contributor_ids=[],
            **values,
        )
        session.add(answer)
        changed = list(ANSWER_FIELDS)
    else:
        changed = [name for name in ANSWER_FIELDS if getattr(answer, name) != values[name]]
        if not changed:
            return answer
        for name in changed:
            setattr(answer, name, values[name])
        reopen(session, actor, answer, f"answer changed: {', '.join(changed)}")
    answer.answered_by_id = actor.user_id
    if actor.user_id is not None and actor.user_id not in answer.contributor_ids:
        answer.contributor_ids = [*answer.contributor_ids, actor.user_id]
    answer.updated_at = now
    session.flush()
    record(
        session,
        actor,
        "answer.set",
        organization_id=assessment.organization_id,
        object_type="answer",
        object_id=answer.id,
        detail={
            "assessment": assessment.id,
            "control": control.label,
            "changed": changed,
            "status": str(status),
            "maturity": data.maturity,
        },
    )
    return answer


def reopen(session: Session, actor: Actor, answer: Answer, reason: str) -> None:
    """Back to claimed after a change, invalidating the verdict that no longer holds."""
    if answer.state is AnswerState.CLAIMED:
        return
    now = utcnow()
    for verification in session.scalars(
        select(Verification).where(
            Verification.answer_id == answer.id, Verification.invalidated_at.is_(None)
        )
    ):
        verification.invalidated_at = now
        verification.invalidated_reason = reason
    previous = answer.state
    answer.state = AnswerState.CLAIMED
    answer.state_changed_at = now
    answer.claimed_at = now
    record(
        session,
        actor,
        "answer.reopen",
        organization_id=answer.organization_id,
        object_type="answer",
        object_id=answer.id,
        detail={"from": str(previous), "reason": reason},
    )


def involvement(session: Session, answer: Answer) -> dict[str, list[int]]:
    """Who stands in which relation to an answer, for separation-of-duties rules."""
    rows = session.execute(
        select(Evidence.uploaded_by_id, AnswerEvidence.linked_by_id)
        .join(AnswerEvidence, AnswerEvidence.evidence_id == Evidence.id)
        .where(
            AnswerEvidence.answer_id == answer.id,
            # an audit an auditor ran is independent collection, not a supply of evidence
            or_(Evidence.collected_by.is_(None), Evidence.collected_by != "auditor"),
        )
    ).all()
    evidence_by = {uid for pair in rows for uid in pair if uid is not None}
    answered_by = set(answer.contributor_ids)
    if answer.answered_by_id is not None:
        answered_by.add(answer.answered_by_id)
    return {
        "answered_by": sorted(answered_by),
        "implemented_by": [answer.implemented_by_id] if answer.implemented_by_id else [],
        "evidence_by": sorted(evidence_by),
    }


def snapshot(session: Session, answer: Answer) -> dict[str, Any]:
    """What a verdict covers: the answer's fields and its evidence, by content hash."""
    evidence = session.scalars(
        select(Evidence)
        .join(AnswerEvidence, AnswerEvidence.evidence_id == Evidence.id)
        .where(AnswerEvidence.answer_id == answer.id)
        .order_by(Evidence.id)
    )
    return {
        "answer": {name: _plain(getattr(answer, name)) for name in ANSWER_FIELDS},
        "evidence": [
            {
                "id": e.id,
                "kind": str(e.kind),
                "sha256": e.sha256,
                "url": e.url,
                "collected_on": e.collected_on.isoformat(),
                "expires_on": e.expires_on.isoformat() if e.expires_on else None,
            }
            for e in evidence
        ],
    }


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Status) else value


def judge(
    session: Session, actor: Actor, answer_id: int, verdict: AnswerState, comment: str
) -> Verification:
    """Verify or reject an answer. Only auditors independent of the work may."""
    if verdict not in (AnswerState.VERIFIED, AnswerState.REJECTED):
        raise InvalidInput("a verdict is verified or rejected")
    comment = comment.strip()
    if verdict is AnswerState.REJECTED and not comment:
        raise InvalidInput("a rejection needs a comment saying what is missing")
    if len(comment) > MAX_TEXT_CHARS:
        raise InvalidInput(f"comment must have at most {MAX_TEXT_CHARS} characters")
    answer, assessment = load_answer(session, actor, answer_id)
    action = "answer.verify" if verdict is AnswerState.VERIFIED else "answer.reject"
    _, relation = load_assessment(
        session, actor, assessment.id, action, involvement(session, answer)
    )
    require_open(assessment)
    if answer.state is verdict:
        raise Conflict(f"answer {answer.id} is already {verdict}")
    content = snapshot(session, answer)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    independence = Independence.EXTERNAL if relation is Relation.GRANTED else Independence.INTERNAL
    for previous in session.scalars(
        select(Verification).where(
            Verification.answer_id == answer.id, Verification.invalidated_at.is_(None)
        )
    ):
        previous.invalidated_at = utcnow()
        previous.invalidated_reason = f"superseded by a new verdict ({verdict})"
    verification = Verification(
        organization_id=answer.organization_id,
        answer_id=answer.id,
        verifier_id=actor.user_id,
        verdict=verdict,
        comment=comment,
        independence=independence,
        snapshot=content,
        snapshot_digest=digest,
    )
    session.add(verification)
    answer.state = verdict
    answer.state_changed_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        action,
        organization_id=answer.organization_id,
        object_type="answer",
        object_id=answer.id,
        detail={
            "assessment": assessment.id,
            "independence": str(independence),
            "snapshot": digest,
            "comment": comment,
        },
    )
    return verification


def verify_answer(
    session: Session, actor: Actor, answer_id: int, comment: str = ""
) -> Verification:
    return judge(session, actor, answer_id, AnswerState.VERIFIED, comment)


def reject_answer(session: Session, actor: Actor, answer_id: int, comment: str) -> Verification:
    return judge(session, actor, answer_id, AnswerState.REJECTED, comment)


def find_answer(session: Session, actor: Actor, assessment_id: int, label: str) -> Answer:
    """The answer for a control label of an assessment the actor may see."""
    assessment, _ = load_assessment(session, actor, assessment_id)
    control = assessed_control(session, assessment, label)
    answer = session.scalar(
        select(Answer).where(Answer.assessment_id == assessment.id, Answer.control_id == control.id)
    )
    if answer is None:
        raise NotFound(f"control {control.label} has no answer yet in assessment {assessment.id}")
    return answer
