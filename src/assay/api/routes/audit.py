"""The audit trail of one organization, newest first."""

from __future__ import annotations

from fastapi import APIRouter

from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of
from assay.api.params import OrgSlug
from assay.api.schemas import AuditEventOut
from assay.auditlog import service as auditlog

router = APIRouter(tags=["audit"], route_class=BoundedBodyRoute)


@router.get("/orgs/{slug}/audit-events", responses=problem_responses(403, 404))
def list_audit_events(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, page: PageQuery
) -> Page[AuditEventOut]:
    """Audit events recorded for the organization, newest first."""
    events, total = auditlog.list_events(
        session, actor, org_slug=slug, limit=page.limit, offset=page.offset
    )
    return page_of(AuditEventOut, map(AuditEventOut.of, events), total, page)
