"""Host audit pages: an organization's fleet and runs, one run's results with what changed
since the asset's previous run, and what the latest runs suggest for an assessment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from assay.assess import worksheet
from assay.audit import diff as drift
from assay.audit import service
from assay.audit.suggest import FRAMEWORK_REFERENCES
from assay.db.engine import unit_of_work
from assay.tenancy import service as tenancy
from assay.web.layout import chrome_for, org_tabs
from assay.web.paging import PAGE_SIZE, Pager
from assay.web.params import PageNumber, RowId
from assay.web.routes.assessments import (
    STATUS_LABELS,
    assessment_actor,
    assessment_frame,
)
from assay.web.session import require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)

SECTION = "audits"
StatusFilter = Literal["all", "fail", "pass", "not_applicable", "error"]
# Failures first: that is what a reader came for.
ORDER = {"fail": 0, "error": 1, "pass": 2, "not_applicable": 3}


@router.get("/orgs/{slug}/audits")
def show_fleet(request: Request, slug: str, page: PageNumber = 1) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        org = tenancy.get_org(db, actor, slug)
        fleet = service.fleet(db, actor, slug)
        runs, total = service.list_runs(
            db, actor, slug, limit=PAGE_SIZE, offset=Pager.offset_of(page)
        )
        context = {
            "chrome": chrome_for(db, visitor, org.slug, section=SECTION),
            "tabs": org_tabs(db, actor, org, "audits"),
            "org": org,
            "fleet": fleet,
            "runs": runs,
            "pager": Pager(page, PAGE_SIZE, total),
        }
    return render(request, "audit_fleet.html", context)


@router.get("/audit-runs/{run_id}")
def show_run(
    request: Request,
    run_id: RowId,
    status: Annotated[StatusFilter, Query()] = "all",
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        org_id = service.organization_of_run(db, run_id)
        actor = visitor.actor_owning(db, org_id, f"audit run {run_id} not found")
        view = service.get_run(db, actor, run_id)
        before = service.previous_run(db, view.run)
        changes: list[drift.Change] = []
        if before is not None:
            changes = service.compare_runs(db, actor, before.id, run_id).changes
        results = sorted(view.results, key=lambda r: (ORDER.get(r.status, 9), r.check_id))
        if status != "all":
            results = [r for r in results if r.status == status]
        context = {
            "chrome": chrome_for(db, visitor, view.organization.slug, section=SECTION),
            "view": view,
            "org": view.organization,
            "results": results,
            "status": status,
            "previous": before,
            "changes": changes,
            "counts": drift.summary(changes),
        }
    return render(request, "audit_run.html", context)


@router.get("/assessments/{assessment_id}/suggestions")
def show_suggestions(request: Request, assessment_id: RowId) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = assessment_actor(db, visitor, assessment_id)
        sheet = worksheet.worksheet(db, actor, assessment_id, limit=0)
        found = service.suggestions(db, actor, assessment_id)
        context = {
            **assessment_frame(db, visitor, actor, sheet, "suggestions"),
            "suggestions": service.suggestion_rows(found),
            "supported": found.framework_key in FRAMEWORK_REFERENCES,
            "status_labels": {str(k): v for k, v in STATUS_LABELS.items()},
        }
    return render(request, "assessment_suggestions.html", context)
