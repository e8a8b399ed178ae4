"""The risk register: list, create, read, change and delete a client's risks, accept them,
simulate one, and the heat map and portfolio of a client (or of an MSP's clients).

Each route calls one service; `risk.view`, `risk.manage` and `risk.accept` (auth/policy.yaml)
decide who may do what, and a risk out of reach is not found. Reads end expired acceptances
first (recorded in the audit trail). Simulations are reproducible: the same `seed` (default 1)
gives the same figures.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of, slice_list
from assay.api.params import OrgSlug, RiskId
from assay.api.risk_schemas import (
    AcceptanceIn,
    AcceptanceOut,
    HeatMapOut,
    PortfolioOut,
    RiskCreate,
    RiskDetailOut,
    RiskMean,
    RiskOut,
    RiskPatch,
    SimulationOut,
    request_dict,
)
from assay.risk import analysis, service
from assay.risk.fair import DEFAULT_ITERATIONS
from assay.risk.inputs import MAX_AMOUNT, MAX_REGISTER_ITERATIONS
from assay.risk.models import RiskStatus

router = APIRouter(tags=["risks"], route_class=BoundedBodyRoute)

StatusQuery = Annotated[RiskStatus | None, Query(description="Only risks in this status.")]
IterationsQuery = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_REGISTER_ITERATIONS,
        description=f"Simulated years (1 to {MAX_REGISTER_ITERATIONS:,}).",
    ),
]
SeedQuery = Annotated[
    int, Query(ge=0, le=2**63 - 1, description="Seed: the same seed gives the same figures.")
]
ToleranceQuery = Annotated[
    float | None,
    Query(ge=0, le=MAX_AMOUNT, description="Report P(annual loss > this amount)."),
]


def _detail(session: DbSession, actor: CurrentActor, risk_id: int) -> RiskDetailOut:
    return RiskDetailOut.model_validate(service.get_risk(session, actor, risk_id).to_dict())


@router.get("/orgs/{slug}/risks", responses=problem_responses(403, 404))
def list_risks(
    session: DbSession,
    actor: CurrentActor,
    slug: OrgSlug,
    page: PageQuery,
    status: StatusQuery = None,
) -> Page[RiskOut]:
    """The client's risks, highest inherent level first, then newest."""
    rows, total = service.list_risks(
        session,
        actor,
        slug,
        status=None if status is None else status.value,
        limit=page.limit,
        offset=page.offset,
    )
    items = (RiskOut.model_validate(service.risk_dict(r, slug)) for r in rows)
    return page_of(RiskOut, items, total, page)


@router.post("/orgs/{slug}/risks", status_code=201, responses=problem_responses(403, 404))
def create_risk(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, body: RiskCreate
) -> RiskDetailOut:
    """Add a risk to a client's register (status `open` unless given)."""
    risk = service.create_risk(session, actor, slug, request_dict(body))
    return _detail(session, actor, risk.id)


@router.get("/orgs/{slug}/risks/heatmap", responses=problem_responses(403, 404))
def risk_heat_map(session: DbSession, actor: CurrentActor, slug: OrgSlug) -> HeatMapOut:
    """The 5x5 matrix and how many active risks sit in each cell, inherent and residual."""
    return HeatMapOut.model_validate(analysis.heat_map(session, actor, slug).to_dict())


@router.get("/orgs/{slug}/risk-portfolio", responses=problem_responses(403, 404))
def risk_portfolio(
    session: DbSession,
    actor: CurrentActor,
    slug: OrgSlug,
    page: PageQuery,
    iterations: IterationsQuery = DEFAULT_ITERATIONS,
    seed: SeedQuery = analysis.DEFAULT_SEED,
    tolerance: ToleranceQuery = None,
) -> PortfolioOut:
    """The residual annual loss of the risks a client carries (open, mitigating, accepted),
    summed per simulated year, as the controls stand and with every claim verified; for an
    MSP, the same across the clients the caller may see, each client apart too. The totals
    cover every risk; `limit` and `offset` page the per-risk means (`risk_means`)."""
    view = analysis.portfolio(
        session, actor, slug, iterations=iterations, seed=seed, tolerance=tolerance
    )
    figures = view.to_dict()
    means, total = slice_list(figures.pop("risk_means"), page)
    items = (RiskMean.model_validate(mean) for mean in means)
    return PortfolioOut.model_validate(
        {**figures, "risk_means": page_of(RiskMean, items, total, page)}
    )


@router.get("/risks/{risk_id}", responses=problem_responses(404))
def get_risk(session: DbSession, actor: CurrentActor, risk_id: RiskId) -> RiskDetailOut:
    """One risk with its assets, controls and acceptances."""
    return _detail(session, actor, risk_id)


@router.patch("/risks/{risk_id}", responses=problem_responses(403, 404))
def update_risk(
    session: DbSession, actor: CurrentActor, risk_id: RiskId, body: RiskPatch
) -> RiskDetailOut:
    """Change the fields sent; nothing else."""
    service.update_risk(session, actor, risk_id, request_dict(body))
    return _detail(session, actor, risk_id)


@router.delete("/risks/{risk_id}", status_code=204, responses=problem_responses(403, 404))
def delete_risk(session: DbSession, actor: CurrentActor, risk_id: RiskId) -> Response:
    """Remove a risk (the audit trail keeps what it was)."""
    service.delete_risk(session, actor, risk_id)
    return Response(status_code=204)


@router.post(
    "/risks/{risk_id}/acceptances",
    status_code=201,
    responses=problem_responses(403, 404, 409),
)
def accept_risk(
    session: DbSession, actor: CurrentActor, risk_id: RiskId, body: AcceptanceIn
) -> AcceptanceOut:
    """Accept the risk until a date for a reason: executives of the client and administrators
    only, never IT operators or auditors. The risk becomes `accepted`; when the acceptance
    expires it is `open` again."""
    service.accept_risk(session, actor, risk_id, body.reason, body.expires_on)
    active = service.get_risk(session, actor, risk_id).active_acceptance
    assert active is not None
    return AcceptanceOut.model_validate(active.to_dict())


@router.get("/risks/{risk_id}/simulation", responses=problem_responses(404, 409))
def simulate_risk(
    session: DbSession,
    actor: CurrentActor,
    risk_id: RiskId,
    iterations: IterationsQuery = DEFAULT_ITERATIONS,
    seed: SeedQuery = analysis.DEFAULT_SEED,
) -> SimulationOut:
    """The risk's annual loss: inherent, residual (each control credited by its answer in the
    latest assessment: verified fully, claimed in part) and residual with every claim
    verified; the difference is the verification gap. 409 without FAIR estimates."""
    result = analysis.simulate_risk(session, actor, risk_id, iterations=iterations, seed=seed)
    return SimulationOut.model_validate(result.to_dict())
