"""Portfolios sum risks per iteration: equal to summing each risk's simulated years ourselves,
independent of threads, and an MSP's only over the clients the actor may see."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session

from assay.errors import InvalidInput, NotFound
from assay.risk import analysis, credit
from assay.risk.estimates import Estimate
from assay.risk.fair import ControlEffect, Scenario, simulate_samples, summarize
from assay.risk.portfolio import LANES, Exposure, derive_seed, sum_losses
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World
from tests.risk_register.conftest import CIS, assess, make_risk

ITERATIONS = 20_000
SEED = 7


def scenario(index: int) -> dict[str, Any]:
    return {
        "tef": [0.5 + index, 2 + index, 10 + 2 * index],
        "vuln": "0.1,0.3,0.7",
        "lm": {"kind": "lognormal", "low": 5000 * (index + 1), "high": 400_000},
        "slef": "0.05,0.1,0.3",
        "slm": "1000,20000,90000",
    }


def test_sum_losses_is_the_per_iteration_sum_and_ignores_threads() -> None:
    exposures = [
        Exposure(
            key,
            Scenario.from_dict(scenario(key % 3)),
            ((), (ControlEffect("c", vulnerability=Estimate.pert(0.1, 0.3, 0.6)),)),
        )
        for key in (3, 11, 12, 40, 41, 77, 100)
    ]
    one = sum_losses(exposures, ITERATIONS, SEED, workers=1)
    many = sum_losses(exposures, ITERATIONS, SEED, workers=LANES)
    for a, b in zip(one.totals, many.totals, strict=True):
        assert np.array_equal(a, b)  # bit for bit, whatever the threads
    assert one.means == many.means
    for variant in (0, 1):
        expected = np.zeros(ITERATIONS)
        for exposure in exposures:
            expected += simulate_samples(
                exposure.scenario,
                ITERATIONS,
                seed=derive_seed(SEED, exposure.key),
                controls=exposure.variants[variant],
            )
        np.testing.assert_allclose(one.totals[variant], expected, rtol=1e-12)
    # a sum of percentiles is not the percentile of the sum: the portfolio is the latter
    p99_of_sum = summarize(one.totals[0]).percentiles[99]
    sum_of_p99 = sum(
        summarize(
            simulate_samples(e.scenario, ITERATIONS, seed=derive_seed(SEED, e.key))
        ).percentiles[99]
        for e in exposures
    )
    assert p99_of_sum < sum_of_p99


def test_seeds_are_per_risk_and_stable() -> None:
    assert derive_seed(1, 5) == derive_seed(1, 5)
    assert len({derive_seed(1, k) for k in range(100)} | {derive_seed(2, 5)}) == 101
    with pytest.raises(InvalidInput, match="seed"):
        derive_seed(-1, 5)


def test_empty_portfolio_is_zero() -> None:
    sums = sum_losses([], 10, SEED)
    assert sums.totals[0].tolist() == [0.0] * 10 and sums.means == ()


@pytest.fixture
def register(session: Session, world: World, catalogs: None) -> dict[str, list[int]]:
    """client-a: three carried quantified risks (one with controls), one qualitative, one
    closed, one transferred; client-b: two risks; client-z (another MSP's): one."""
    assess(session, world, "client-a", {"1.1": ("fully", "claimed"), "1.2": ("fully", "verified")})
    controls = [
        {"control": f"{CIS}:1.1", "effect": "vulnerability", "reduction": [0.2, 0.5, 0.8]},
        {"control": f"{CIS}:1.2", "effect": "lm", "reduction": [0.1, 0.2, 0.4]},
    ]
    return {
        "client-a": [
            make_risk(session, fair=scenario(0), controls=controls),
            make_risk(session, fair=scenario(1), status="mitigating"),
            make_risk(session, fair=scenario(2)),
            make_risk(session),  # qualitative only
        ],
        "client-a-excluded": [
            make_risk(session, fair=scenario(1), status="closed"),
            make_risk(session, fair=scenario(1), status="transferred"),
        ],
        "client-b": [
            make_risk(session, "client-b", fair=scenario(0)),
            make_risk(session, "client-b", fair=scenario(2)),
        ],
        "client-z": [make_risk(session, "client-z", fair=scenario(1))],
    }


def expected_total(session: Session, risk_ids: list[int], *, if_verified: bool = False) -> Any:
    """The portfolio computed by hand: each risk's residual years, summed per iteration."""
    total = np.zeros(ITERATIONS)
    for risk_id in risk_ids:
        found = analysis.simulate_risk(session, SYSTEM, risk_id, iterations=10)
        controls = credit.effects(found.credits, if_verified=if_verified)
        scenario_ = Scenario.from_dict(found.view.risk.fair or {})
        total += simulate_samples(
            scenario_, ITERATIONS, seed=derive_seed(SEED, risk_id), controls=controls
        )
    return total


def test_organization_portfolio_sums_its_carried_risks(
    session: Session, world: World, register: dict[str, list[int]]
) -> None:
    view = analysis.portfolio(
        session,
        world.actor("client-a", Role.EXECUTIVE),
        "client-a",
        iterations=ITERATIONS,
        seed=SEED,
        tolerance=1_000_000,
    )
    carried = register["client-a"][:3]
    assert (view.risks, view.unquantified) == (3, 1)
    expected = summarize(expected_total(session, carried), 1_000_000)
    verified = summarize(expected_total(session, carried, if_verified=True), 1_000_000)
    for got, want in ((view.summary, expected), (view.if_verified, verified)):
        assert got.mean == pytest.approx(want.mean, rel=1e-12)
        assert got.std == pytest.approx(want.std, rel=1e-9)
        for p in (50, 90, 99):
            assert got.percentiles[p] == pytest.approx(want.percentiles[p], rel=1e-12)
        assert got.prob_exceed == want.prob_exceed
    assert view.gap_mean > 0  # control 1.1 is only claimed
    assert [line.id for line in view.lines] == carried
    assert sum(line.mean for line in view.lines) == pytest.approx(view.summary.mean, rel=1e-12)
    # a risk contributes the years it shows alone
    alone = analysis.simulate_risk(session, SYSTEM, carried[2], iterations=ITERATIONS, seed=SEED)
    assert view.lines[2].mean == pytest.approx(alone.residual.summary.mean, rel=1e-12)
    assert view.to_dict()["risks"] == 3 and view.clients == []


def test_msp_portfolio_sums_only_the_clients_the_actor_sees(
    session: Session, world: World, register: dict[str, list[int]]
) -> None:
    def run(slug: str, role: Role, org: str = "northwind") -> analysis.PortfolioView:
        return analysis.portfolio(
            session, world.actor(slug, role), org, iterations=ITERATIONS, seed=SEED
        )

    msp = run("northwind", Role.ADMIN)
    assert [c.organization.slug for c in msp.clients] == ["client-a", "client-b"]
    assert (msp.risks, msp.unquantified) == (5, 1)
    both = expected_total(session, register["client-a"][:3] + register["client-b"])
    assert msp.summary.mean == pytest.approx(float(both.mean()), rel=1e-12)
    assert msp.summary.percentiles[90] == pytest.approx(summarize(both).percentiles[90], rel=1e-12)
    client_a = analysis.portfolio(
        session, SYSTEM, "client-a", iterations=ITERATIONS, seed=SEED
    ).summary
    assert msp.clients[0].summary.mean == pytest.approx(client_a.mean, rel=1e-12)
    assert {line.organization for line in msp.lines} == {"client-a", "client-b"}

    operator = run("northwind", Role.IT_OPERATOR)
    assert operator.summary.mean == pytest.approx(msp.summary.mean, rel=1e-12)
    executive = run("northwind", Role.EXECUTIVE)  # sees no client's risks
    assert (executive.clients, executive.risks, executive.summary.mean) == ([], 0, 0.0)
    other = run("otherco", Role.ADMIN, "otherco")
    assert [c.organization.slug for c in other.clients] == ["client-z"]
    for slug, role in (
        ("client-a", Role.ADMIN),
        ("sentinel", Role.AUDITOR),
        ("otherco", Role.ADMIN),
    ):
        with pytest.raises(NotFound, match="organization 'northwind' not found"):
            run(slug, role)
    with pytest.raises(InvalidInput, match="auditor firm"):
        analysis.portfolio(session, SYSTEM, "sentinel", iterations=10)
