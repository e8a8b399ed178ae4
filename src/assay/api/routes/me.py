"""Who am I: the user, organization and role behind the bearer token."""

from __future__ import annotations

from fastapi import APIRouter

from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentCaller
from assay.api.schemas import MeOut, OrgOut, UserOut

router = APIRouter(tags=["me"], route_class=BoundedBodyRoute)


@router.get("/me")
def get_me(caller: CurrentCaller) -> MeOut:
    """The caller: its user, the organization the token acts in and the role there."""
    return MeOut(
        user=UserOut.of(caller.user),
        organization=OrgOut.of(caller.organization),
        role=caller.role,
    )
