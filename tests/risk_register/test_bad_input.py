"""Bad input to the register: a clear error naming the field, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from assay.errors import InvalidInput
from assay.risk import analysis, service
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World
from tests.risk_register.conftest import make_risk, stored

BASE: dict[str, Any] = {"title": "Phishing", "inherent_likelihood": 3, "inherent_impact": 3}
GOOD_FAIR = {"tef": "1,4,12", "vuln": "0.1,0.3,0.6", "lm": "1000,5000,90000"}


def fair(**changes: Any) -> dict[str, Any]:
    out = {**GOOD_FAIR, **changes}
    return {k: v for k, v in out.items() if v is not None}


CASES: list[tuple[dict[str, Any], str]] = [
    # FAIR estimates
    ({"fair": fair(lm="9000,5000,1000")}, r"fair\.lm: minimum \(9000\) is above maximum \(1000\)"),
    (
        {"fair": fair(lm={"kind": "uniform", "min": 5, "max": 1})},
        r"fair\.lm: minimum \(5\) is above",
    ),
    ({"fair": fair(tef="-2,1,5")}, r"fair\.tef: minimum \(-2\) is negative"),
    ({"fair": {"lef": -1, "lm": 10}}, r"fair\.lef: value \(-1\) is negative"),
    ({"fair": fair(vuln="0.2,0.5,1.5")}, r"fair\.vuln: maximum \(1.5\) is above 1"),
    ({"fair": fair(vuln=2)}, r"fair\.vuln: value \(2\) is above 1"),
    ({"fair": fair(vuln="lognormal:0.1,0.5")}, r"fair\.vuln: a probability needs a bounded"),
    (
        {"fair": fair(lm="lots")},
        r"fair\.lm: minimum must be a number, not 'lots'|fair\.lm: .*'lots'",
    ),
    ({"fair": fair(lm=[1, "x", 3])}, r"fair\.lm: most likely value must be a number, not 'x'"),
    ({"fair": fair(lm={"kind": "pert", "min": 1, "max": 3})}, r"fair\.lm: mode missing"),
    ({"fair": fair(lm=None)}, r"fair\.lm: missing"),
    ({"fair": fair(vuln=None)}, r"fair\.vuln: missing: tef needs vuln"),
    ({"fair": fair(lef=2)}, r"fair\.lef: give either lef, or tef with vuln"),
    ({"fair": fair(speed=3)}, r"fair\.speed: unknown factor"),
    ({"fair": fair(lm=float("nan"))}, r"fair\.lm: value must be a finite number"),
    ({"fair": {}}, r"fair: no estimates given"),
    ({"fair": "1,2,3"}, r"fair: must map factors"),
    # levels, text, choices, dates, amounts
    ({"inherent_likelihood": 0}, r"inherent_likelihood: must be 1 to 5, not 0"),
    ({"inherent_impact": "huge"}, r"inherent_impact: must be 1 to 5 or one of"),
    ({"inherent_impact": None}, r"inherent_impact: missing"),
    ({"residual_impact": 9}, r"residual_impact: must be 1 to 5, not 9"),
    ({"title": ""}, r"title: missing"),
    ({"title": "x" * 201}, r"title: must have at most 200 characters"),
    ({"title": 5}, r"title: must be text"),
    ({"description": "a\x00b"}, r"description: must not contain control characters"),
    ({"treatment": "ignore"}, r"treatment: must be one of mitigate, accept, transfer, avoid"),
    ({"status": "accepted"}, r"status: a risk becomes accepted only through an acceptance"),
    ({"status": "done"}, r"status: must be one of open"),
    ({"due_on": "31/12/2026"}, r"due_on: must be a date \(YYYY-MM-DD\)"),
    ({"tolerance": -5}, r"tolerance: must be an amount >= 0"),
    ({"tolerance": "a lot"}, r"tolerance: must be a number, not 'a lot'"),
    ({"tolerance": float("inf")}, r"tolerance: must be an amount >= 0"),
    ({"tolerance": 1e18}, r"tolerance: must be at most"),
    ({"assets": "web1"}, r"assets: must be a list"),
    ({"assets": [0]}, r"assets\[0\]: must be an asset id \(1 or more\)"),
    ({"assets": list(range(1, 102))}, r"assets: at most 100 per risk"),
    (
        {"controls": [{"effect": "tef", "min": 0.1, "max": 0.2}]},
        r"controls\[0\]\.framework: missing",
    ),
    (
        {"controls": [{"control": "cis-controls-v8.1:1.1", "min": 0.1, "max": 0.2}]},
        r"controls\[0\]\.effect: missing",
    ),
    (
        {"controls": [{"control": "cis-controls-v8.1:1.1", "effect": "tef", "max": 0.2}]},
        r"controls\[0\]\.min: missing",
    ),
    (
        {
            "controls": [
                {"control": "cis-controls-v8.1:1.1", "effect": "tef", "min": -0.1, "max": 0.2}
            ]
        },
        r"controls\[0\]\.min: must be a fraction",
    ),
    ({"colour": "red"}, r"colour: unknown field"),
]


@pytest.mark.parametrize(("changes", "message"), CASES, ids=[m[:50] for _, m in CASES])
def test_create_refuses_naming_the_field(
    session: Session, world: World, changes: dict[str, Any], message: str
) -> None:
    before = stored(session)
    with pytest.raises(InvalidInput, match=message):
        service.create_risk(
            session, world.actor("client-a", Role.IT_OPERATOR), "client-a", {**BASE, **changes}
        )
    assert stored(session) == before


@pytest.mark.parametrize(("changes", "message"), CASES[:20], ids=[m[:50] for _, m in CASES[:20]])
def test_update_refuses_naming_the_field(
    session: Session, world: World, changes: dict[str, Any], message: str
) -> None:
    risk_id = make_risk(session, fair=GOOD_FAIR)
    before = stored(session)
    with pytest.raises(InvalidInput, match=message):
        service.update_risk(session, SYSTEM, risk_id, changes)
    assert stored(session) == before


@pytest.mark.parametrize(
    ("iterations", "message"),
    [
        (0, "iterations: must be between 1 and 10,000,000, not 0"),
        (-5, "iterations: must be between 1"),
        (10**9, "iterations: must be between 1 and 10,000,000"),
        (2_000_000, "iterations: must be between 1 and 1,000,000 for the register"),
        ("many", "iterations: must be a whole number, not 'many'"),
        (2.5, "iterations: must be a whole number"),
        (None, "iterations: must be a whole number"),
    ],
)
def test_absurd_iterations(
    session: Session, world: World, iterations: object, message: str
) -> None:
    risk_id = make_risk(session, fair=GOOD_FAIR)
    before = stored(session)
    with pytest.raises(InvalidInput, match=message):
        analysis.simulate_risk(session, SYSTEM, risk_id, iterations=iterations)
    with pytest.raises(InvalidInput, match=message):
        analysis.portfolio(session, SYSTEM, "client-a", iterations=iterations)
    assert stored(session) == before


@pytest.mark.parametrize("seed", [-1, "seven", 2**64, 1.5])
def test_bad_seed(session: Session, world: World, seed: object) -> None:
    risk_id = make_risk(session, fair=GOOD_FAIR)
    with pytest.raises(InvalidInput, match="seed: must be a whole number"):
        analysis.simulate_risk(session, SYSTEM, risk_id, seed=seed)


def test_bad_portfolio_tolerance(session: Session, world: World) -> None:
    with pytest.raises(InvalidInput, match="tolerance: must be an amount >= 0"):
        analysis.portfolio(session, SYSTEM, "client-a", iterations=10, tolerance=-1)
