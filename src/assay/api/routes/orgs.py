"""Organizations the caller can see, and new clients under an MSP."""

from __future__ import annotations

from fastapi import APIRouter

from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of
from assay.api.params import OrgSlug
from assay.api.schemas import OrgCreate, OrgOut
from assay.tenancy import service as tenancy

router = APIRouter(prefix="/orgs", tags=["organizations"], route_class=BoundedBodyRoute)


@router.get("")
def list_orgs(session: DbSession, actor: CurrentActor, page: PageQuery) -> Page[OrgOut]:
    """Organizations visible to the caller: its own, an MSP's clients, an auditor's granted
    clients."""
    orgs, total = tenancy.list_orgs(session, actor, limit=page.limit, offset=page.offset)
    return page_of(OrgOut, map(OrgOut.of, orgs), total, page)


@router.post("", status_code=201, responses=problem_responses(403, 404, 409))
def create_org(session: DbSession, actor: CurrentActor, body: OrgCreate) -> OrgOut:
    """Create a client organization under an MSP (MSP admins, for their own MSP)."""
    org = tenancy.create_org(
        session, actor, slug=body.slug, name=body.name, kind="client", parent_slug=body.parent
    )
    return OrgOut.of(org)


@router.get("/{slug}", responses=problem_responses(404))
def get_org(session: DbSession, actor: CurrentActor, slug: OrgSlug) -> OrgOut:
    """One organization the caller can see."""
    return OrgOut.of(tenancy.get_org(session, actor, slug))
