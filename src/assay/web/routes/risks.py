"""Risk register pages: a client's register with its heat map, loss exceedance curve and
verification gap, a form to add a risk; an MSP's portfolio across its clients; a risk's page
with its figures and the forms to change, accept or delete it. Charts are SVG from matplotlib.

A risk page acts as the visitor's membership that reaches the risk's organization; the service
called next decides what that actor may do, and a risk out of reach is not found. What a page
offers (forms, buttons) is asked of the same policy, for display only. Pages simulate
`WEB_ITERATIONS` years (the API and CLI go up to a million).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from assay.auth.actor import Actor
from assay.db.engine import unit_of_work
from assay.errors import AssayError, NotFound
from assay.report import risk_charts
from assay.risk import analysis, service
from assay.risk.estimates import DEFAULT_CONFIDENCE, estimate_from, fmt
from assay.risk.fair import FACTORS, Result
from assay.risk.matrix import matrix
from assay.risk.models import RiskStatus, Treatment
from assay.risk.service import RiskView
from assay.tenancy import service as tenancy
from assay.tenancy.models import Organization, OrgKind
from assay.web.forms import Form, signed_in_form
from assay.web.layout import chrome_for, org_tabs
from assay.web.paging import PAGE_SIZE, Pager
from assay.web.params import PageNumber, RowId
from assay.web.permissions import permitted
from assay.web.session import Visitor, require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)

WEB_ITERATIONS = 20_000
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
TEXT_FIELDS = ("title", "threat_actor", "threat_event", "weakness", "description", "owner")
CHOICE_FIELDS = ("treatment", "status", "due_on", "tolerance")
STEP_FIELDS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")
FIELDS = (*TEXT_FIELDS, *CHOICE_FIELDS, *STEP_FIELDS, *FACTORS, "assets", "controls")
_LINES = re.compile(r"[\r\n;]+")
NOTICES = {
    "created": "The risk has been added to the register.",
    "saved": "The risk has been saved.",
    "accepted": "The risk has been accepted; it reopens when the acceptance expires.",
    "deleted": "The risk has been deleted.",
}
LEVEL_BADGES = {1: "low", 2: "low", 3: "medium", 4: "high", 5: "critical"}
StatusFilter = Annotated[str | None, Query(max_length=20)]


def choices() -> dict[str, Any]:
    chosen = matrix()
    return {
        "likelihoods": chosen.likelihood,
        "impacts": chosen.impact,
        "treatments": [t.value for t in Treatment],
        "statuses": [s.value for s in RiskStatus if s is not RiskStatus.ACCEPTED],
        "all_statuses": [s.value for s in RiskStatus],
        "level_badges": LEVEL_BADGES,
        "iterations": WEB_ITERATIONS,
    }


def _svg(data: bytes | None) -> Response:
    if data is None:
        raise NotFound("there is no such chart here")
    headers = {"Content-Security-Policy": SVG_POLICY, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/svg+xml", headers=headers)


# --- who acts --------------------------------------------------------------------------------


def risk_actor(db: Session, visitor: Visitor, risk_id: int) -> Actor:
    """The visitor's actor in the organization owning the risk (NotFound when none)."""
    org_id = service.organization_of(db, risk_id)
    return visitor.actor_owning(db, org_id, f"risk {risk_id} not found")


# --- forms -----------------------------------------------------------------------------------


def notation(stored: dict[str, Any]) -> str:
    """An estimate in the text notation the form reads back."""
    estimate = estimate_from("estimate", stored)
    if estimate.is_constant:
        return fmt(estimate.low)
    if estimate.kind == "pert":
        assert estimate.mode is not None
        numbers = ",".join(fmt(v) for v in (estimate.low, estimate.mode, estimate.high))
        return numbers if estimate.confidence == DEFAULT_CONFIDENCE else f"pert:{numbers}"
    return f"{estimate.kind}:{fmt(estimate.low)},{fmt(estimate.high)}"


def _fair_text(fair: dict[str, Any] | None) -> dict[str, str]:
    return {name: notation(value) for name, value in (fair or {}).items()}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in _LINES.split(text) if line.strip()]


def form_data(form: Form, current: dict[str, Any] | None = None) -> dict[str, object]:
    """The risk fields of a submitted form. Empty optional fields clear them; FAIR estimates
    unchanged from `current` (the stored ones) are left alone, keeping what text cannot say."""
    data: dict[str, object] = {name: form.get(name) for name in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    data.update({name: form.get(name) for name in STEP_FIELDS})
    given = {name: form.get(name).strip() for name in FACTORS}
    if current is None or given != {n: _fair_text(current).get(n, "") for n in FACTORS}:
        data["fair"] = {k: v for k, v in given.items() if v} or None
    data["assets"] = _lines(form.get("assets"))
    data["controls"] = _lines(form.get("controls"))
    return data


def values_of(view: RiskView) -> dict[str, str]:
    """The risk as its edit form shows it."""
    risk = view.risk
    values = {name: str(getattr(risk, name) or "") for name in (*TEXT_FIELDS, *STEP_FIELDS)}
    values["treatment"] = str(risk.treatment or "")
    values["status"] = str(risk.status)
    values["due_on"] = risk.due_on.isoformat() if risk.due_on else ""
    values["tolerance"] = fmt(risk.tolerance) if risk.tolerance is not None else ""
    values.update(_fair_text(risk.fair))
    values["assets"] = "\n".join(a.name for a in view.assets)
    values["controls"] = "\n".join(
        f"{c.reference}:{c.effect}:{fmt(c.low)},{fmt(c.mode)},{fmt(c.high)}" for c in view.controls
    )
    return values


# --- the register ----------------------------------------------------------------------------


def _client_context(
    db: Session, actor: Actor, org: Organization, page: int, status: str | None
) -> dict[str, Any]:
    rows, total = service.list_risks(
        db, actor, org.slug, status=status or None, limit=PAGE_SIZE, offset=Pager.offset_of(page)
    )
    heat = analysis.heat_map(db, actor, org.slug)
    view = analysis.portfolio(db, actor, org.slug, iterations=WEB_ITERATIONS)
    return {
        "rows": [service.risk_dict(risk, org.slug) for risk in rows],
        "pager": Pager(page, PAGE_SIZE, total),
        "status": status or "",
        "heat_total": heat.risks,
        "portfolio": view,
        "can_manage": permitted(db, actor, "risk.manage", org),
    }


def register_page(
    request: Request,
    slug: str,
    *,
    page: int = 1,
    status_filter: str | None = None,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        org = tenancy.get_org(db, actor, slug)
        context: dict[str, Any] = {
            "chrome": chrome_for(db, visitor, org.slug),
            "tabs": org_tabs(db, actor, org, "risks"),
            "org": org,
            "error": error,
            "notice": notice,
            "values": values or {},
            **choices(),
        }
        if org.kind is OrgKind.CLIENT:
            context.update(_client_context(db, actor, org, page, status_filter))
        elif org.kind is OrgKind.MSP and permitted(db, actor, "risk.view", org):
            context["portfolio"] = analysis.portfolio(
                db, actor, org.slug, iterations=WEB_ITERATIONS
            )
    return render(request, "risk_list.html", context, status=status)


@router.get("/orgs/{slug}/risks")
def show_risks(
    request: Request,
    slug: str,
    page: PageNumber = 1,
    status: StatusFilter = None,
    done: str | None = None,
) -> Response:
    return register_page(
        request, slug, page=page, status_filter=status, notice=NOTICES.get(done or "")
    )


@router.post("/orgs/{slug}/risks")
def create_risk(
    request: Request, slug: str, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            created = service.create_risk(db, actor, slug, form_data(form))
            target = f"/risks/{created.id}?done=created"
    except NotFound:
        raise
    except AssayError as exc:
        return register_page(request, slug, status=exc.status, error=exc, values=form.keep(*FIELDS))
    return RedirectResponse(target, status_code=303)


@router.get("/orgs/{slug}/risks/heatmap.svg")
def heat_map_chart(request: Request, slug: str) -> Response:
    with unit_of_work() as db:
        actor = require_visitor(db, request).actor_in(db, slug)
        heat = analysis.heat_map(db, actor, slug)
    chosen = heat.matrix
    size = len(chosen.likelihood)
    cells = [
        [
            risk_charts.Cell(level.name, level.colour)
            for level in (chosen.level(row, column) for column in range(1, size + 1))
        ]
        for row in range(1, size + 1)
    ]
    return _svg(
        risk_charts.heat_map(
            [s.name for s in chosen.likelihood],
            [s.name for s in chosen.impact],
            cells,
            heat.inherent,
            heat.residual,
        )
    )


def _portfolio(request: Request, slug: str) -> analysis.PortfolioView:
    with unit_of_work() as db:
        actor = require_visitor(db, request).actor_in(db, slug)
        return analysis.portfolio(db, actor, slug, iterations=WEB_ITERATIONS)


def _points(summary: Any) -> tuple[tuple[float, float], ...]:
    return tuple((p.loss, p.probability) for p in summary.lec)


@router.get("/orgs/{slug}/risks/lec.svg")
def portfolio_chart(request: Request, slug: str) -> Response:
    """The organization's loss exceedance curve (an MSP's: the total and each client's)."""
    view = _portfolio(request, slug)
    name = view.organization.name
    curves = [
        risk_charts.Curve(f"{name}: as it stands", _points(view.summary), "total"),
        risk_charts.Curve("Claims verified", _points(view.if_verified), "verified"),
    ]
    curves += [
        risk_charts.Curve(c.organization.name, _points(c.summary), "client")
        for c in sorted(view.clients, key=lambda c: -c.summary.mean)[: risk_charts.MAX_CURVES]
    ]
    return _svg(
        risk_charts.exceedance(f"Loss exceedance: {name}", curves, tolerance=view.summary.tolerance)
    )


@router.get("/orgs/{slug}/risks/gap.svg")
def gap_chart(request: Request, slug: str) -> Response:
    """What the unverified claims cost: per risk (an MSP's: per client) and in total."""
    view = _portfolio(request, slug)
    if view.clients:
        rows = [
            risk_charts.GapRow(c.organization.name, c.summary.mean, c.if_verified.mean)
            for c in view.clients
        ]
    else:
        rows = [risk_charts.GapRow(r.title, r.mean, r.mean_if_verified) for r in view.lines]
    total = risk_charts.GapRow(view.organization.name, view.summary.mean, view.if_verified.mean)
    if not rows:
        raise NotFound("there is no such chart here")
    return _svg(risk_charts.verification_gap("The verification gap", rows, total))


# --- one risk --------------------------------------------------------------------------------


def risk_page(
    request: Request,
    risk_id: int,
    *,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    acceptance: dict[str, str] | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = risk_actor(db, visitor, risk_id)
        view = service.get_risk(db, actor, risk_id)
        org = view.organization
        simulation = None
        if view.risk.fair is not None:
            simulation = analysis.simulate_risk(db, actor, risk_id, iterations=WEB_ITERATIONS)
        context = {
            "chrome": chrome_for(db, visitor, org.slug),
            "tabs": org_tabs(db, actor, org, "risks"),
            "org": org,
            "view": view,
            "risk": view.to_dict(),
            "simulation": simulation,
            "can_manage": permitted(db, actor, "risk.manage", org),
            "can_accept": not actor.is_system and permitted(db, actor, "risk.accept", org),
            "error": error,
            "notice": notice,
            "values": values if values is not None else values_of(view),
            "acceptance_values": acceptance or {},
            **choices(),
        }
    return render(request, "risk.html", context, status=status)


@router.get("/risks/{risk_id}")
def show_risk(request: Request, risk_id: RowId, done: str | None = None) -> Response:
    return risk_page(request, risk_id, notice=NOTICES.get(done or ""))


@router.get("/risks/{risk_id}/lec.svg")
def risk_chart(request: Request, risk_id: RowId) -> Response:
    with unit_of_work() as db:
        actor = risk_actor(db, require_visitor(db, request), risk_id)
        view = service.get_risk(db, actor, risk_id)
        if view.risk.fair is None:
            raise NotFound("there is no such chart here")
        simulation = analysis.simulate_risk(db, actor, risk_id, iterations=WEB_ITERATIONS)

    def curve(name: str, result: Result, kind: str) -> risk_charts.Curve:
        return risk_charts.Curve(name, _points(result.summary), kind)

    curves = [
        curve("Inherent (no controls)", simulation.inherent, "inherent"),
        curve("Residual, as it stands", simulation.residual, "residual"),
        curve("Residual, claims verified", simulation.if_verified, "verified"),
    ]
    return _svg(
        risk_charts.exceedance(
            f"Loss exceedance: {view.risk.title}", curves, tolerance=view.risk.tolerance
        )
    )


@router.post("/risks/{risk_id}/edit")
def edit_risk(
    request: Request, risk_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = risk_actor(db, require_visitor(db, request), risk_id)
            current, _ = service.load_risk(db, actor, risk_id)
            service.update_risk(db, actor, risk_id, form_data(form, current.fair))
    except NotFound:
        raise
    except AssayError as exc:
        return risk_page(request, risk_id, status=exc.status, error=exc, values=form.keep(*FIELDS))
    return RedirectResponse(f"/risks/{risk_id}?done=saved", status_code=303)


@router.post("/risks/{risk_id}/accept")
def accept_risk(
    request: Request, risk_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = risk_actor(db, require_visitor(db, request), risk_id)
            service.accept_risk(db, actor, risk_id, form.get("reason"), form.get("expires_on"))
    except NotFound:
        raise
    except AssayError as exc:
        kept = form.keep("reason", "expires_on")
        return risk_page(request, risk_id, status=exc.status, error=exc, acceptance=kept)
    return RedirectResponse(f"/risks/{risk_id}?done=accepted", status_code=303)


@router.post("/risks/{risk_id}/delete")
def delete_risk(
    request: Request, risk_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = risk_actor(db, require_visitor(db, request), risk_id)
            _, org = service.load_risk(db, actor, risk_id)
            service.delete_risk(db, actor, risk_id)
            target = f"/orgs/{org.slug}/risks?done=deleted"
    except NotFound:
        raise
    except AssayError as exc:
        return risk_page(request, risk_id, status=exc.status, error=exc)
    return RedirectResponse(target, status_code=303)
