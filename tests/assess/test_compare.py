"""Trend between two assessments of one organization: improved, regressed, unchanged, changed
applicability, added/removed controls, and verification-state changes."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from assay.assess import answers, workflow
from assay.assess.compare import compare_assessments
from assay.assess.models import Assessment
from assay.auth.actor import Actor
from assay.errors import InvalidInput, NotFound
from assay.tenancy.models import Role
from tests.assess.conftest import AssessWorld


def it(aw: AssessWorld) -> Actor:
    return aw.world.actor("client-a", Role.IT_OPERATOR)


def auditor(aw: AssessWorld) -> Actor:
    return aw.world.actor("client-a", Role.AUDITOR)


def admin(aw: AssessWorld) -> Actor:
    return aw.world.actor("northwind", Role.ADMIN)


def put(
    session: Session,
    aw: AssessWorld,
    assessment_id: int,
    label: str,
    status: str,
    maturity: int,
    *,
    verify: bool = False,
) -> None:
    justification = "out of scope" if status == "not_applicable" else ""
    result = answers.answer_control(
        session,
        it(aw),
        assessment_id,
        label,
        answers.AnswerInput(status=status, maturity=maturity, justification=justification),
    )
    if verify:
        answers.verify_answer(session, auditor(aw), result.id, "checked")


@pytest.fixture
def cycles(session: Session, aw: AssessWorld) -> tuple[Assessment, Assessment]:
    """A first cycle and its clone, changed control by control."""
    first = aw.assessment
    put(session, aw, first.id, "1.1", "largely", 2)
    put(session, aw, first.id, "1.2", "fully", 3, verify=True)
    put(session, aw, first.id, "2.1", "partially", 1)
    put(session, aw, first.id, "2.2", "not_applicable", 0)
    put(session, aw, first.id, "2.3", "fully", 2)
    put(session, aw, first.id, "3.1", "fully", 3, verify=True)
    second = workflow.clone_assessment(session, admin(aw), first.id, "2027 CIS")
    put(session, aw, second.id, "1.1", "fully", 2)  # improved
    put(session, aw, second.id, "2.1", "not_implemented", 0)  # regressed
    put(session, aw, second.id, "2.2", "partially", 1)  # no longer N/A: changed
    put(session, aw, second.id, "2.3", "fully", 4)  # same status, higher maturity: improved
    answers.verify_answer(  # verified again in the new cycle
        session, auditor(aw), answers.find_answer(session, it(aw), second.id, "3.1").id, "ok"
    )
    put(session, aw, second.id, "3.3", "partially", 1)  # newly answered: improved
    session.commit()
    return first, second


def test_directions_and_state_changes(
    session: Session, aw: AssessWorld, cycles: tuple[Assessment, Assessment]
) -> None:
    first, second = cycles
    result = compare_assessments(session, auditor(aw), first.id, second.id).to_dict()
    assert result["summary"] == {
        "improved": 3,
        "regressed": 1,
        "unchanged": 51,
        "changed": 1,
        "added": 0,
        "removed": 0,
    }
    # 1.2 was verified and the clone needs verifying again; 3.3 was unanswered
    assert result["state_changes"] == {"unanswered->claimed": 1, "verified->claimed": 1}
    controls = {c["label"]: c for c in result["controls"]}
    assert len(controls) == 56
    directions = {label: c["direction"] for label, c in controls.items()}
    assert {label: d for label, d in directions.items() if d != "unchanged"} == {
        "1.1": "improved",
        "2.1": "regressed",
        "2.2": "changed",
        "2.3": "improved",
        "3.3": "improved",
    }
    assert controls["1.1"]["score_delta"] == {"claimed": 33.33, "verified": 0.0}
    assert controls["1.1"]["first"]["status"] == "largely"
    assert controls["1.1"]["second"]["status"] == "fully"
    assert controls["1.2"]["direction"] == "unchanged"
    assert controls["1.2"]["state_change"] == {"from": "verified", "to": "claimed"}
    assert controls["1.2"]["score_delta"] == {"claimed": 0.0, "verified": -100.0}
    assert controls["2.2"]["score_delta"] == {"claimed": None, "verified": 0.0}
    assert controls["2.3"]["maturity_delta"] == 2
    assert controls["3.1"]["state_change"] is None
    assert controls["3.3"]["state_change"] == {"from": "unanswered", "to": "claimed"}
    assert controls["3.3"]["first"] == {
        "answer_id": None,
        "status": None,
        "maturity": None,
        "state": None,
        "score": {"claimed": 0.0, "verified": 0.0},
    }
    assert controls["4.1"]["state_change"] is None  # unanswered in both


def test_totals_and_delta(
    session: Session, aw: AssessWorld, cycles: tuple[Assessment, Assessment]
) -> None:
    first, second = cycles
    result = compare_assessments(session, auditor(aw), first.id, second.id).to_dict()
    assert (result["first"]["id"], result["second"]["id"]) == (first.id, second.id)
    assert result["second"]["name"] == "2027 CIS"
    assert result["framework"] == "cis-controls-v8.1"
    # first: 12 thirds over 55 applicable; verified 6 thirds over 56
    assert result["first"]["totals"]["claimed"] == 7.27
    assert result["first"]["totals"]["verified"] == 3.57
    # second: 14 thirds over 56; verified 3 thirds over 56
    assert result["second"]["totals"]["claimed"] == 8.33
    assert result["second"]["totals"]["verified"] == 1.79
    assert result["delta"]["claimed"] == 1.06
    assert result["delta"]["verified"] == -1.78
    assert result["delta"]["coverage"] == round(7 / 56 * 100 - 6 / 56 * 100, 2)


def test_different_baselines_add_and_remove_controls(session: Session, aw: AssessWorld) -> None:
    wider = workflow.create_assessment(
        session,
        admin(aw),
        workflow.NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="IG2", target_ig=2
        ),
    )
    put(session, aw, wider.id, "1.3", "fully", 3)  # an IG2 safeguard
    session.commit()
    forward = compare_assessments(session, auditor(aw), aw.assessment.id, wider.id)
    assert forward.summary["added"] == 130 - 56
    assert forward.summary["unchanged"] == 56
    added = {c.label: c for c in forward.controls if c.direction == "added"}
    assert added["1.3"].first is None
    assert added["1.3"].to_dict()["score_delta"] is None
    assert added["1.3"].to_dict()["second"]["status"] == "fully"
    assert forward.state_changes == {}
    backward = compare_assessments(session, auditor(aw), wider.id, aw.assessment.id)
    assert backward.summary["removed"] == 74


def test_refuses_other_organization_framework_or_itself(session: Session, aw: AssessWorld) -> None:
    other_org = workflow.create_assessment(
        session,
        admin(aw),
        workflow.NewAssessment(
            org_slug="client-b", framework="cis-controls-v8.1", name="B", target_ig=1
        ),
    )
    other_framework = workflow.create_assessment(
        session,
        admin(aw),
        workflow.NewAssessment(org_slug="client-a", framework="nist-csf-2.0", name="CSF"),
    )
    session.commit()
    with pytest.raises(InvalidInput, match="different organizations"):
        compare_assessments(session, admin(aw), aw.assessment.id, other_org.id)
    with pytest.raises(InvalidInput, match="different frameworks"):
        compare_assessments(session, admin(aw), aw.assessment.id, other_framework.id)
    with pytest.raises(InvalidInput, match="two different"):
        compare_assessments(session, admin(aw), aw.assessment.id, aw.assessment.id)


@pytest.mark.parametrize(
    "who", [("client-b", Role.ADMIN), ("watchtower", Role.AUDITOR), ("otherco", Role.ADMIN)]
)
def test_out_of_reach_is_not_found(
    session: Session, aw: AssessWorld, cycles: tuple[Assessment, Assessment], who: tuple[str, Role]
) -> None:
    first, second = cycles
    with pytest.raises(NotFound):
        compare_assessments(session, aw.world.actor(*who), first.id, second.id)


def test_granted_auditor_and_executive_may_compare(
    session: Session, aw: AssessWorld, cycles: tuple[Assessment, Assessment]
) -> None:
    first, second = cycles
    for who in (("sentinel", Role.AUDITOR), ("client-a", Role.EXECUTIVE)):
        result = compare_assessments(session, aw.world.actor(*who), first.id, second.id)
        assert result.summary["regressed"] == 1
