"""Controls credited by their state in the latest assessment, against hand-computed losses.

Constant estimates make every simulated year the same, so the expected losses are exact: a loss
event frequency of 2 a year and a loss of 1,000 per event give 2,000 a year before controls.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from assay.assess import workflow
from assay.config import settings
from assay.errors import Conflict, InvalidInput
from assay.risk import analysis, credit
from assay.risk.models import EffectTarget
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World
from tests.risk_register.conftest import CIS, assess, make_risk, stored

CONSTANT = {"lef": 2, "lm": 1000}


def control(label: str, effect: str, reduction: float | list[float]) -> dict[str, Any]:
    return {"control": f"{CIS}:{label}", "effect": effect, "reduction": reduction}


# label -> (status, state) of its answer; the controls below reduce by constant fractions
ANSWERS = {
    "1.1": ("fully", "verified"),
    "1.2": ("fully", "claimed"),
    "2.1": ("fully", "rejected"),
    "2.2": ("partially", "verified"),
    "2.3": ("not_applicable", "verified"),
    "3.1": ("not_implemented", "verified"),
}
CONTROLS = [
    control("1.1", "vulnerability", 0.5),  # verified, fully: all of it         x 0.5
    control("1.2", "lm", 0.4),  # claimed, fully: half of 0.4                  x 0.8
    control("2.1", "tef", 0.9),  # rejected: nothing                           x 1
    control("2.2", "tef", 0.6),  # verified, partially: a third of 0.6          x 0.8
    control("2.3", "lm", 0.9),  # not applicable: nothing                      x 1
    control("3.1", "vulnerability", 0.9),  # not implemented: nothing          x 1
    control("3.2", "vulnerability", 0.9),  # unanswered: nothing               x 1
    control("1.3", "lm", 0.9),  # IG2, outside the IG1 assessment: nothing     x 1
]


@pytest.fixture
def assessed(session: Session, world: World, catalogs: None) -> int:
    return assess(session, world, "client-a", ANSWERS)


def test_credits_follow_status_and_state(session: Session, world: World, assessed: int) -> None:
    risk_id = make_risk(session, fair=CONSTANT, controls=CONTROLS)
    result = analysis.simulate_risk(session, world.actor("client-a", Role.EXECUTIVE), risk_id)
    by_label = {c.control.label: c for c in result.credits}
    shares = {label: (c.credit, c.credit_if_verified) for label, c in by_label.items()}
    assert shares == {
        "1.1": (1.0, 1.0),
        "1.2": (0.5, 1.0),
        "2.1": (0.0, 0.0),
        "2.2": (pytest.approx(1 / 3), pytest.approx(1 / 3)),
        "2.3": (0.0, 0.0),
        "3.1": (0.0, 0.0),
        "3.2": (0.0, 0.0),
        "1.3": (0.0, 0.0),
    }
    assert by_label["1.1"].assessment_id == assessed
    assert by_label["3.2"].basis == "unanswered"
    assert by_label["2.3"].basis == "answered not applicable: no credit"
    assert by_label["1.2"].basis == "fully, claimed"

    inherent, residual, verified = (
        result.inherent.summary,
        result.residual.summary,
        result.if_verified.summary,
    )
    assert (inherent.mean, inherent.std, inherent.percentiles[90]) == (2000.0, 0.0, 2000.0)
    # 2000 x (1 - 0.5) x (1 - 0.4 x 0.5) x (1 - 0.6 / 3)
    assert residual.mean == pytest.approx(640.0, rel=1e-12)
    assert residual.std == 0.0
    # with 1.2 verified: 2000 x 0.5 x (1 - 0.4) x 0.8
    assert verified.mean == pytest.approx(480.0, rel=1e-12)
    assert result.gap_mean == pytest.approx(160.0, rel=1e-12)
    assert result.gap_p90 == pytest.approx(160.0, rel=1e-12)
    as_dict = result.to_dict()
    assert as_dict["verification_gap"]["mean"] == pytest.approx(160.0)
    assert as_dict["claimed_credit"] == 0.5


def test_the_claimed_share_is_configurable(
    session: Session, world: World, assessed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    risk_id = make_risk(session, fair=CONSTANT, controls=CONTROLS)
    monkeypatch.setenv("ASSAY_CLAIMED_CREDIT", "0.25")
    settings.cache_clear()
    try:
        result = analysis.simulate_risk(session, SYSTEM, risk_id)
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    # 2000 x 0.5 x (1 - 0.4 x 0.25) x 0.8
    assert result.residual.summary.mean == pytest.approx(720.0, rel=1e-12)
    assert result.claimed_credit == 0.25


def test_bad_claimed_share_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.config import load_settings

    for value in ("1.5", "-0.1", "half", "nan"):
        monkeypatch.setenv("ASSAY_CLAIMED_CREDIT", value)
        with pytest.raises(ValueError, match="ASSAY_CLAIMED_CREDIT must be a number from 0 to 1"):
            load_settings()


def test_the_gap_is_positive_with_claims_and_zero_once_verified(
    session: Session, world: World, catalogs: None
) -> None:
    uncertain = {"tef": "1,4,12", "vuln": "0.1,0.3,0.6", "lm": "10000,50000,400000"}
    ranges = [
        control("1.1", "vulnerability", [0.2, 0.5, 0.7]),
        control("1.2", "tef", [0.1, 0.3, 0.5]),
    ]
    assess(session, world, "client-a", {"1.1": ("fully", "verified"), "1.2": ("fully", "claimed")})
    assess(session, world, "client-b", {"1.1": ("fully", "verified"), "1.2": ("fully", "verified")})
    claimed = make_risk(session, fair=uncertain, controls=ranges)
    verified = make_risk(session, "client-b", fair=uncertain, controls=ranges)
    with_claims = analysis.simulate_risk(session, SYSTEM, claimed, iterations=20_000)
    all_verified = analysis.simulate_risk(session, SYSTEM, verified, iterations=20_000)
    assert with_claims.gap_mean > 0 and with_claims.gap_p90 > 0
    assert (
        with_claims.inherent.summary.mean
        > with_claims.residual.summary.mean
        > with_claims.if_verified.summary.mean
    )
    assert all_verified.gap_mean == 0.0 and all_verified.gap_p90 == 0.0
    # the same seed gives the same figures; another seed others
    again = analysis.simulate_risk(session, SYSTEM, claimed, iterations=20_000)
    assert again.residual.summary == with_claims.residual.summary
    other = analysis.simulate_risk(session, SYSTEM, claimed, iterations=20_000, seed=2)
    assert other.residual.summary.mean != with_claims.residual.summary.mean


def test_the_latest_started_assessment_decides(
    session: Session, world: World, catalogs: None
) -> None:
    risk_id = make_risk(session, fair=CONSTANT, controls=[control("1.1", "vulnerability", 0.5)])
    only_draft = assess(session, world, "client-a", {"1.1": ("fully", "claimed")}, start=False)
    found = analysis.simulate_risk(session, SYSTEM, risk_id).credits[0]
    assert (found.assessment_id, found.credit) == (only_draft, 0.5)  # drafts only: the draft
    started = assess(session, world, "client-a", {"1.1": ("fully", "verified")})
    found = analysis.simulate_risk(session, SYSTEM, risk_id).credits[0]
    assert (found.assessment_id, found.credit) == (started, 1.0)
    # the next cycle, a draft with every answer carried over as claimed, changes nothing yet
    clone = workflow.clone_assessment(session, world.actor("northwind", Role.ADMIN), started)
    session.commit()
    found = analysis.simulate_risk(session, SYSTEM, risk_id).credits[0]
    assert found.assessment_id == started
    workflow.change_state(session, world.actor("northwind", Role.ADMIN), clone.id, "in_progress")
    session.commit()
    found = analysis.simulate_risk(session, SYSTEM, risk_id).credits[0]
    assert (found.assessment_id, found.state, found.credit) == (clone.id, "claimed", 0.5)


def test_controls_must_be_assessed_catalog_controls(
    session: Session, world: World, catalogs: None
) -> None:
    before = stored(session)
    cases = [
        (control("1", "tef", 0.2), r"controls\[0\]: cis-controls-v8.1:1 is not an assessed"),
        (control("99.9", "tef", 0.2), r"controls\[0\]: cis-controls-v8.1 has no control '99.9'"),
        ({"control": "nope:1.1", "effect": "tef", "reduction": 0.2}, "framework 'nope' is not"),
        ("cis-controls-v8.1:1.1:tef:0.2,0.1,0.3", r"controls\[0\]: most likely \(0.1\) is outside"),
        ("cis-controls-v8.1:1.1:speed:0.2", r"controls\[0\]: must be tef, vulnerability or lm"),
        ("1.1:tef:0.2", r"controls\[0\]: must be FRAMEWORK:LABEL:EFFECT"),
        (control("1.1", "tef", 40), r"controls\[0\].reduction: 40 is above 1"),
        ({"control": f"{CIS}:1.1", "effect": "lm", "min": 0.5, "max": 0.2}, "minimum"),
    ]
    for spec, message in cases:
        with pytest.raises(InvalidInput, match=message):
            make_risk(session, controls=[spec])
    with pytest.raises(InvalidInput, match=r"controls\[1\]: cis-controls-v8.1:1.1 reduces tef"):
        make_risk(session, controls=[control("1.1", "tef", 0.1), control("1.1", "tef", 0.2)])
    assert stored(session) == before
    text = make_risk(
        session, controls=[f"{CIS}:1.1:frequency:20%,30%,50%", control("1.1", "lm", 0.1)]
    )
    with pytest.raises(Conflict, match="no FAIR estimates"):
        analysis.simulate_risk(session, SYSTEM, text)
    from assay.risk.service import get_risk

    controls = get_risk(session, SYSTEM, text).controls
    assert [(c.label, c.effect, c.low, c.mode, c.high) for c in controls] == [
        ("1.1", EffectTarget.TEF, 0.2, 0.3, 0.5),
        ("1.1", EffectTarget.LM, 0.1, 0.1, 0.1),
    ]


def test_credit_for_each_answer() -> None:
    from assay.assess.models import AnswerState, Status

    assert credit.credit_for(Status.LARGELY, AnswerState.VERIFIED, 0.5) == pytest.approx(2 / 3)
    assert credit.credit_for(Status.LARGELY, AnswerState.CLAIMED, 0.5) == pytest.approx(1 / 3)
    assert credit.credit_for(Status.FULLY, AnswerState.REJECTED, 0.5) == 0.0
    assert credit.credit_for(Status.NOT_APPLICABLE, AnswerState.VERIFIED, 0.5) == 0.0
    assert credit.credit_for(None, None, 0.5) == 0.0
