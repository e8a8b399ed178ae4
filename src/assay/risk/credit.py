"""How much of each linked control's effect a risk simulation credits, from the organization's
latest assessment of the control's framework.

For each (organization, framework) the *latest assessment* is the newest one that has started
(in progress, in review or closed); only when the organization has nothing but drafts of that
framework is the newest draft used. A fresh next cycle (a draft whose answers were all carried
over as claimed) therefore does not wipe out the verifications of the cycle before it.

The credit of a control is its answer's implementation value (fully 1, largely 2/3, partially
1/3, not implemented 0) times a share that depends on who stands behind the answer: verified
1, claimed `claimed_credit` (`ASSAY_CLAIMED_CREDIT`, default 0.5), rejected 0. A control
answered *not applicable*, unanswered, outside the assessment or of a framework the
organization has not assessed gets nothing. The same answers with every claim verified give
`credit_if_verified`, the figure behind the verification gap.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.assess.models import Answer, AnswerState, Assessment, AssessmentState, Status
from assay.catalog.models import Control
from assay.risk.estimates import Estimate
from assay.risk.fair import ControlEffect
from assay.risk.models import EffectTarget
from assay.risk.service import LinkedControl

STATUS_VALUE = {
    Status.FULLY: Fraction(1),
    Status.LARGELY: Fraction(2, 3),
    Status.PARTIALLY: Fraction(1, 3),
    Status.NOT_IMPLEMENTED: Fraction(0),
}
_CHUNK = 500


@dataclass(frozen=True)
class Credit:
    """A linked control with the answer that decides its credit."""

    control: LinkedControl
    assessment_id: int | None
    assessment_name: str | None
    status: Status | None
    state: AnswerState | None
    credit: float
    credit_if_verified: float

    @property
    def basis(self) -> str:
        """Why the control gets its credit, in a few words."""
        if self.assessment_id is None:
            return f"no assessment of {self.control.framework}"
        if self.status is None:
            return "unanswered"
        if self.status is Status.NOT_APPLICABLE:
            return "answered not applicable: no credit"
        status = str(self.status).replace("_", " ")
        return f"{status}, {self.state}"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.control.id,
            "control": self.control.reference,
            "framework": self.control.framework,
            "label": self.control.label,
            "title": self.control.title,
            "effect": str(self.control.effect),
            "min": self.control.low,
            "mode": self.control.mode,
            "max": self.control.high,
            "assessment_id": self.assessment_id,
            "status": str(self.status) if self.status else None,
            "state": str(self.state) if self.state else None,
            "credit": self.credit,
            "credit_if_verified": self.credit_if_verified,
            "basis": self.basis,
        }


def credit_for(status: Status | None, state: AnswerState | None, claimed_share: float) -> float:
    """The share of a control's effect an answer earns (see the module's docstring)."""
    if status is None or state is None or status not in STATUS_VALUE:
        return 0.0
    value = float(STATUS_VALUE[status])
    if state is AnswerState.VERIFIED:
        return value
    if state is AnswerState.CLAIMED:
        return value * claimed_share
    return 0.0


def latest_assessments(
    session: Session, org_ids: Collection[int], framework_ids: Collection[int]
) -> dict[tuple[int, int], tuple[int, str]]:
    """(organization, framework) -> (id, name) of the latest assessment (see above)."""
    orgs, frameworks = sorted(set(org_ids)), sorted(set(framework_ids))
    best: dict[tuple[int, int], tuple[tuple[bool, int], str]] = {}
    if not frameworks:
        return {}
    for start in range(0, len(orgs), _CHUNK):
        query = select(
            Assessment.id,
            Assessment.organization_id,
            Assessment.framework_id,
            Assessment.state,
            Assessment.name,
        ).where(
            Assessment.organization_id.in_(orgs[start : start + _CHUNK]),
            Assessment.framework_id.in_(frameworks),
        )
        for assessment_id, org_id, framework_id, state, name in session.execute(query):
            rank = (state is not AssessmentState.DRAFT, assessment_id)
            key = (org_id, framework_id)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, name)
    return {key: (rank[1], name) for key, (rank, name) in best.items()}


def credits(
    session: Session,
    links: dict[int, tuple[int, Sequence[LinkedControl]]],
    claimed_share: float,
) -> dict[int, list[Credit]]:
    """risk id -> the credits of its controls, for `links`: risk id -> (organization id, its
    linked controls). A few grouped queries, whatever the number of risks."""
    control_ids = sorted({c.control_id for _, controls in links.values() for c in controls})
    framework_of: dict[int, int] = {}
    for start in range(0, len(control_ids), _CHUNK):
        query = select(Control.id, Control.framework_id).where(
            Control.id.in_(control_ids[start : start + _CHUNK])
        )
        framework_of.update((c, f) for c, f in session.execute(query))
    org_ids = {org_id for org_id, _ in links.values()}
    latest = latest_assessments(session, org_ids, set(framework_of.values()))
    answers: dict[tuple[int, int], tuple[Status, AnswerState]] = {}
    assessment_ids = sorted(assessment_id for assessment_id, _ in latest.values())
    for start in range(0, len(assessment_ids), _CHUNK):
        given = select(Answer.assessment_id, Answer.control_id, Answer.status, Answer.state).where(
            Answer.assessment_id.in_(assessment_ids[start : start + _CHUNK]),
            Answer.control_id.in_(control_ids),
        )
        for assessment_id, control_id, answered, verdict in session.execute(given):
            answers[(assessment_id, control_id)] = (answered, verdict)
    out: dict[int, list[Credit]] = {}
    for risk_id, (org_id, controls) in links.items():
        found = []
        for control in controls:
            chosen = latest.get((org_id, framework_of.get(control.control_id, -1)))
            status: Status | None = None
            state: AnswerState | None = None
            if chosen is not None:
                status, state = answers.get((chosen[0], control.control_id), (None, None))
            if_verified = AnswerState.VERIFIED if state is AnswerState.CLAIMED else state
            found.append(
                Credit(
                    control=control,
                    assessment_id=chosen[0] if chosen else None,
                    assessment_name=chosen[1] if chosen else None,
                    status=status,
                    state=state,
                    credit=credit_for(status, state, claimed_share),
                    credit_if_verified=credit_for(status, if_verified, claimed_share),
                )
            )
        out[risk_id] = found
    return out


_PART = {
    EffectTarget.TEF: "frequency",
    EffectTarget.VULNERABILITY: "vulnerability",
    EffectTarget.LM: "magnitude",
}


def effects(found: Sequence[Credit], *, if_verified: bool = False) -> tuple[ControlEffect, ...]:
    """The controls as the engine's control effects: each reduction range scaled by the
    control's credit (a PERT of min, mode, max times the credit); controls without credit are
    left out. One effect per control, named by its label (framework:label when two frameworks
    share a label), in the order given."""
    grouped: dict[str, dict[str, Estimate]] = {}
    for item in found:
        share = item.credit_if_verified if if_verified else item.credit
        if share <= 0:
            continue
        control = item.control
        duplicate = any(
            other.control.label == control.label and other.control.framework != control.framework
            for other in found
        )
        name = control.reference if duplicate else control.label
        grouped.setdefault(name, {})[_PART[control.effect]] = Estimate.pert(
            control.low * share, control.mode * share, control.high * share
        )
    return tuple(ControlEffect(name, **parts) for name, parts in grouped.items())
