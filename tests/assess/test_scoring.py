"""Scores against hand-computed figures (definitions: docs/scoring.md).

The small cases use a four-safeguard framework so that every figure can be worked out by hand:

    A.1 fully implemented, maturity 4, verified      (3 thirds, counts in both scores)
    A.2 largely implemented, maturity 3, claimed     (2 thirds, counts only as claimed)
    B.1 not applicable, claimed                      (out of the claimed denominator only)
    B.2 unanswered                                   (counts 0; a blind spot)

    claimed  = (3 + 2) / (3 x 3 applicable)  = 55.56 %
    verified = 3 / (3 x 4: the N/A is unverified) = 25.00 %
    coverage = 3 answered / 4 assessed        = 75.00 %
    assurance gap = 55.56 - 25.00             = 30.56 points
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from assay.assess import answers, evidence, workflow
from assay.assess.models import Answer, AnswerState, Assessment, Status
from assay.assess.scoring import AssessmentScore, score_assessment, score_many
from assay.auth.actor import Actor
from assay.catalog.models import Control, Framework
from assay.catalog.service import import_file
from assay.errors import NotFound
from assay.tenancy.models import Role
from tests.assess.conftest import AssessWorld
from tests.factories import SYSTEM

TODAY = date.today()

MINI_FRAMEWORK = b"""\
format: assay/framework/v1
id: test-mini
name: Test Mini Controls
version: "1"
levels: [control, safeguard]
controls:
  - id: A
    kind: control
    title: Control A
    controls:
      - {id: A.1, kind: safeguard, title: Safeguard A1}
      - {id: A.2, kind: safeguard, title: Safeguard A2}
  - id: B
    kind: control
    title: Control B
    controls:
      - {id: B.1, kind: safeguard, title: Safeguard B1}
      - {id: B.2, kind: safeguard, title: Safeguard B2}
baselines:
  - {id: ig1, name: Implementation Group 1, controls: [A.1, B.1]}
  - {id: ig2, name: Implementation Group 2, controls: [A.1, A.2, B.1, B.2]}
"""
# A.1 reaches ID.AM-01, PR.AA-01 and PR.AA-02: the PR function must count it once.
MINI_MAPPING = b"""\
format: assay/mapping/v1
id: test-mini--nist-csf-2.0
name: Test mini to CSF 2.0
version: "1"
source_framework: test-mini
target_framework: nist-csf-2.0
mappings:
  - {source: A.1, target: ID.AM-01, relationship: subset-of}
  - {source: A.2, target: ID.AM-01, relationship: subset-of}
  - {source: A.1, target: PR.AA-01, relationship: intersects-with}
  - {source: A.1, target: PR.AA-02, relationship: intersects-with}
  - {source: B.1, target: PR.AA-01, relationship: subset-of}
  - {source: B.2, target: PR.AA-01, relationship: subset-of}
"""


def it(aw: AssessWorld) -> Actor:
    return aw.world.actor("client-a", Role.IT_OPERATOR)


def auditor(aw: AssessWorld) -> Actor:
    return aw.world.actor("client-a", Role.AUDITOR)


def answer(
    session: Session,
    aw: AssessWorld,
    assessment_id: int,
    label: str,
    status: str,
    maturity: int | None = None,
    *,
    verify: bool = False,
    link: bool = False,
    expires_on: date | None = None,
) -> Answer:
    """Answer as client-a's IT operator, optionally with a link, optionally verified."""
    justification = "no such systems" if status == "not_applicable" else ""
    result = answers.answer_control(
        session,
        it(aw),
        assessment_id,
        label,
        answers.AnswerInput(status=status, maturity=maturity, justification=justification),
    )
    if link or expires_on:
        evidence.add_link(
            session,
            it(aw),
            result.id,
            url=f"https://wiki.example.org/{label}",
            dates=evidence.EvidenceDates(TODAY - timedelta(days=100), expires_on),
        )
    if verify:
        answers.verify_answer(session, auditor(aw), result.id, "seen it")
    session.flush()
    return result


@pytest.fixture
def mini(session: Session, aw: AssessWorld) -> Assessment:
    """The four-safeguard framework with the answers of the module docstring."""
    import_file(session, SYSTEM, MINI_FRAMEWORK, "test-mini.yaml")
    import_file(session, SYSTEM, MINI_MAPPING, "test-mini--csf.yaml")
    assessment = workflow.create_assessment(
        session,
        aw.world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(org_slug="client-a", framework="test-mini", name="Mini"),
    )
    answer(session, aw, assessment.id, "A.1", "fully", 4, verify=True, link=True)
    answer(session, aw, assessment.id, "A.2", "largely", 3)
    answer(session, aw, assessment.id, "B.1", "not_applicable")
    session.commit()
    return assessment


def score(session: Session, aw: AssessWorld, assessment_id: int) -> AssessmentScore:
    return score_assessment(session, auditor(aw), assessment_id, today=TODAY)


def figures(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["claimed"], entry["verified"], entry["coverage"], entry["assurance_gap"])


# --- framework totals and roll-ups -----------------------------------------------------------


def test_framework_totals_hand_computed(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    totals = score(session, aw, mini.id).to_dict()["totals"]
    assert totals == {
        "claimed": 55.56,
        "verified": 25.0,
        "coverage": 75.0,
        "assurance_gap": 30.56,
        "assessed": 4,
        "answered": 3,
        "verified_count": 1,
        "not_applicable": 1,
        # (4 + 3) / 3 applicable; 4 / 4 (only A.1 is verified); no targets
        "maturity": {"claimed": 2.33, "verified": 1.0, "target": None},
    }


def test_roll_up_per_control_group(session: Session, aw: AssessWorld, mini: Assessment) -> None:
    levels = score(session, aw, mini.id).to_dict()["levels"]
    assert list(levels) == ["control"]
    a, b = levels["control"]
    assert (a["label"], a["title"], a["assessed"], a["answered"]) == ("A", "Control A", 2, 2)
    assert figures(a) == (83.33, 50.0, 100.0, 33.33)  # (3+2)/6, 3/6
    assert (b["label"], b["assessed"], b["answered"], b["not_applicable"]) == ("B", 2, 1, 1)
    assert figures(b) == (0.0, 0.0, 50.0, 0.0)  # 0/3, 0/6 (the N/A is unverified)


def test_roll_up_per_implementation_group(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    result = score(session, aw, mini.id).to_dict()
    ig1, ig2 = result["implementation_groups"]
    assert (ig1["label"], ig1["title"], ig1["assessed"]) == ("IG1", "Implementation Group 1", 2)
    assert figures(ig1) == (100.0, 50.0, 100.0, 50.0)  # A.1 + B.1(N/A): 3/3, 3/6
    assert ig2["label"] == "IG2"
    assert figures(ig2) == figures(result["totals"])


def test_per_control_scores(session: Session, aw: AssessWorld, mini: Assessment) -> None:
    controls = {c["label"]: c for c in score(session, aw, mini.id).to_dict()["controls"]}
    assert list(controls) == ["A.1", "A.2", "B.1", "B.2"]
    a1 = controls["A.1"]
    assert (a1["status"], a1["maturity"], a1["state"]) == ("fully", 4, "verified")
    assert a1["score"] == {"claimed": 100.0, "verified": 100.0}
    assert a1["evidence"] == {"total": 1, "expired": 0}
    assert controls["A.2"]["score"] == {"claimed": 66.67, "verified": 0.0}
    assert controls["B.1"]["score"] == {"claimed": None, "verified": 0.0}
    b2 = controls["B.2"]
    assert (b2["status"], b2["state"], b2["answer_id"]) == (None, None, None)
    assert b2["score"] == {"claimed": 0.0, "verified": 0.0}
    assert all(c["target"] is None for c in controls.values())
    assert all(c["gap_to_target"] == {"claimed": None, "verified": None} for c in controls.values())


def test_a_verified_not_applicable_leaves_both_denominators(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    b1 = answers.find_answer(session, auditor(aw), mini.id, "B.1")
    answers.verify_answer(session, auditor(aw), b1.id, "no such systems indeed")
    session.commit()
    result = score(session, aw, mini.id).to_dict()
    assert figures(result["totals"]) == (55.56, 33.33, 75.0, 22.23)  # 5/9, 3/9
    assert {c["label"]: c for c in result["controls"]}["B.1"]["score"] == {
        "claimed": None,
        "verified": None,
    }
    b = result["levels"]["control"][1]
    assert (b["claimed"], b["verified"]) == (0.0, 0.0)  # 0/3 both


def test_every_control_not_applicable_has_no_score(session: Session, aw: AssessWorld) -> None:
    import_file(session, SYSTEM, MINI_FRAMEWORK, "test-mini.yaml")
    assessment = workflow.create_assessment(
        session,
        aw.world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(
            org_slug="client-a", framework="test-mini", name="Mini IG1", baseline="ig1"
        ),
    )
    for label in ("A.1", "B.1"):
        answer(session, aw, assessment.id, label, "not_applicable", verify=True)
    session.commit()
    result = score(session, aw, assessment.id).to_dict()
    assert figures(result["totals"]) == (None, None, 100.0, None)
    assert [g["label"] for g in result["implementation_groups"]] == ["IG1"]  # scoped to IG1


def test_rejected_answers_count_as_claimed_only(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    a2 = answers.find_answer(session, auditor(aw), mini.id, "A.2")
    answers.reject_answer(session, auditor(aw), a2.id, "no proof")
    session.commit()
    result = score(session, aw, mini.id).to_dict()
    assert figures(result["totals"]) == (55.56, 25.0, 75.0, 30.56)
    assert {c["label"]: c["state"] for c in result["controls"]}["A.2"] == "rejected"


def test_cis_ig1_roll_ups(session: Session, aw: AssessWorld) -> None:
    """The real CIS IG1 assessment: 56 safeguards, roll-ups to controls and IG1 only."""
    answer(session, aw, aw.assessment.id, "1.1", "fully", 3, verify=True, link=True)
    answer(session, aw, aw.assessment.id, "1.2", "partially", 1, link=True)
    session.commit()
    result = score(session, aw, aw.assessment.id).to_dict()
    assessed = session.scalar(
        select(func.count()).select_from(
            workflow.assessed_controls(
                aw.assessment, session.get(Framework, aw.assessment.framework_id)
            ).subquery()
        )
    )
    assert result["totals"]["assessed"] == assessed == 56
    assert result["totals"]["claimed"] == round(100 * 4 / (3 * 56), 2)
    assert result["totals"]["verified"] == round(100 * 3 / (3 * 56), 2)
    assert len(result["controls"]) == 56
    control_1 = result["levels"]["control"][0]
    assert (control_1["label"], control_1["assessed"]) == ("1", 2)  # 1.1 and 1.2 are IG1
    assert figures(control_1) == (66.67, 50.0, 100.0, 16.67)  # 4/6, 3/6
    assert sum(g["assessed"] for g in result["levels"]["control"]) == 56
    assert [g["label"] for g in result["implementation_groups"]] == ["IG1"]
    assert result["implementation_groups"][0]["assessed"] == 56
    assert result["assessment"]["baseline"] == "ig1"


def test_full_cis_assessment_reports_every_implementation_group(
    session: Session, aw: AssessWorld
) -> None:
    assessment = workflow.create_assessment(
        session,
        aw.world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="IG3", target_ig=3
        ),
    )
    answer(session, aw, assessment.id, "1.5", "fully", 3)  # an IG3-only safeguard
    session.commit()
    groups = score(session, aw, assessment.id).to_dict()["implementation_groups"]
    assert [(g["label"], g["assessed"], g["answered"]) for g in groups] == [
        ("IG1", 56, 0),
        ("IG2", 130, 0),
        ("IG3", 153, 1),
    ]


# --- target gaps (CSF assessment with a target profile) --------------------------------------


def test_gap_to_target_claimed_and_verified(session: Session, aw: AssessWorld) -> None:
    assessment = workflow.create_assessment(
        session,
        aw.world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(
            org_slug="client-a",
            framework="nist-csf-2.0",
            name="CSF 2026",
            target_maturity=3,
            targets={"GV.OC-01": 5},
        ),
    )
    answer(session, aw, assessment.id, "GV.OC-01", "fully", 2, verify=True, link=True)
    answer(session, aw, assessment.id, "GV.OC-02", "largely", 4, link=True)
    answer(session, aw, assessment.id, "GV.OC-03", "not_applicable")
    session.commit()
    result = score(session, aw, assessment.id).to_dict()
    controls = {c["label"]: c for c in result["controls"]}
    assert len(controls) == 106
    assert controls["GV.OC-01"]["target"] == 5
    assert controls["GV.OC-01"]["gap_to_target"] == {"claimed": 3, "verified": 3}
    # maturity 4 exceeds the target 3: no claimed gap; unverified, so the full gap when verified
    assert controls["GV.OC-02"]["gap_to_target"] == {"claimed": 0, "verified": 3}
    assert controls["GV.OC-03"]["gap_to_target"] == {"claimed": None, "verified": 3}
    assert controls["GV.OC-04"]["gap_to_target"] == {"claimed": 3, "verified": 3}  # unanswered
    assert list(result["levels"]) == ["function", "category"]
    govern = result["levels"]["function"][0]
    assert (govern["label"], govern["title"]) == ("GV", "Govern")
    gv_oc = result["levels"]["category"][0]
    assert gv_oc["label"] == "GV.OC"
    subcategories = sum(1 for label in controls if label.startswith("GV.OC-"))
    # targets: 5 + 3 x (n - 2) over the n - 1 applicable subcategories of GV.OC
    assert gv_oc["maturity"]["target"] == round(
        (5 + 3 * (subcategories - 2)) / (subcategories - 1), 2
    )
    assert gv_oc["maturity"]["claimed"] == round((2 + 4) / (subcategories - 1), 2)
    assert gv_oc["maturity"]["verified"] == round(2 / subcategories, 2)
    assert result["implementation_groups"] == []
    assert result["derived"] is None  # CSF is not derived from itself


# --- blind spots -----------------------------------------------------------------------------


def spots(result: AssessmentScore) -> dict[str, list[str]]:
    return {spot.label: spot.reasons for spot in result.blind_spots}


def test_blind_spots_unanswered_and_no_evidence(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    result = score(session, aw, mini.id)
    # A.1 has current evidence and is verified; an N/A claim needs evidence like any claim
    assert spots(result) == {"A.2": ["no_evidence"], "B.1": ["no_evidence"], "B.2": ["unanswered"]}
    assert result.to_dict()["blind_spots"][0] == {
        "label": "A.2",
        "title": "Safeguard A2",
        "reasons": ["no_evidence"],
    }


def test_not_implemented_needs_no_evidence(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    answer(session, aw, mini.id, "B.2", "not_implemented", 0)
    session.commit()
    assert "B.2" not in spots(score(session, aw, mini.id))


def test_blind_spot_expired_evidence_only(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    a2 = answers.find_answer(session, auditor(aw), mini.id, "A.2")
    for days in (10, 1):  # both expired before today
        evidence.add_link(
            session,
            it(aw),
            a2.id,
            url=f"https://wiki.example.org/a2-{days}",
            dates=evidence.EvidenceDates(TODAY - timedelta(days=100), TODAY - timedelta(days=days)),
        )
    session.commit()
    result = score(session, aw, mini.id)
    assert spots(result)["A.2"] == ["expired_evidence"]
    assert {c.label: c.evidence_expired for c in result.controls}["A.2"] == 2
    # evidence expiring today is still current
    evidence.add_link(
        session,
        it(aw),
        a2.id,
        url="https://wiki.example.org/a2-today",
        dates=evidence.EvidenceDates(TODAY - timedelta(days=100), TODAY),
    )
    session.commit()
    assert "A.2" not in spots(score(session, aw, mini.id))


def test_blind_spot_stale_claim(session: Session, aw: AssessWorld, mini: Assessment) -> None:
    evidence.add_link(
        session,
        it(aw),
        answers.find_answer(session, auditor(aw), mini.id, "A.2").id,
        url="https://wiki.example.org/a2",
        dates=evidence.EvidenceDates(TODAY - timedelta(days=5)),
    )
    start_of_today = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    for label, days in (("A.1", 45), ("A.2", 31), ("B.1", 29)):
        session.execute(
            update(Answer)
            .where(
                Answer.assessment_id == mini.id,
                Answer.control_id
                == select(Control.id).where(Control.label == label).scalar_subquery(),
            )
            .values(claimed_at=start_of_today - timedelta(days=days))
        )
    session.commit()
    found = spots(score(session, aw, mini.id))
    assert "A.1" not in found  # old, but verified
    assert found["A.2"] == ["stale_claim"]  # claimed 31 days ago, never verified
    assert found["B.1"] == ["no_evidence"]  # 29 days: not yet stale


# --- derived coverage of CSF 2.0 -------------------------------------------------------------


def test_derived_csf_coverage_hand_computed(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    derived = score(session, aw, mini.id).to_dict()["derived"]
    assert derived["derived"] is True
    assert (derived["framework"], derived["mapping_set"]) == (
        "nist-csf-2.0",
        "test-mini--nist-csf-2.0",
    )
    sub = {g["label"]: g for g in derived["levels"]["subcategory"]}
    assert set(sub) == {"ID.AM-01", "PR.AA-01", "PR.AA-02"}
    assert all(g["derived"] is True for level in derived["levels"].values() for g in level)
    assert (sub["ID.AM-01"]["mapped"], sub["ID.AM-01"]["claimed"], sub["ID.AM-01"]["verified"]) == (
        2,
        83.33,  # A.1 100 and A.2 66.67
        50.0,
    )
    # A.1 (3), B.1 (N/A, unverified) and B.2 (unanswered): 3/6 claimed, 3/9 verified
    assert (sub["PR.AA-01"]["claimed"], sub["PR.AA-01"]["verified"]) == (50.0, 33.33)
    assert (sub["PR.AA-02"]["claimed"], sub["PR.AA-02"]["verified"]) == (100.0, 100.0)
    functions = {g["label"]: g for g in derived["levels"]["function"]}
    assert list(functions) == ["ID", "PR"]
    # PR: distinct safeguards A.1, B.1, B.2 (A.1 once although it reaches two subcategories)
    assert (functions["PR"]["mapped"], functions["PR"]["claimed"]) == (3, 50.0)
    assert functions["PR"]["verified"] == 33.33
    assert "maturity" not in functions["PR"]  # derived figures are scores only


def test_derived_csf_coverage_from_cis_crosswalk(session: Session, aw: AssessWorld) -> None:
    answer(session, aw, aw.assessment.id, "1.1", "fully", 3, verify=True, link=True)
    session.commit()
    result = score(session, aw, aw.assessment.id)
    derived = result.to_dict()["derived"]
    assert derived["derived"] is True
    assert derived["mapping_set"] == "cis-controls-v8.1--nist-csf-2.0"
    assert list(derived["levels"]) == ["function", "category", "subcategory"]
    sub = {g["label"]: g for g in derived["levels"]["subcategory"]}
    assert sub["ID.AM-01"]["verified"] > 0
    assert sub["ID.AM-01"]["claimed"] >= sub["ID.AM-01"]["verified"]
    assert {g["label"] for g in derived["levels"]["function"]} <= {
        "GV",
        "ID",
        "PR",
        "DE",
        "RS",
        "RC",
    }
    # derived coverage is never an answer: no CSF control appears among the answered controls
    assert all("." in c.label and not c.label[0].isalpha() for c in result.controls)


# --- authorization ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who",
    [("client-b", Role.ADMIN), ("watchtower", Role.AUDITOR), ("otherco", Role.ADMIN)]
    + [("client-b", role) for role in Role],
    ids=str,
)
def test_out_of_reach_is_not_found(
    session: Session, aw: AssessWorld, who: tuple[str, Role]
) -> None:
    with pytest.raises(NotFound, match=f"assessment {aw.assessment.id} not found"):
        score_assessment(session, aw.world.actor(*who), aw.assessment.id)


@pytest.mark.parametrize(
    "who",
    [
        ("client-a", Role.EXECUTIVE),
        ("client-a", Role.IT_OPERATOR),
        ("northwind", Role.ADMIN),
        ("sentinel", Role.AUDITOR),
    ],
    ids=str,
)
def test_readers_may_score(session: Session, aw: AssessWorld, who: tuple[str, Role]) -> None:
    assert score_assessment(session, aw.world.actor(*who), aw.assessment.id).totals.assessed == 56


def test_missing_assessment_is_not_found(session: Session, aw: AssessWorld) -> None:
    with pytest.raises(NotFound):
        score_assessment(session, auditor(aw), 999999)


# --- many assessments at once ----------------------------------------------------------------


def test_score_many_matches_score_assessment(
    session: Session, aw: AssessWorld, mini: Assessment
) -> None:
    answer(session, aw, aw.assessment.id, "1.1", "fully", 3, verify=True)
    session.commit()
    many = score_many(session, [aw.assessment.id, mini.id, 999999, mini.id])
    assert set(many) == {aw.assessment.id, mini.id}
    for assessment_id, totals in many.items():
        assert totals == score(session, aw, assessment_id).totals
    assert many[mini.id].to_dict()["claimed"] == 55.56
    assert score_many(session, []) == {}


# --- bounded number of statements ------------------------------------------------------------


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def bulk_answers(session: Session, assessment: Assessment, limit: int) -> None:
    framework = session.get(Framework, assessment.framework_id)
    assert framework is not None
    ids = session.scalars(
        workflow.assessed_controls(assessment, framework).order_by(Control.id).limit(limit)
    ).all()
    statuses = [Status.FULLY, Status.LARGELY, Status.PARTIALLY, Status.NOT_APPLICABLE]
    session.execute(
        insert(Answer),
        [
            {
                "organization_id": assessment.organization_id,
                "assessment_id": assessment.id,
                "control_id": control_id,
                "status": statuses[n % 4],
                "maturity": n % 6,
                "justification": "",
                "notes": "",
                "contributor_ids": [],
                "state": AnswerState.VERIFIED if n % 3 == 0 else AnswerState.CLAIMED,
            }
            for n, control_id in enumerate(ids)
        ],
    )
    session.commit()


def test_statement_count_does_not_grow_with_answers(session: Session, aw: AssessWorld) -> None:
    admin = aw.world.actor("northwind", Role.ADMIN)
    small = aw.assessment
    large = workflow.create_assessment(
        session,
        admin,
        workflow.NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="L", target_ig=1
        ),
    )
    session.commit()
    bulk_answers(session, small, 5)
    bulk_answers(session, large, 56)
    counts = []
    for assessment in (small, large):
        session.rollback()  # a fresh transaction and an empty identity map for each
        session.expunge_all()
        with counted(session) as statements:
            result = score(session, aw, assessment.id)
        counts.append(len(statements))
        assert result.totals.answered in (5, 56)
    assert counts[0] == counts[1]
    assert counts[0] <= 15
    with counted(session) as statements:
        score_many(session, [small.id, large.id])
    assert len(statements) == 2
