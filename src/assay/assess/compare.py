"""Trend: two assessments of one organization against one framework, control by control.

Each control is *improved*, *regressed* or *unchanged* by its claimed score, then by maturity;
*changed* when it became or stopped being not applicable (the scores do not compare); *added* or
*removed* when only one assessment covers it (their baselines differ). Changes of verification
state (claimed -> verified, verified -> claimed, unanswered -> claimed...) are reported apart.
The direction of each control and the counts are computed in SQL (see docs/scoring.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session, aliased

from assay.assess.access import load_assessment
from assay.assess.models import Answer, AnswerState, Assessment, Status
from assay.assess.scoring import Totals, answer_scores, const, score_many, thirds
from assay.assess.workflow import assessed_controls
from assay.auth.actor import Actor
from assay.catalog.models import Control, Framework
from assay.errors import InvalidInput

DIRECTIONS = ("improved", "regressed", "unchanged", "changed", "added", "removed")
UNANSWERED = "unanswered"


@dataclass(frozen=True)
class Side:
    """A control's answer in one of the two assessments (status None: unanswered)."""

    answer_id: int | None
    status: str | None
    maturity: int | None
    state: str | None
    claimed: float | None
    verified: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer_id": self.answer_id,
            "status": self.status,
            "maturity": self.maturity,
            "state": self.state,
            "score": {"claimed": self.claimed, "verified": self.verified},
        }


def _delta(after: float | int | None, before: float | int | None) -> float | None:
    if after is None or before is None:
        return None
    return round(after - before, 2)


@dataclass(frozen=True)
class ControlChange:
    label: str
    title: str
    direction: str  # one of DIRECTIONS
    first: Side | None  # None: the first assessment does not cover this control
    second: Side | None

    @property
    def state_change(self) -> tuple[str, str] | None:
        """(before, after) when the verification state differs; unanswered is a state too."""
        if self.first is None or self.second is None:
            return None
        before = self.first.state or UNANSWERED
        after = self.second.state or UNANSWERED
        return (before, after) if before != after else None

    def to_dict(self) -> dict[str, Any]:
        first, second = self.first, self.second
        change = self.state_change
        result: dict[str, Any] = {
            "label": self.label,
            "title": self.title,
            "direction": self.direction,
            "first": first.to_dict() if first else None,
            "second": second.to_dict() if second else None,
            "score_delta": None,
            "maturity_delta": None,
            "state_change": {"from": change[0], "to": change[1]} if change else None,
        }
        if first is not None and second is not None:
            result["score_delta"] = {
                "claimed": _delta(second.claimed, first.claimed),
                "verified": _delta(second.verified, first.verified),
            }
            result["maturity_delta"] = _delta(second.maturity, first.maturity)
        return result


@dataclass(frozen=True)
class AssessmentRef:
    id: int
    name: str
    state: str
    created_at: datetime
    totals: Totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "totals": self.totals.to_dict(),
        }


@dataclass(frozen=True)
class Comparison:
    organization_id: int
    framework: str
    first: AssessmentRef
    second: AssessmentRef
    summary: dict[str, int]  # direction -> number of controls
    state_changes: dict[str, int]  # "claimed->verified" -> number of controls
    controls: list[ControlChange]

    def to_dict(self) -> dict[str, Any]:
        before, after = self.first.totals, self.second.totals
        return {
            "organization_id": self.organization_id,
            "framework": self.framework,
            "first": self.first.to_dict(),
            "second": self.second.to_dict(),
            "delta": {
                "claimed": _delta(after.claimed, before.claimed),
                "verified": _delta(after.verified, before.verified),
                "coverage": _delta(after.coverage, before.coverage),
                "assurance_gap": _delta(after.assurance_gap, before.assurance_gap),
            },
            "summary": dict(self.summary),
            "state_changes": dict(self.state_changes),
            "controls": [control.to_dict() for control in self.controls],
        }


def compare_assessments(
    session: Session, actor: Actor, first_id: int, second_id: int
) -> Comparison:
    """Compare two assessments (usually an earlier and a later cycle) of one organization."""
    first, _ = load_assessment(session, actor, first_id, "assessment.view")
    second, _ = load_assessment(session, actor, second_id, "assessment.view")
    if first.id == second.id:
        raise InvalidInput("compare two different assessments")
    if first.organization_id != second.organization_id:
        raise InvalidInput(
            f"assessments {first.id} and {second.id} belong to different organizations"
        )
    if first.framework_id != second.framework_id:
        raise InvalidInput(f"assessments {first.id} and {second.id} assess different frameworks")
    framework = session.get(Framework, first.framework_id)
    assert framework is not None

    rows = _rows(first, second, framework).subquery("compared")
    counts = session.execute(
        select(rows.c.direction, rows.c.first_state, rows.c.second_state, func.count())
        .group_by(rows.c.direction, rows.c.first_state, rows.c.second_state)
        .order_by(rows.c.direction, rows.c.first_state, rows.c.second_state)
    ).all()
    summary = dict.fromkeys(DIRECTIONS, 0)
    state_changes: dict[str, int] = {}
    for direction, before, after, count in counts:
        summary[direction] += count
        if direction not in ("added", "removed") and before != after:
            key = f"{before or UNANSWERED}->{after or UNANSWERED}"
            state_changes[key] = state_changes.get(key, 0) + count
    controls = [
        _change(row)
        for row in session.execute(select(rows).order_by(rows.c.position, rows.c.id)).mappings()
    ]
    totals = score_many(session, [first.id, second.id])
    return Comparison(
        organization_id=first.organization_id,
        framework=framework.key,
        first=_ref(first, totals[first.id]),
        second=_ref(second, totals[second.id]),
        summary=summary,
        state_changes=state_changes,
        controls=controls,
    )


def _ref(assessment: Assessment, totals: Totals) -> AssessmentRef:
    return AssessmentRef(
        assessment.id, assessment.name, str(assessment.state), assessment.created_at, totals
    )


def _rows(first: Assessment, second: Assessment, framework: Framework) -> Any:
    """One row per control either assessment covers, with both answers and the direction."""
    one = aliased(Answer, name="first_answer")
    two = aliased(Answer, name="second_answer")
    in_first = Control.id.in_(assessed_controls(first, framework))
    in_second = Control.id.in_(assessed_controls(second, framework))
    na_one = one.status == const(Status.NOT_APPLICABLE)
    na_two = two.status == const(Status.NOT_APPLICABLE)
    maturity_one = func.coalesce(one.maturity, 0)
    maturity_two = func.coalesce(two.maturity, 0)
    direction: ColumnElement[str] = case(
        (~in_first, literal("added")),
        (~in_second, literal("removed")),
        (and_(na_one, na_two), literal("unchanged")),
        (or_(na_one, na_two), literal("changed")),
        (thirds(two) > thirds(one), literal("improved")),
        (thirds(two) < thirds(one), literal("regressed")),
        (maturity_two > maturity_one, literal("improved")),
        (maturity_two < maturity_one, literal("regressed")),
        else_=literal("unchanged"),
    )
    return (
        select(
            Control.id,
            Control.position,
            Control.label,
            Control.title,
            case((in_first, 1), else_=0).label("in_first"),
            case((in_second, 1), else_=0).label("in_second"),
            one.id.label("first_answer_id"),
            one.status.label("first_status"),
            one.maturity.label("first_maturity"),
            one.state.label("first_state"),
            two.id.label("second_answer_id"),
            two.status.label("second_status"),
            two.maturity.label("second_maturity"),
            two.state.label("second_state"),
            direction.label("direction"),
        )
        .select_from(Control)
        .outerjoin(one, and_(one.assessment_id == first.id, one.control_id == Control.id))
        .outerjoin(two, and_(two.assessment_id == second.id, two.control_id == Control.id))
        .where(or_(in_first, in_second))
    )


def _side(row: RowMapping, prefix: str) -> Side | None:
    if not row[f"in_{prefix}"]:
        return None
    status: Status | None = row[f"{prefix}_status"]
    state: AnswerState | None = row[f"{prefix}_state"]
    claimed, verified = answer_scores(status, state)
    return Side(
        answer_id=row[f"{prefix}_answer_id"],
        status=str(status) if status is not None else None,
        maturity=row[f"{prefix}_maturity"],
        state=str(state) if state is not None else None,
        claimed=claimed,
        verified=verified,
    )


def _change(row: RowMapping) -> ControlChange:
    return ControlChange(
        label=row["label"],
        title=row["title"],
        direction=row["direction"],
        first=_side(row, "first"),
        second=_side(row, "second"),
    )
