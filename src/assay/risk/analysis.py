"""Figures of the risk register: one risk simulated (inherent, residual, and residual with every
claimed control verified), an organization's or an MSP's portfolio, and the heat map counts.

Simulations run in open-fair mode. A risk's draws come from `derive_seed(seed, risk id)`, the
same in its own simulation and in every portfolio, so a risk contributes exactly the years it
shows alone; the three variants of one risk share those draws, so their differences come from
the controls only. A portfolio sums the residual losses of the risks the organization carries
(open, mitigating, accepted) per iteration; an MSP's portfolio sums its clients' portfolios —
only the clients whose risks the actor may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.auth.actor import Actor
from assay.config import settings
from assay.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from assay.risk import credit, inputs
from assay.risk.fair import DEFAULT_ITERATIONS, Result, Summary, simulate, summarize
from assay.risk.inputs import check_register_iterations, check_seed, scenario_of
from assay.risk.matrix import SIZE, Matrix, matrix
from assay.risk.models import Risk
from assay.risk.portfolio import Exposure, derive_seed, sum_losses
from assay.risk.service import (
    ACTIVE,
    CARRIED,
    RiskView,
    expire_acceptances,
    get_risk,
    linked_controls,
    require_client,
)
from assay.tenancy.access import authorize, authorize_slug, visible_orgs_query
from assay.tenancy.models import Organization, OrgKind

DEFAULT_SEED = 1
"""Register simulations are reproducible by default: the same data gives the same figures."""
_CHUNK = 500


def _settings_share() -> float:
    return settings().claimed_credit


def _figures(summary: Summary) -> dict[str, float]:
    return {"mean": summary.mean, "p90": summary.percentiles[90]}


@dataclass(frozen=True)
class RiskSimulation:
    """One risk simulated three ways with the same draws."""

    view: RiskView
    iterations: int
    seed: int
    risk_seed: int
    claimed_credit: float
    credits: list[credit.Credit]
    inherent: Result
    residual: Result
    if_verified: Result

    @property
    def gap_mean(self) -> float:
        """The mean annual loss the unverified claims leave on the table."""
        return self.residual.summary.mean - self.if_verified.summary.mean

    @property
    def gap_p90(self) -> float:
        return self.residual.summary.percentiles[90] - self.if_verified.summary.percentiles[90]

    def to_dict(self) -> dict[str, Any]:
        return {
            "risk": self.view.risk.id,
            "organization": self.view.organization.slug,
            "mode": "open-fair",
            "iterations": self.iterations,
            "seed": self.seed,
            "risk_seed": self.risk_seed,
            "claimed_credit": self.claimed_credit,
            "tolerance": self.view.risk.tolerance,
            "controls": [c.to_dict() for c in self.credits],
            "inherent": _result(self.inherent),
            "residual": _result(self.residual),
            "residual_if_verified": _result(self.if_verified),
            "verification_gap": {"mean": self.gap_mean, "p90": self.gap_p90},
        }


def _result(result: Result) -> dict[str, Any]:
    out = result.summary.to_dict()
    out["sensitivity"] = [{"factor": s.factor, "spearman": s.spearman} for s in result.sensitivity]
    return out


def simulate_risk(
    session: Session,
    actor: Actor,
    risk_id: int,
    *,
    iterations: object = DEFAULT_ITERATIONS,
    seed: object = DEFAULT_SEED,
) -> RiskSimulation:
    """Simulate a risk: inherent (no control), residual (controls credited by the latest
    assessment) and residual with every claimed control verified."""
    view = get_risk(session, actor, risk_id)
    count = check_register_iterations(iterations)
    base = check_seed(seed)
    risk = view.risk
    if risk.fair is None:
        raise Conflict(f"risk {risk.id} has no FAIR estimates: add them to simulate it")
    share = _settings_share()
    found = credit.credits(session, {risk.id: (risk.organization_id, view.controls)}, share)[
        risk.id
    ]
    scenario = scenario_of(risk.fair)
    own_seed = derive_seed(base, risk.id)

    def run(controls: Sequence[Any]) -> Result:
        return simulate(scenario, count, own_seed, tolerance=risk.tolerance, controls=controls)

    return RiskSimulation(
        view=view,
        iterations=count,
        seed=base,
        risk_seed=own_seed,
        claimed_credit=share,
        credits=found,
        inherent=run(()),
        residual=run(credit.effects(found)),
        if_verified=run(credit.effects(found, if_verified=True)),
    )


# --- portfolios -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskLine:
    """One risk's part in a portfolio: its mean residual loss as it stands and verified."""

    id: int
    title: str
    organization: str
    mean: float
    mean_if_verified: float


@dataclass(frozen=True)
class ClientLine:
    """One client of an MSP's portfolio."""

    organization: Organization
    risks: int
    unquantified: int
    summary: Summary
    if_verified: Summary


@dataclass(frozen=True)
class PortfolioView:
    organization: Organization
    iterations: int
    seed: int
    tolerance: float | None
    risks: int
    unquantified: int
    summary: Summary
    if_verified: Summary
    claimed_credit: float
    clients: list[ClientLine] = field(default_factory=list)
    lines: list[RiskLine] = field(default_factory=list)

    @property
    def gap_mean(self) -> float:
        return self.summary.mean - self.if_verified.mean

    @property
    def gap_p90(self) -> float:
        return self.summary.percentiles[90] - self.if_verified.percentiles[90]

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization.slug,
            "kind": str(self.organization.kind),
            "mode": "open-fair",
            "iterations": self.iterations,
            "seed": self.seed,
            "claimed_credit": self.claimed_credit,
            "risks": self.risks,
            "unquantified": self.unquantified,
            "residual": self.summary.to_dict(),
            "residual_if_verified": self.if_verified.to_dict(),
            "verification_gap": {"mean": self.gap_mean, "p90": self.gap_p90},
            "clients": [
                {
                    "organization": c.organization.slug,
                    "name": c.organization.name,
                    "risks": c.risks,
                    "unquantified": c.unquantified,
                    **_figures(c.summary),
                    "if_verified": _figures(c.if_verified),
                }
                for c in self.clients
            ],
            "risk_means": [
                {
                    "id": line.id,
                    "title": line.title,
                    "organization": line.organization,
                    "mean": line.mean,
                    "mean_if_verified": line.mean_if_verified,
                }
                for line in self.lines
            ],
        }


def _portfolio_orgs(
    session: Session, actor: Actor, org_slug: str
) -> tuple[Organization, list[Organization]]:
    """The organization asked for and the clients whose risks the portfolio sums."""
    org = authorize_slug(session, actor, "risk.view", org_slug)
    if org.kind is OrgKind.CLIENT:
        return org, [org]
    if org.kind is not OrgKind.MSP:
        raise InvalidInput(
            f"'{org.slug}' is an auditor firm: a portfolio is of a client or of an MSP's clients"
        )
    query = visible_orgs_query(actor).where(
        Organization.parent_id == org.id, Organization.kind == OrgKind.CLIENT
    )
    clients = []
    for client in session.scalars(query.order_by(func.lower(Organization.name), Organization.id)):
        try:
            authorize(session, actor, "risk.view", client)
        except (NotFound, PermissionDenied):
            continue
        clients.append(client)
    return org, clients


def _carried(session: Session, org_ids: Sequence[int]) -> list[Risk]:
    found: list[Risk] = []
    for start in range(0, len(org_ids), _CHUNK):
        query = select(Risk).where(
            Risk.organization_id.in_(org_ids[start : start + _CHUNK]), Risk.status.in_(CARRIED)
        )
        found.extend(session.scalars(query.order_by(Risk.organization_id, Risk.id)))
    return found


def portfolio(
    session: Session,
    actor: Actor,
    org_slug: str,
    *,
    iterations: object = DEFAULT_ITERATIONS,
    seed: object = DEFAULT_SEED,
    tolerance: object = None,
    workers: int | None = None,
) -> PortfolioView:
    """The residual annual loss of a client's carried risks summed per iteration, as the
    controls stand and with every claim verified; for an MSP, the same over its clients (each
    client's sum kept apart as well). Memory: a few vectors of `iterations`, whatever the
    number of risks and clients."""
    org, clients = _portfolio_orgs(session, actor, org_slug)
    count = check_register_iterations(iterations)
    base = check_seed(seed)
    limit = None if tolerance is None else inputs.parse_amount("tolerance", tolerance)
    expire_acceptances(session, actor, [c.id for c in clients])
    share = _settings_share()
    totals = [np.zeros(count), np.zeros(count)]
    client_lines: list[ClientLine] = []
    lines: list[RiskLine] = []
    quantified = unquantified = 0
    empty: Summary | None = None  # the summary of a client without quantified risks
    for start in range(0, max(len(clients), 1), _CHUNK):
        group = clients[start : start + _CHUNK]
        by_org = {c.id: c for c in group}
        risks = _carried(session, list(by_org))
        with_fair = [r for r in risks if r.fair is not None]
        links = linked_controls(session, [r.id for r in with_fair])
        found = credit.credits(
            session, {r.id: (r.organization_id, links[r.id]) for r in with_fair}, share
        )
        by_client: dict[int, list[Risk]] = {}
        for risk in risks:
            by_client.setdefault(risk.organization_id, []).append(risk)
        for client in group:
            own = [r for r in by_client.get(client.id, []) if r.fair is not None]
            missing = len(by_client.get(client.id, [])) - len(own)
            quantified += len(own)
            unquantified += missing
            if not own:
                if org.kind is OrgKind.MSP:
                    nothing = empty or summarize(np.zeros(count), limit)
                    empty = nothing
                    client_lines.append(ClientLine(client, 0, missing, nothing, nothing))
                continue
            exposures = [
                Exposure(
                    r.id,
                    scenario_of(r.fair or {}),
                    (credit.effects(found[r.id]), credit.effects(found[r.id], if_verified=True)),
                )
                for r in own
            ]
            sums = sum_losses(exposures, count, base, variants=2, workers=workers)
            for total, part in zip(totals, sums.totals, strict=True):
                total += part
            lines.extend(
                RiskLine(r.id, r.title, client.slug, means[0], means[1])
                for r, means in zip(own, sums.means, strict=True)
            )
            if org.kind is OrgKind.MSP:
                client_lines.append(
                    ClientLine(
                        client,
                        len(own),
                        missing,
                        summarize(sums.totals[0], limit),
                        summarize(sums.totals[1], limit),
                    )
                )
    return PortfolioView(
        organization=org,
        iterations=count,
        seed=base,
        tolerance=limit,
        risks=quantified,
        unquantified=unquantified,
        summary=summarize(totals[0], limit),
        if_verified=summarize(totals[1], limit),
        claimed_credit=share,
        clients=client_lines,
        lines=lines,
    )


# --- the heat map ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatMap:
    """How many active risks (not closed or avoided) sit in each cell: `inherent[l - 1][i - 1]`
    for likelihood l and impact i, and the same for the residual levels (risks that have
    them)."""

    matrix: Matrix
    inherent: list[list[int]]
    residual: list[list[int]]

    @property
    def risks(self) -> int:
        return sum(map(sum, self.inherent))

    def to_dict(self) -> dict[str, Any]:
        chosen = self.matrix
        return {
            "matrix": chosen.name,
            "likelihood": [s.model_dump() for s in chosen.likelihood],
            "impact": [s.model_dump() for s in chosen.impact],
            "levels": [level.model_dump() for level in chosen.levels],
            "grid": [
                [chosen.level(likelihood, impact).name for impact in range(1, SIZE + 1)]
                for likelihood in range(1, SIZE + 1)
            ],
            "inherent": self.inherent,
            "residual": self.residual,
        }


def heat_map(session: Session, actor: Actor, org_slug: str) -> HeatMap:
    org = authorize_slug(session, actor, "risk.view", org_slug)
    require_client(org)
    expire_acceptances(session, actor, [org.id])
    grids = []
    for likelihood, impact in (
        (Risk.inherent_likelihood, Risk.inherent_impact),
        (Risk.residual_likelihood, Risk.residual_impact),
    ):
        grid = [[0] * SIZE for _ in range(SIZE)]
        query = (
            select(likelihood, impact, func.count())
            .where(
                Risk.organization_id == org.id,
                Risk.status.in_(ACTIVE),
                likelihood.is_not(None),
                impact.is_not(None),
            )
            .group_by(likelihood, impact)
        )
        for row_likelihood, row_impact, number in session.execute(query):
            if row_likelihood is not None and row_impact is not None:
                grid[row_likelihood - 1][row_impact - 1] = number
        grids.append(grid)
    return HeatMap(matrix(), grids[0], grids[1])
