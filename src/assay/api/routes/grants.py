"""Auditor grants: which auditor firms may see and audit a client organization."""

from __future__ import annotations

from fastapi import APIRouter, Response

from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of, slice_list
from assay.api.params import GrantId, OrgSlug
from assay.api.schemas import GrantCreate, GrantOut
from assay.tenancy import service as tenancy

router = APIRouter(
    prefix="/orgs/{slug}/auditor-grants", tags=["auditor grants"], route_class=BoundedBodyRoute
)


@router.get("", responses=problem_responses(403, 404))
def list_grants(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, page: PageQuery
) -> Page[GrantOut]:
    """Active grants on a client, or the grants an auditor firm holds when `slug` is the firm."""
    grants, total = slice_list(tenancy.list_grants(session, actor, slug), page)
    return page_of(GrantOut, map(GrantOut.of, grants), total, page)


@router.post("", status_code=201, responses=problem_responses(403, 404, 409))
def create_grant(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, body: GrantCreate
) -> GrantOut:
    """Let an auditor firm see and audit this client (the client's MSP admins)."""
    return GrantOut.of(tenancy.grant_auditor(session, actor, slug, body.auditor))


@router.delete("/{grant_id}", status_code=204, responses=problem_responses(403, 404))
def revoke_grant(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, grant_id: GrantId
) -> Response:
    """Revoke an active grant on this client."""
    tenancy.revoke_grant(session, actor, slug, grant_id)
    return Response(status_code=204)
