"""Scores of an assessment, computed in SQL (definitions for users: docs/scoring.md).

Every figure is an aggregate the database computes with GROUP BY over integer sums: implementation
status in thirds (not implemented 0, partially 1, largely 2, fully 3), counts of answered,
verified and not-applicable controls, maturity sums. Python only turns those integers into
percentages, so SQLite and PostgreSQL give identical results, and the number of statements does
not depend on the number of answers.

The rows scored are the *assessed controls*: the framework's assessable levels, not withdrawn,
within the assessment's baseline when it has one (the same set as `workflow.assessed_controls`).
Roll-ups go through the closure table `control_ancestors`; implementation groups through the
framework's baselines ig1..ig3; coverage of NIST CSF 2.0 through the crosswalk, shown as derived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session, aliased

from assay.assess.access import load_assessment
from assay.assess.models import (
    Answer,
    AnswerEvidence,
    AnswerState,
    Assessment,
    Evidence,
    Status,
    TargetMaturity,
)
from assay.auth.actor import Actor
from assay.catalog.models import (
    Baseline,
    BaselineControl,
    Control,
    ControlAncestor,
    Framework,
    Mapping,
    MappingSet,
)

# Implementation status in thirds of a fully implemented control; not applicable has no value.
THIRDS: dict[Status, int] = {
    Status.NOT_IMPLEMENTED: 0,
    Status.PARTIALLY: 1,
    Status.LARGELY: 2,
    Status.FULLY: 3,
}
STALE_AFTER_DAYS = 30
CSF_KEY = "nist-csf-2.0"
IG_KEYS = ("ig1", "ig2", "ig3")
CHUNK = 5000  # assessments per statement in score_many (keeps bind parameters well under limits)

BLIND_SPOT_REASONS = ("unanswered", "no_evidence", "expired_evidence", "stale_claim")

# columns -> the base select of one assessment's scored rows
Scoped = Callable[[Sequence[Any]], Select[Any]]


# --- figures ---------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole > 0 else None


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 2) if count > 0 else None


@dataclass(frozen=True)
class Maturity:
    """Mean maturity (0-5) over the applicable controls; unanswered count 0."""

    claimed: float | None
    verified: float | None
    target: float | None  # mean target over the applicable controls that have one

    def to_dict(self) -> dict[str, float | None]:
        return {"claimed": self.claimed, "verified": self.verified, "target": self.target}


@dataclass(frozen=True)
class Totals:
    """The figures of a set of assessed controls (a framework, a category, an IG...).

    Scores and coverage are percentages (0-100, two decimals), the assurance gap is in points;
    each is None when its denominator is empty (e.g. every control not applicable)."""

    assessed: int
    answered: int
    verified_count: int
    not_applicable: int
    claimed: float | None
    verified: float | None
    coverage: float | None
    assurance_gap: float | None
    maturity: Maturity

    @classmethod
    def from_sums(cls, row: RowMapping) -> Totals:
        """Build from the integer sums of `_figure_columns`."""
        assessed = int(row["assessed"] or 0)
        na = int(row["not_applicable"] or 0)
        verified_na = int(row["verified_na"] or 0)
        claimed_base = assessed - na  # applicable by the answers' own claims
        verified_base = assessed - verified_na  # an unverified "not applicable" still counts
        claimed = _percent(int(row["claimed_thirds"] or 0), 3 * claimed_base)
        verified = _percent(int(row["verified_thirds"] or 0), 3 * verified_base)
        gap = round(claimed - verified, 2) if claimed is not None and verified is not None else None
        return cls(
            assessed=assessed,
            answered=int(row["answered"] or 0),
            verified_count=int(row["verified_count"] or 0),
            not_applicable=na,
            claimed=claimed,
            verified=verified,
            coverage=_percent(int(row["answered"] or 0), assessed),
            assurance_gap=gap,
            maturity=Maturity(
                claimed=_mean(int(row["claimed_maturity"] or 0), claimed_base),
                verified=_mean(int(row["verified_maturity"] or 0), verified_base),
                target=_mean(int(row["target_sum"] or 0), int(row["target_count"] or 0)),
            ),
        )

    @classmethod
    def empty(cls) -> Totals:
        return cls(0, 0, 0, 0, None, None, None, None, Maturity(None, None, None))

    def to_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "verified": self.verified,
            "coverage": self.coverage,
            "assurance_gap": self.assurance_gap,
            "assessed": self.assessed,
            "answered": self.answered,
            "verified_count": self.verified_count,
            "not_applicable": self.not_applicable,
            "maturity": self.maturity.to_dict(),
        }


@dataclass(frozen=True)
class Group:
    """The figures of one node of the framework tree or one implementation group."""

    label: str
    title: str
    totals: Totals

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "title": self.title, **self.totals.to_dict()}


@dataclass(frozen=True)
class ControlScore:
    label: str
    title: str
    answer_id: int | None
    status: str | None  # None: unanswered
    maturity: int | None
    state: str | None
    claimed: float | None  # 0, 33.33, 66.67 or 100; None when not applicable
    verified: float | None
    target: int | None
    gap_claimed: int | None  # target - maturity, never below 0; None without a target
    gap_verified: int | None
    evidence_total: int
    evidence_expired: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "title": self.title,
            "answer_id": self.answer_id,
            "status": self.status,
            "maturity": self.maturity,
            "state": self.state,
            "score": {"claimed": self.claimed, "verified": self.verified},
            "target": self.target,
            "gap_to_target": {"claimed": self.gap_claimed, "verified": self.gap_verified},
            "evidence": {"total": self.evidence_total, "expired": self.evidence_expired},
        }


@dataclass(frozen=True)
class BlindSpot:
    label: str
    title: str
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "title": self.title, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class DerivedCoverage:
    """Coverage of another framework (NIST CSF 2.0) reached through a crosswalk from the
    assessed controls. Derived: no answer exists for these outcomes."""

    framework: str
    framework_name: str
    mapping_set: str
    levels: dict[str, list[Group]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "derived": True,
            "framework": self.framework,
            "framework_name": self.framework_name,
            "mapping_set": self.mapping_set,
            "levels": {
                level: [_derived_dict(group) for group in groups]
                for level, groups in self.levels.items()
            },
        }


def _derived_dict(group: Group) -> dict[str, Any]:
    t = group.totals
    return {
        "label": group.label,
        "title": group.title,
        "derived": True,
        "claimed": t.claimed,
        "verified": t.verified,
        "assurance_gap": t.assurance_gap,
        "coverage": t.coverage,
        "mapped": t.assessed,  # assessed controls mapped to this outcome
        "answered": t.answered,
        "verified_count": t.verified_count,
        "not_applicable": t.not_applicable,
    }


@dataclass(frozen=True)
class AssessmentScore:
    assessment_id: int
    name: str
    organization_id: int
    state: str
    framework: str
    framework_name: str
    baseline: str | None
    target_ig: int | None
    as_of: date
    totals: Totals
    levels: dict[str, list[Group]]
    implementation_groups: list[Group]
    controls: list[ControlScore]
    blind_spots: list[BlindSpot]
    derived: DerivedCoverage | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "assessment": {
                "id": self.assessment_id,
                "name": self.name,
                "organization_id": self.organization_id,
                "state": self.state,
                "framework": self.framework,
                "framework_name": self.framework_name,
                "baseline": self.baseline,
                "target_ig": self.target_ig,
            },
            "as_of": self.as_of.isoformat(),
            "totals": self.totals.to_dict(),
            "levels": {
                level: [group.to_dict() for group in groups]
                for level, groups in self.levels.items()
            },
            "implementation_groups": [group.to_dict() for group in self.implementation_groups],
            "controls": [control.to_dict() for control in self.controls],
            "blind_spots": [spot.to_dict() for spot in self.blind_spots],
            "derived": self.derived.to_dict() if self.derived else None,
        }


# --- SQL building blocks ---------------------------------------------------------------------


def const(value: Status | AnswerState) -> ColumnElement[Any]:
    """An enum value written into the SQL: a constant, so no bind parameter to process and
    the planner sees the value."""
    return literal_column(f"'{value.value}'")


def thirds(answer: Any = Answer) -> ColumnElement[int]:
    """The status of the joined answer in thirds; 0 when unanswered or not applicable."""
    return case(
        (answer.status == const(Status.FULLY), 3),
        (answer.status == const(Status.LARGELY), 2),
        (answer.status == const(Status.PARTIALLY), 1),
        else_=0,
    )


def _sum(expression: ColumnElement[Any], label: str) -> ColumnElement[Any]:
    return func.coalesce(func.sum(expression), 0).label(label)


def _figure_columns(
    control_id: Any = Control.id, target: Any = TargetMaturity.target
) -> list[ColumnElement[Any]]:
    """Aggregates over rows of (assessed control, its answer or NULLs, its target or NULLs)."""
    na = Answer.status == const(Status.NOT_APPLICABLE)
    verified = Answer.state == const(AnswerState.VERIFIED)
    maturity = func.coalesce(Answer.maturity, 0)
    return [
        func.count(control_id).label("assessed"),
        func.count(Answer.id).label("answered"),
        _sum(case((verified, 1), else_=0), "verified_count"),
        _sum(case((na, 1), else_=0), "not_applicable"),
        _sum(case((and_(na, verified), 1), else_=0), "verified_na"),
        _sum(thirds(), "claimed_thirds"),
        _sum(case((verified, thirds()), else_=0), "verified_thirds"),
        _sum(case((Answer.id.is_(None), 0), (na, 0), else_=maturity), "claimed_maturity"),
        _sum(case((and_(verified, ~na), maturity), else_=0), "verified_maturity"),
        _sum(case((na, null()), else_=target), "target_sum"),
        func.count(case((na, null()), else_=target)).label("target_count"),
    ]


def _assessable(frameworks: Iterable[Framework]) -> ColumnElement[bool]:
    return or_(
        *(and_(Control.framework_id == f.id, Control.level.in_(f.assessable)) for f in frameworks)
    )


# --- one assessment --------------------------------------------------------------------------
#
# The statements are built once per process with bound parameters, so that each call only binds
# values: SQLAlchemy's compiled cache then skips building and compiling them again.


def _assessed(columns: Sequence[Any], in_baseline: bool, with_target: bool = True) -> Select[Any]:
    """Rows of (assessed control, its answer, its target) of one assessment: the same controls
    as `workflow.assessed_controls`. Parameters: assessment_id, framework_id, levels and,
    with a baseline, baseline_id."""
    assessment_id = bindparam("assessment_id", type_=Integer)
    query = (
        select(*columns)
        .select_from(Control)
        .outerjoin(
            Answer, and_(Answer.assessment_id == assessment_id, Answer.control_id == Control.id)
        )
        .where(
            Control.framework_id == bindparam("framework_id"),
            Control.level.in_(bindparam("levels", expanding=True)),
            Control.withdrawn.is_(False),
        )
    )
    if with_target:
        query = query.outerjoin(
            TargetMaturity,
            and_(
                TargetMaturity.assessment_id == assessment_id,
                TargetMaturity.control_id == Control.id,
            ),
        )
    if in_baseline:
        members = select(BaselineControl.control_id).where(
            BaselineControl.baseline_id == bindparam("baseline_id")
        )
        query = query.where(Control.id.in_(members))
    return query


@dataclass(frozen=True)
class _Statements:
    totals: Select[Any]
    levels: Select[Any]  # + deepest
    groups: Select[Any]  # + ig_keys
    controls: Select[Any]  # + today, cutoff
    derived: Select[Any]  # + mapping_set_id


@cache
def _statements(in_baseline: bool) -> _Statements:
    def assessed(columns: Sequence[Any]) -> Select[Any]:
        return _assessed(columns, in_baseline)

    ancestor = aliased(Control, name="ancestor")
    levels = (
        assessed([ancestor.level, ancestor.label, ancestor.title, *_figure_columns()])
        .join(ControlAncestor, ControlAncestor.control_id == Control.id)
        .join(ancestor, ancestor.id == ControlAncestor.ancestor_id)
        .where(ancestor.level < bindparam("deepest"))
        .group_by(ancestor.id, ancestor.level, ancestor.label, ancestor.title, ancestor.position)
        .order_by(ancestor.level, ancestor.position, ancestor.id)
    )
    groups = (
        assessed([Baseline.key, Baseline.name, *_figure_columns()])
        .join(BaselineControl, BaselineControl.control_id == Control.id)
        .join(Baseline, Baseline.id == BaselineControl.baseline_id)
        .where(
            Baseline.framework_id == bindparam("framework_id"),
            Baseline.key.in_(bindparam("ig_keys", expanding=True)),
        )
        .group_by(Baseline.key, Baseline.name)
        .order_by(Baseline.key)
    )
    # Derived: every (CSF node, assessed control) pair once, the node being a mapped target or
    # any of its ancestors, so a control reaching two subcategories counts once per function.
    reached = (
        select(
            ControlAncestor.ancestor_id.label("node_id"),
            Mapping.source_id.label("source_id"),
        )
        .join(ControlAncestor, ControlAncestor.control_id == Mapping.target_id)
        .where(Mapping.mapping_set_id == bindparam("mapping_set_id"))
        .distinct()
        .subquery("reached")
    )
    node = aliased(Control, name="node")
    derived = (  # targets are the assessed framework's, not CSF's: no target join
        _assessed(
            [node.level, node.label, node.title, *_figure_columns(target=cast(null(), Integer))],
            in_baseline,
            with_target=False,
        )
        .join(reached, reached.c.source_id == Control.id)
        .join(node, node.id == reached.c.node_id)
        .group_by(node.id, node.level, node.label, node.title, node.position)
        .order_by(node.level, node.position, node.id)
    )
    return _Statements(
        totals=assessed(_figure_columns()),
        levels=levels,
        groups=groups,
        controls=_controls_statement(assessed),
        derived=derived,
    )


def _controls_statement(assessed: Scoped) -> Select[Any]:
    """Per control: the answer, target, evidence counts and the blind-spot flags."""
    current = or_(Evidence.expires_on.is_(None), Evidence.expires_on >= bindparam("today"))
    total = func.count(Evidence.id)
    valid = func.count(case((current, Evidence.id)))
    claim = and_(Answer.id.is_not(None), Answer.status != const(Status.NOT_IMPLEMENTED))
    flags = {
        "unanswered": Answer.id.is_(None),
        "no_evidence": and_(claim, total == 0),
        "expired_evidence": and_(claim, total > 0, valid == 0),
        "stale_claim": and_(
            claim,
            Answer.state == const(AnswerState.CLAIMED),
            Answer.claimed_at < bindparam("cutoff"),
        ),
    }
    row = [
        Control.id,
        Control.position,
        Control.label,
        Control.title,
        Answer.id.label("answer_id"),
        Answer.status,
        Answer.maturity,
        Answer.state,
        Answer.claimed_at,
        TargetMaturity.target,
    ]
    return (
        assessed(
            [
                *row,
                total.label("evidence_total"),
                (total - valid).label("evidence_expired"),
                *(case((flags[r], 1), else_=0).label(r) for r in BLIND_SPOT_REASONS),
            ]
        )
        .outerjoin(AnswerEvidence, AnswerEvidence.answer_id == Answer.id)
        .outerjoin(Evidence, Evidence.id == AnswerEvidence.evidence_id)
        .group_by(*row)
        .order_by(Control.position, Control.id)
    )


def score_assessment(
    session: Session, actor: Actor, assessment_id: int, *, today: date | None = None
) -> AssessmentScore:
    """Every figure of one assessment the actor may view (see docs/scoring.md)."""
    assessment, _ = load_assessment(session, actor, assessment_id, "assessment.view")
    today = today or date.today()
    context = _context(session, assessment)
    framework = context.framework
    statements = _statements(assessment.baseline_id is not None)
    params: dict[str, Any] = {
        "assessment_id": assessment.id,
        "framework_id": framework.id,
        "levels": list(framework.assessable),
        "baseline_id": assessment.baseline_id,
        "today": today,
        "cutoff": datetime.combine(today - timedelta(days=STALE_AFTER_DAYS), time(0), UTC),
    }

    connection = session.connection()  # plain rows: no ORM result processing needed

    def run(statement: Select[Any], **extra: Any) -> list[RowMapping]:
        return list(connection.execute(statement, {**params, **extra}).mappings())

    def grouped(rows: list[RowMapping], names: list[str]) -> dict[str, list[Group]]:
        levels: dict[str, list[Group]] = {name: [] for name in names}
        for row in rows:
            levels[names[row["level"] - 1]].append(
                Group(row["label"], row["title"], Totals.from_sums(row))
            )
        return levels

    totals = Totals.from_sums(run(statements.totals)[0])
    deepest = max(framework.assessable, default=1)
    levels = grouped(run(statements.levels, deepest=deepest), framework.levels[: deepest - 1])
    ig_keys = list(IG_KEYS)
    if context.baseline in IG_KEYS:
        ig_keys = ig_keys[: IG_KEYS.index(context.baseline) + 1]
    implementation_groups = [
        Group(row["key"].upper(), row["name"], Totals.from_sums(row))
        for row in run(statements.groups, ig_keys=ig_keys)
    ]
    controls: list[ControlScore] = []
    blind_spots: list[BlindSpot] = []
    for row in run(statements.controls):
        controls.append(_control_score(row))
        reasons = [reason for reason in BLIND_SPOT_REASONS if row[reason]]
        if reasons:
            blind_spots.append(BlindSpot(row["label"], row["title"], reasons))
    derived = None
    if context.csf is not None and context.mapping_set_key is not None:
        rows = run(statements.derived, mapping_set_id=context.mapping_set_id)
        derived = DerivedCoverage(
            context.csf.key,
            context.csf.name,
            context.mapping_set_key,
            grouped(rows, list(context.csf.levels)),
        )
    return AssessmentScore(
        assessment_id=assessment.id,
        name=assessment.name,
        organization_id=assessment.organization_id,
        state=str(assessment.state),
        framework=framework.key,
        framework_name=framework.name,
        baseline=context.baseline,
        target_ig=assessment.target_ig,
        as_of=today,
        totals=totals,
        levels=levels,
        implementation_groups=implementation_groups,
        controls=controls,
        blind_spots=blind_spots,
        derived=derived,
    )


@dataclass(frozen=True)
class _Context:
    framework: Framework
    baseline: str | None
    mapping_set_id: int | None  # the crosswalk to NIST CSF 2.0, if any
    mapping_set_key: str | None
    csf: Framework | None


@cache
def _context_statement() -> Select[Framework, str, int, str, Framework]:
    csf = aliased(Framework, name="csf")
    csf_id = select(Framework.id).where(Framework.key == CSF_KEY).scalar_subquery()
    return (
        select(Framework, Baseline.key, MappingSet.id, MappingSet.key, csf)
        .select_from(Framework)
        .outerjoin(
            Baseline,
            and_(Baseline.id == bindparam("baseline_id"), Baseline.framework_id == Framework.id),
        )
        .outerjoin(
            MappingSet,
            and_(
                MappingSet.source_framework_id == Framework.id,
                MappingSet.target_framework_id == csf_id,
                Framework.key != CSF_KEY,
            ),
        )
        .outerjoin(csf, csf.id == MappingSet.target_framework_id)
        .where(Framework.id == bindparam("framework_id"))
        .order_by(MappingSet.id)
        .limit(1)
    )


def _context(session: Session, assessment: Assessment) -> _Context:
    """The framework, the baseline's key and the crosswalk to CSF 2.0, in one statement."""
    row = session.execute(
        _context_statement(),
        {"baseline_id": assessment.baseline_id, "framework_id": assessment.framework_id},
    ).one()
    return _Context(row[0], row[1], row[2], row[3], row[4])


def answer_scores(
    status: Status | None, state: AnswerState | None
) -> tuple[float | None, float | None]:
    """The claimed and verified score of one control (None: not applicable, so no score).

    Unanswered counts 0; only a verified answer counts in the verified score, and only a
    verified "not applicable" takes the control out of it."""
    verified = state is AnswerState.VERIFIED
    na = status is Status.NOT_APPLICABLE
    value = THIRDS.get(status, 0) if status is not None else 0
    claimed_score = None if na else _percent(value, 3)
    verified_score = None if na and verified else _percent(value if verified else 0, 3)
    return claimed_score, verified_score


def _control_score(row: RowMapping) -> ControlScore:
    status: Status | None = row["status"]
    state: AnswerState | None = row["state"]
    verified = state is AnswerState.VERIFIED
    na = status is Status.NOT_APPLICABLE
    claimed_score, verified_score = answer_scores(status, state)
    target: int | None = row["target"]
    maturity = row["maturity"] or 0
    gap_claimed = gap_verified = None
    if target is not None:
        gap_claimed = None if na else max(0, target - maturity)
        gap_verified = None if na and verified else max(0, target - (maturity if verified else 0))
    return ControlScore(
        label=row["label"],
        title=row["title"],
        answer_id=row["answer_id"],
        status=str(status) if status is not None else None,
        maturity=row["maturity"],
        state=str(state) if state is not None else None,
        claimed=claimed_score,
        verified=verified_score,
        target=target,
        gap_claimed=gap_claimed,
        gap_verified=gap_verified,
        evidence_total=int(row["evidence_total"]),
        evidence_expired=int(row["evidence_expired"]),
    )


# --- many assessments ------------------------------------------------------------------------


def _many_statement(
    frameworks: Iterable[Framework], ids: Sequence[int], scoped: bool, unscoped: bool
) -> Select[Any]:
    """Totals per assessment over rows of (assessment, assessed control, answer, target).

    The (assessment, assessed control) pairs come from the assessments' baselines, or from the
    whole framework for assessments without one: the same sets as
    `workflow.assessed_controls`, for many assessments at once."""
    assessable = and_(_assessable(frameworks), Control.withdrawn.is_(False))
    branches: list[Select[int, int]] = []
    if scoped:
        branches.append(
            select(Assessment.id.label("assessment_id"), Control.id.label("control_id"))
            .join(BaselineControl, BaselineControl.baseline_id == Assessment.baseline_id)
            .join(Control, Control.id == BaselineControl.control_id)
            .where(assessable, Assessment.id.in_(ids))
        )
    if unscoped:
        branches.append(
            select(Assessment.id.label("assessment_id"), Control.id.label("control_id"))
            .join(Control, Control.framework_id == Assessment.framework_id)
            .where(assessable, Assessment.baseline_id.is_(None), Assessment.id.in_(ids))
        )
    pairs = (union_all(*branches) if len(branches) > 1 else branches[0]).subquery("assessed")
    return (
        select(pairs.c.assessment_id, *_figure_columns(pairs.c.control_id))
        .select_from(pairs)
        .outerjoin(
            Answer,
            and_(
                Answer.assessment_id == pairs.c.assessment_id,
                Answer.control_id == pairs.c.control_id,
            ),
        )
        .outerjoin(
            TargetMaturity,
            and_(
                TargetMaturity.assessment_id == pairs.c.assessment_id,
                TargetMaturity.control_id == pairs.c.control_id,
            ),
        )
        .group_by(pairs.c.assessment_id)
    )


def score_many(session: Session, assessment_ids: Iterable[int]) -> dict[int, Totals]:
    """Framework totals of many assessments: one grouped statement (per 5,000 assessments),
    after one that finds their frameworks and baselines.

    No authorization: the caller has already decided the actor may see these assessments.
    Ids that name no assessment are left out of the result."""
    ids = sorted(set(assessment_ids))
    result: dict[int, Totals] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = session.execute(
            select(Assessment.id, Assessment.baseline_id, Framework)
            .join(Framework, Framework.id == Assessment.framework_id)
            .where(Assessment.id.in_(chunk))
        ).all()
        if not found:
            continue
        frameworks = {framework.id: framework for _, _, framework in found}.values()
        scoped = any(baseline is not None for _, baseline, _ in found)
        unscoped = any(baseline is None for _, baseline, _ in found)
        result.update({assessment_id: Totals.empty() for assessment_id, _, _ in found})
        query = _many_statement(frameworks, chunk, scoped, unscoped)
        for row in session.connection().execute(query).mappings():
            result[row["assessment_id"]] = Totals.from_sums(row)
    return result


__all__ = [
    "AssessmentScore",
    "BlindSpot",
    "ControlScore",
    "DerivedCoverage",
    "Group",
    "Maturity",
    "Totals",
    "answer_scores",
    "const",
    "score_assessment",
    "score_many",
    "thirds",
]
