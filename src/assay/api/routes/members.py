"""Members of an organization: who holds which role there."""

from __future__ import annotations

from fastapi import APIRouter, Response

from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of
from assay.api.params import MemberId, OrgSlug
from assay.api.schemas import MemberAdd, MemberOut, NewMemberOut
from assay.tenancy import service as tenancy

router = APIRouter(prefix="/orgs/{slug}/members", tags=["members"], route_class=BoundedBodyRoute)


@router.get("", responses=problem_responses(403, 404))
def list_members(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, page: PageQuery
) -> Page[MemberOut]:
    """Members of the organization, by email."""
    rows, total = tenancy.list_members(session, actor, slug, limit=page.limit, offset=page.offset)
    return page_of(MemberOut, (MemberOut.of(m, u) for m, u in rows), total, page)


@router.post("", status_code=201, responses=problem_responses(403, 404, 409))
def add_member(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, body: MemberAdd, response: Response
) -> NewMemberOut:
    """Give a user a role in the organization, or change the role they have there."""
    added = tenancy.add_member(
        session, actor, slug, body.email, body.role.value, new_user_name=body.name
    )
    response.headers["Cache-Control"] = "no-store"  # may carry a one-time password
    member = MemberOut.of(added.membership, added.user)
    return NewMemberOut(**member.model_dump(), initial_password=added.new_password)


@router.delete("/{member_id}", status_code=204, responses=problem_responses(403, 404))
def remove_member(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, member_id: MemberId
) -> Response:
    """Remove a membership of the organization."""
    tenancy.remove_member(session, actor, slug, member_id)
    return Response(status_code=204)
