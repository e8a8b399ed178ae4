"""The audit trail of an organization, newest first, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from assay.auditlog.service import list_events
from assay.db.engine import unit_of_work
from assay.tenancy import service
from assay.web.layout import chrome_for, org_tabs
from assay.web.paging import PAGE_SIZE, Pager
from assay.web.params import PageNumber
from assay.web.session import require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/orgs/{slug}/audit")
def show_audit(request: Request, slug: str, page: PageNumber = 1) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        org = service.get_org(db, actor, slug)
        events, total = list_events(
            db, actor, org_slug=org.slug, limit=PAGE_SIZE, offset=Pager.offset_of(page)
        )
        context = {
            "chrome": chrome_for(db, visitor, org.slug),
            "tabs": org_tabs(db, actor, org, "audit"),
            "org": org,
            "events": events,
            "pager": Pager(page, PAGE_SIZE, total),
        }
    return render(request, "audit.html", context)
