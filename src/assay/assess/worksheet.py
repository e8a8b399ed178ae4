"""Assessments read for people at work: the questionnaire with every answer's detail, the
auditor's review queue, lists with claimed and verified totals, and an MSP's overview.

Read-only; every function authorizes like the services that change these rows (an assessment
out of reach is not found). A few statements per call, whatever the number of controls: groups
with their progress, the page of controls with answers and targets, then the evidence, the
verdicts and the people of the answers on that page.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from assay.accounts.models import User
from assay.assess.access import load_assessment
from assay.assess.answers import involvement
from assay.assess.models import (
    Answer,
    AnswerEvidence,
    AnswerState,
    Assessment,
    Evidence,
    TargetMaturity,
    Verification,
)
from assay.assess.scoring import Totals, score_many
from assay.assess.workflow import TRANSITIONS, assessed_controls, list_assessments
from assay.auth.actor import Actor
from assay.catalog.models import Baseline, Control, ControlAncestor, Framework
from assay.errors import InvalidInput, NotFound, PermissionDenied
from assay.tenancy.access import authorize, authorize_slug, visible_orgs_query
from assay.tenancy.models import Organization, OrgKind

MAX_GROUP_CHARS = 64


# --- what a page shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    kind: str
    title: str
    original_name: str | None
    size: int | None
    media_type: str | None
    url: str | None
    collected_on: date
    expires_on: date | None
    expired: bool
    uploaded_by: str | None
    uploaded_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "original_name": self.original_name,
            "size": self.size,
            "media_type": self.media_type,
            "url": self.url,
            "collected_on": self.collected_on.isoformat(),
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "expired": self.expired,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": self.uploaded_at.isoformat(),
        }


@dataclass(frozen=True)
class Verdict:
    """The verdict in force on an answer (verified or rejected)."""

    verdict: str
    comment: str
    independence: str
    verifier: str | None
    at: datetime


@dataclass(frozen=True)
class AnswerView:
    id: int
    status: str
    maturity: int | None
    justification: str
    notes: str
    owner: str | None
    implemented_by: str | None
    answered_by: str | None
    state: str
    state_changed_at: datetime
    claimed_at: datetime
    updated_at: datetime
    verdict: Verdict | None
    reopened: str | None  # why a verdict stopped holding, while the answer is claimed again
    involvement: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One assessed control with its answer (None: unanswered) and that answer's evidence."""

    label: str
    title: str
    description: str
    group: str  # the top-level control it belongs to (a CSF function, a CIS control)
    section: tuple[str, str] | None  # its parent when that is not the group (a CSF category)
    target: int | None
    answer: AnswerView | None
    evidence: list[EvidenceItem]


@dataclass(frozen=True)
class GroupProgress:
    label: str
    title: str
    assessed: int
    answered: int
    verified: int

    @property
    def answered_percent(self) -> int:
        return round(100 * self.answered / self.assessed) if self.assessed else 0

    @property
    def verified_percent(self) -> int:
        return round(100 * self.verified / self.assessed) if self.assessed else 0


@dataclass(frozen=True)
class Worksheet:
    assessment: Assessment
    organization: Organization
    framework: Framework
    baseline: str | None
    owner: str | None
    groups: list[GroupProgress]
    group: str | None  # the group the items are limited to
    items: list[Item]
    total: int  # items matching the filters, over all pages
    transitions: list[str]  # states the assessment may move to next (the policy decides who)

    @property
    def assessed(self) -> int:
        return sum(g.assessed for g in self.groups)

    @property
    def answered(self) -> int:
        return sum(g.answered for g in self.groups)

    @property
    def verified(self) -> int:
        return sum(g.verified for g in self.groups)

    @property
    def group_level(self) -> str:
        return self.framework.levels[0] if self.framework.levels else "group"


# --- the questionnaire and the review queue --------------------------------------------------


def worksheet(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    group: str | None = None,
    states: Collection[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
    today: date | None = None,
    with_involvement: bool = False,
    first_group: bool = False,
    control: str | None = None,
) -> Worksheet:
    """The assessment's controls in document order, with their answers, evidence and verdicts.

    `group` keeps the controls under one top-level control (its label); `states` keeps answered
    controls in those verification states (the review queue asks for `claimed`); with
    `first_group` and no `group`, the first group is shown (a questionnaire's first page),
    or with `control` (a label) the group holding that control;
    `with_involvement` adds who stands in which relation to each answer (for display of what
    separation of duties allows; one more statement per answer)."""
    assessment, _ = load_assessment(session, actor, assessment_id, "assessment.view")
    framework = session.get(Framework, assessment.framework_id)
    org = session.get(Organization, assessment.organization_id)
    assert framework is not None and org is not None
    wanted = _states(states)
    today = today or date.today()
    top = aliased(Control, name="top")
    in_scope = Control.id.in_(assessed_controls(assessment, framework))
    to_top = and_(
        ControlAncestor.control_id == Control.id,
        ControlAncestor.ancestor_id == top.id,
        top.level == 1,
    )
    answer_on = and_(Answer.assessment_id == assessment.id, Answer.control_id == Control.id)
    progress = session.execute(
        select(
            top.label,
            top.title,
            func.count(Control.id),
            func.count(Answer.id),
            func.coalesce(func.sum(case((Answer.state == AnswerState.VERIFIED, 1), else_=0)), 0),
        )
        .select_from(Control)
        .join(ControlAncestor, ControlAncestor.control_id == Control.id)
        .join(top, to_top)
        .outerjoin(Answer, answer_on)
        .where(in_scope)
        .group_by(top.id, top.label, top.title, top.position)
        .order_by(top.position)
    ).all()
    groups = [
        GroupProgress(label, title, n, answered, int(v))
        for label, title, n, answered, v in progress
    ]
    if group is None and control is not None:
        group = session.scalar(
            select(top.label)
            .select_from(Control)
            .join(ControlAncestor, ControlAncestor.control_id == Control.id)
            .join(top, to_top)
            .where(in_scope, Control.label == control.strip()[:MAX_GROUP_CHARS])
        )
    if group is None and first_group and groups:
        group = groups[0].label
    if group is not None:
        group = group.strip()
        if len(group) > MAX_GROUP_CHARS or group not in {g.label for g in groups}:
            raise NotFound(f"assessment {assessment.id} has no group '{group[:MAX_GROUP_CHARS]}'")
    parent = aliased(Control, name="parent")

    def scoped(query: Select[Any]) -> Select[Any]:  # the joins and filters of both queries
        query = (
            query.select_from(Control)
            .join(ControlAncestor, ControlAncestor.control_id == Control.id)
            .join(top, to_top)
            .outerjoin(Answer, answer_on)
            .where(in_scope)
        )
        if group is not None:
            query = query.where(top.label == group)
        if wanted is not None:
            query = query.where(Answer.state.in_(wanted))
        return query

    total = session.scalar(scoped(select(func.count(Control.id)))) or 0
    columns: list[Any] = [
        Control,
        top.label,
        parent.label,
        parent.title,
        parent.level,
        TargetMaturity.target,
        Answer,
    ]
    query = (
        scoped(select(*columns))
        .outerjoin(parent, parent.id == Control.parent_id)
        .outerjoin(
            TargetMaturity,
            and_(
                TargetMaturity.assessment_id == assessment.id,
                TargetMaturity.control_id == Control.id,
            ),
        )
        .order_by(Control.position)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    answers: list[Answer] = [row[-1] for row in rows if row[-1] is not None]
    evidence = _evidence(session, [a.id for a in answers], today)
    verdicts, reopened = _verdicts(session, [a.id for a in answers])
    emails = _emails(
        session,
        {
            uid
            for a in answers
            for uid in (a.owner_id, a.implemented_by_id, a.answered_by_id)
            if uid is not None
        },
    )
    items = []
    for node, group_label, p_label, p_title, p_level, target, answer in rows:
        view = None
        if answer is not None:
            involved = involvement(session, answer) if with_involvement else {}
            view = _answer_view(answer, emails, verdicts, reopened, involved)
        items.append(
            Item(
                label=node.label,
                title=node.official_title or node.title,
                description=node.description,
                group=group_label,
                section=(p_label, p_title) if p_label is not None and p_level > 1 else None,
                target=target,
                answer=view,
                evidence=evidence.get(answer.id, []) if answer is not None else [],
            )
        )
    baseline = (
        session.scalar(select(Baseline.key).where(Baseline.id == assessment.baseline_id))
        if assessment.baseline_id is not None
        else None
    )
    owner = session.get(User, assessment.owner_id) if assessment.owner_id else None
    return Worksheet(
        assessment=assessment,
        organization=org,
        framework=framework,
        baseline=baseline,
        owner=owner.email if owner else None,
        groups=groups,
        group=group,
        items=items,
        total=total,
        transitions=[str(s) for s in TRANSITIONS[assessment.state]],
    )


def _states(states: Collection[str] | None) -> list[AnswerState] | None:
    if states is None:
        return None
    try:
        return [AnswerState(s) for s in states]
    except ValueError:
        allowed = ", ".join(s.value for s in AnswerState)
        raise InvalidInput(f"unknown answer state (use {allowed})") from None


def _evidence(
    session: Session, answer_ids: Sequence[int], today: date
) -> dict[int, list[EvidenceItem]]:
    if not answer_ids:
        return {}
    uploader = aliased(User, name="uploader")
    rows = session.execute(
        select(AnswerEvidence.answer_id, Evidence, uploader.email)
        .join(Evidence, Evidence.id == AnswerEvidence.evidence_id)
        .outerjoin(uploader, uploader.id == Evidence.uploaded_by_id)
        .where(AnswerEvidence.answer_id.in_(answer_ids))
        .order_by(AnswerEvidence.answer_id, Evidence.id)
    ).all()
    found: dict[int, list[EvidenceItem]] = {}
    for answer_id, e, email in rows:
        found.setdefault(answer_id, []).append(
            EvidenceItem(
                id=e.id,
                kind=str(e.kind),
                title=e.title,
                original_name=e.original_name,
                size=e.size,
                media_type=e.media_type,
                url=e.url,
                collected_on=e.collected_on,
                expires_on=e.expires_on,
                expired=e.expires_on is not None and e.expires_on < today,
                uploaded_by=email,
                uploaded_at=e.uploaded_at,
            )
        )
    return found


def _verdicts(
    session: Session, answer_ids: Sequence[int]
) -> tuple[dict[int, Verdict], dict[int, str]]:
    """The verdict in force per answer, and the reason the latest verdict stopped holding."""
    if not answer_ids:
        return {}, {}
    verifier = aliased(User, name="verifier")
    rows = session.execute(
        select(Verification, verifier.email)
        .outerjoin(verifier, verifier.id == Verification.verifier_id)
        .where(Verification.answer_id.in_(answer_ids))
        .order_by(Verification.answer_id, Verification.id)
    ).all()
    current: dict[int, Verdict] = {}
    latest: dict[int, Verification] = {}
    for verification, email in rows:
        latest[verification.answer_id] = verification
        if verification.invalidated_at is None:
            current[verification.answer_id] = Verdict(
                verdict=str(verification.verdict),
                comment=verification.comment,
                independence=str(verification.independence),
                verifier=email,
                at=verification.created_at,
            )
    reopened = {
        answer_id: f"{v.verdict} {v.invalidated_reason or ''}".strip()
        for answer_id, v in latest.items()
        if v.invalidated_at is not None and answer_id not in current
    }
    return current, reopened


def _emails(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(user_ids))).all())


def _answer_view(
    answer: Answer,
    emails: dict[int, str],
    verdicts: dict[int, Verdict],
    reopened: dict[int, str],
    involved: dict[str, list[int]],
) -> AnswerView:
    def email(user_id: int | None) -> str | None:
        return emails.get(user_id) if user_id is not None else None

    claimed = answer.state is AnswerState.CLAIMED
    reason = reopened.get(answer.id) if claimed else None
    return AnswerView(
        id=answer.id,
        status=str(answer.status),
        maturity=answer.maturity,
        justification=answer.justification,
        notes=answer.notes,
        owner=email(answer.owner_id),
        implemented_by=email(answer.implemented_by_id),
        answered_by=email(answer.answered_by_id),
        state=str(answer.state),
        state_changed_at=answer.state_changed_at,
        claimed_at=answer.claimed_at,
        updated_at=answer.updated_at,
        verdict=None if claimed else verdicts.get(answer.id),
        reopened=_reopen_reason(reason) if reason else None,
        involvement=involved,
    )


def _reopen_reason(text: str) -> str:
    """'verified answer changed: status' -> 'was verified; answer changed: status'."""
    verdict, _, reason = text.partition(" ")
    return f"was {verdict}; {reason}" if reason else f"was {verdict}"


# --- lists with figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentSummary:
    assessment: Assessment
    framework: str
    framework_name: str
    totals: Totals


def list_with_totals(
    session: Session, actor: Actor, org_slug: str, *, limit: int = 50, offset: int = 0
) -> tuple[list[AssessmentSummary], int]:
    """An organization's assessments, newest first, each with its claimed and verified totals."""
    assessments, total = list_assessments(session, actor, org_slug, limit=limit, offset=offset)
    return _summaries(session, assessments), total


def _summaries(session: Session, assessments: Sequence[Assessment]) -> list[AssessmentSummary]:
    totals = score_many(session, [a.id for a in assessments])
    frameworks = {
        f.id: f
        for f in session.scalars(
            select(Framework).where(Framework.id.in_({a.framework_id for a in assessments}))
        )
    }
    return [
        AssessmentSummary(
            a,
            frameworks[a.framework_id].key,
            frameworks[a.framework_id].name,
            totals.get(a.id, Totals.empty()),
        )
        for a in assessments
    ]


@dataclass(frozen=True)
class ClientOverview:
    """A client's latest assessment of each framework, with its totals."""

    organization: Organization
    assessments: list[AssessmentSummary]


def clients_overview(
    session: Session, actor: Actor, org_slug: str, *, limit: int = 25, offset: int = 0
) -> tuple[list[ClientOverview], int]:
    """For an MSP, its clients; for an auditor firm, the clients it was granted: one page of the
    clients whose assessments the actor may view, by name, each with its latest assessment per
    framework, claimed against verified, and how many clients there are in all. Only for the
    organization the actor belongs to (nothing for others, and for a client, which has no
    clients). Only the page's assessments are scored, so the cost does not grow with the
    number of clients."""
    org = authorize_slug(session, actor, "org.view", org_slug)
    if org.id != actor.organization_id or org.kind is OrgKind.CLIENT:
        return [], 0
    reachable = visible_orgs_query(actor).where(
        Organization.id != org.id, Organization.kind == OrgKind.CLIENT
    )
    total = session.scalar(select(func.count()).select_from(reachable.subquery())) or 0
    page = session.scalars(
        reachable.order_by(Organization.name, Organization.id).limit(limit).offset(offset)
    )
    clients = []
    for client in page:
        try:
            authorize(session, actor, "assessment.view", client)
        except (NotFound, PermissionDenied):
            continue
        clients.append(client)
    if not clients:
        return [], total
    latest = (
        select(func.max(Assessment.id))
        .where(Assessment.organization_id.in_([c.id for c in clients]))
        .group_by(Assessment.organization_id, Assessment.framework_id)
    )
    assessments = list(
        session.scalars(select(Assessment).where(Assessment.id.in_(latest)).order_by(Assessment.id))
    )
    summaries = _summaries(session, assessments)
    overview = [
        ClientOverview(client, [s for s in summaries if s.assessment.organization_id == client.id])
        for client in clients
    ]
    return overview, total


# --- which organization an object belongs to -------------------------------------------------


def organization_of(
    session: Session,
    *,
    assessment_id: int | None = None,
    answer_id: int | None = None,
    evidence_id: int | None = None,
) -> int | None:
    """The organization id of an assessment, answer or evidence, or None when there is none.

    Not an authorization: interfaces use it to pick which of a user's memberships acts on an
    object; the service called next decides whether that actor may."""
    if assessment_id is not None:
        return session.scalar(
            select(Assessment.organization_id).where(Assessment.id == assessment_id)
        )
    if answer_id is not None:
        return session.scalar(select(Answer.organization_id).where(Answer.id == answer_id))
    if evidence_id is not None:
        return session.scalar(select(Evidence.organization_id).where(Evidence.id == evidence_id))
    return None
