"""Assessment lifecycle: create, list, targets, state changes and the next cycle (clone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from assay.assess.access import load_assessment
from assay.assess.models import Answer, AnswerState, Assessment, AssessmentState, TargetMaturity
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.catalog.models import Baseline, BaselineControl, Control, Framework
from assay.catalog.service import get_framework
from assay.db.base import utcnow
from assay.errors import Conflict, InvalidInput, NotFound
from assay.tenancy.access import authorize_slug
from assay.tenancy.models import Membership, Organization, OrgKind
from assay.tenancy.validation import clean_name

MAX_SCOPE_CHARS = 4000

# state -> {target state: policy action}
TRANSITIONS: dict[AssessmentState, dict[AssessmentState, str]] = {
    AssessmentState.DRAFT: {AssessmentState.IN_PROGRESS: "assessment.manage"},
    AssessmentState.IN_PROGRESS: {AssessmentState.IN_REVIEW: "assessment.manage"},
    AssessmentState.IN_REVIEW: {
        AssessmentState.IN_PROGRESS: "assessment.manage",
        AssessmentState.CLOSED: "assessment.close",
    },
    AssessmentState.CLOSED: {AssessmentState.IN_PROGRESS: "assessment.reopen"},
}


def assessed_controls(assessment: Assessment, framework: Framework) -> Select[int]:
    """Ids of the controls an assessment answers: assessable levels, not withdrawn, and within
    its baseline (a CIS implementation group, an SP 800-53 baseline) when it has one."""
    query = select(Control.id).where(
        Control.framework_id == framework.id,
        Control.level.in_(framework.assessable),
        Control.withdrawn.is_(False),
    )
    if assessment.baseline_id is not None:
        members = select(BaselineControl.control_id).where(
            BaselineControl.baseline_id == assessment.baseline_id
        )
        query = query.where(Control.id.in_(members))
    return query


def _resolve_baseline(
    session: Session, framework: Framework, baseline: str | None, target_ig: int | None
) -> int | None:
    if target_ig is not None:
        if not 1 <= target_ig <= 3:
            raise InvalidInput("target implementation group must be 1, 2 or 3")
        if baseline is not None and baseline != f"ig{target_ig}":
            raise InvalidInput("give a target implementation group or a baseline, not both")
        baseline = f"ig{target_ig}"
    if baseline is None:
        return None
    found = session.scalar(
        select(Baseline.id).where(Baseline.framework_id == framework.id, Baseline.key == baseline)
    )
    if found is None:
        raise NotFound(f"baseline '{baseline[:63]}' not found in {framework.key}")
    return found


def member_id(session: Session, org: Organization, email: str | None) -> int | None:
    """A user who may own work in the organization: a member of it or of its MSP."""
    if not email:
        return None
    from assay.accounts.service import get_user

    user = get_user(session, email)
    orgs = [org.id] + ([org.parent_id] if org.parent_id else [])
    member = session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id, Membership.organization_id.in_(orgs)
        )
    )
    if member is None:
        raise InvalidInput(f"{user.email} is not a member of '{org.slug}' or its MSP")
    return user.id


@dataclass(frozen=True)
class NewAssessment:
    org_slug: str
    framework: str
    name: str
    scope: str = ""
    owner_email: str | None = None
    due_on: date | None = None
    target_ig: int | None = None
    baseline: str | None = None
    target_maturity: int | None = None  # the same target for every control
    targets: dict[str, int] | None = None  # per control label, overriding target_maturity


def create_assessment(session: Session, actor: Actor, spec: NewAssessment) -> Assessment:
    org = authorize_slug(session, actor, "assessment.manage", spec.org_slug)
    if org.kind is not OrgKind.CLIENT:
        raise InvalidInput(f"'{org.slug}' is not a client organization; assess clients")
    framework = get_framework(session, spec.framework)
    if len(spec.scope) > MAX_SCOPE_CHARS:
        raise InvalidInput(f"scope must have at most {MAX_SCOPE_CHARS} characters")
    assessment = Assessment(
        organization_id=org.id,
        framework_id=framework.id,
        baseline_id=_resolve_baseline(session, framework, spec.baseline, spec.target_ig),
        name=clean_name(spec.name, "assessment name"),
        scope=spec.scope.strip(),
        owner_id=member_id(session, org, spec.owner_email),
        due_on=spec.due_on,
        state=AssessmentState.DRAFT,
        target_ig=spec.target_ig,
        created_by_id=actor.user_id,
    )
    session.add(assessment)
    session.flush()
    _store_targets(session, assessment, framework, spec.target_maturity, spec.targets or {})
    record(
        session,
        actor,
        "assessment.create",
        organization_id=org.id,
        object_type="assessment",
        object_id=assessment.id,
        detail={
            "name": assessment.name,
            "framework": framework.key,
            "baseline": spec.baseline,
            "target_ig": spec.target_ig,
        },
    )
    return assessment


def _store_targets(
    session: Session,
    assessment: Assessment,
    framework: Framework,
    default: int | None,
    targets: dict[str, int],
) -> None:
    for value in [default, *targets.values()]:
        if value is not None and not 0 <= value <= 5:
            raise InvalidInput("target maturity must be between 0 and 5")
    assessed = dict(
        session.execute(
            select(Control.label, Control.id).where(
                Control.id.in_(assessed_controls(assessment, framework))
            )
        ).all()
    )
    unknown = [label for label in targets if label not in assessed]
    if unknown:
        raise InvalidInput(f"targets name controls this assessment does not cover: {unknown[:5]}")
    rows = {
        control_id: targets.get(label, default)
        for label, control_id in assessed.items()
        if targets.get(label, default) is not None
    }
    if rows:
        session.execute(
            insert(TargetMaturity),
            [
                {
                    "assessment_id": assessment.id,
                    "control_id": cid,
                    "organization_id": assessment.organization_id,
                    "target": t,
                }
                for cid, t in rows.items()
            ],
        )


def list_assessments(
    session: Session, actor: Actor, org_slug: str, *, limit: int = 50, offset: int = 0
) -> tuple[list[Assessment], int]:
    org = authorize_slug(session, actor, "assessment.view", org_slug)
    query = select(Assessment).where(Assessment.organization_id == org.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Assessment.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def get_assessment(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    return load_assessment(session, actor, assessment_id)[0]


def change_state(session: Session, actor: Actor, assessment_id: int, to_state: str) -> Assessment:
    """Move an assessment along draft -> in progress -> in review -> closed (and back where
    allowed). Who may do which move is the policy's call."""
    try:
        target = AssessmentState(to_state)
    except ValueError:
        allowed = ", ".join(s.value for s in AssessmentState)
        raise InvalidInput(f"unknown state '{to_state[:30]}' (use {allowed})") from None
    assessment, _ = load_assessment(session, actor, assessment_id)
    action = TRANSITIONS[assessment.state].get(target)
    if action is None:
        raise Conflict(f"assessment {assessment.id} cannot go from {assessment.state} to {target}")
    load_assessment(session, actor, assessment_id, action)
    previous = assessment.state
    assessment.state = target
    assessment.updated_at = utcnow()
    assessment.closed_at = utcnow() if target is AssessmentState.CLOSED else None
    session.flush()
    record(
        session,
        actor,
        f"assessment.{'close' if target is AssessmentState.CLOSED else 'state'}",
        organization_id=assessment.organization_id,
        object_type="assessment",
        object_id=assessment.id,
        detail={"from": str(previous), "to": str(target)},
    )
    return assessment


def clone_assessment(
    session: Session, actor: Actor, assessment_id: int, name: str | None = None
) -> Assessment:
    """Start the next cycle: same scope and targets, previous answers carried over as claimed
    (they need verifying again), evidence links kept."""
    from assay.assess.models import AnswerEvidence

    source, _ = load_assessment(session, actor, assessment_id, "assessment.manage")
    clone = Assessment(
        organization_id=source.organization_id,
        framework_id=source.framework_id,
        baseline_id=source.baseline_id,
        name=clean_name(name or f"{source.name} (next cycle)", "assessment name"),
        scope=source.scope,
        owner_id=source.owner_id,
        due_on=None,
        state=AssessmentState.DRAFT,
        target_ig=source.target_ig,
        previous_id=source.id,
        created_by_id=actor.user_id,
    )
    session.add(clone)
    session.flush()
    targets = session.execute(
        select(TargetMaturity.control_id, TargetMaturity.target).where(
            TargetMaturity.assessment_id == source.id
        )
    ).all()
    if targets:
        session.execute(
            insert(TargetMaturity),
            [
                {
                    "assessment_id": clone.id,
                    "control_id": c,
                    "organization_id": clone.organization_id,
                    "target": t,
                }
                for c, t in targets
            ],
        )
    now = utcnow()
    answers = list(session.scalars(select(Answer).where(Answer.assessment_id == source.id)))
    for old in answers:
        new = Answer(
            organization_id=old.organization_id,
            assessment_id=clone.id,
            control_id=old.control_id,
            status=old.status,
            maturity=old.maturity,
            justification=old.justification,
            notes=old.notes,
            owner_id=old.owner_id,
            implemented_by_id=old.implemented_by_id,
            answered_by_id=old.answered_by_id,
            contributor_ids=list(old.contributor_ids),
            state=AnswerState.CLAIMED,
            state_changed_at=now,
            claimed_at=old.claimed_at,
            updated_at=now,
        )
        session.add(new)
        session.flush()
        links = session.execute(
            select(AnswerEvidence.evidence_id, AnswerEvidence.linked_by_id).where(
                AnswerEvidence.answer_id == old.id
            )
        ).all()
        for evidence_id, linked_by in links:
            session.add(
                AnswerEvidence(
                    answer_id=new.id,
                    evidence_id=evidence_id,
                    organization_id=new.organization_id,
                    linked_by_id=linked_by,
                )
            )
    session.flush()
    record(
        session,
        actor,
        "assessment.clone",
        organization_id=clone.organization_id,
        object_type="assessment",
        object_id=clone.id,
        detail={"from": source.id, "answers": len(answers)},
    )
    return clone
