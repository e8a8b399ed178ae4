"""Whether to offer a control on a page. Display only: the service decides when it is used."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy.orm import Session

from assay.auth.actor import Actor
from assay.errors import NotFound, PermissionDenied
from assay.tenancy.access import authorize
from assay.tenancy.models import Organization


def permitted(
    db: Session,
    actor: Actor,
    action: str,
    org: Organization,
    involvement: Mapping[str, Collection[int]] | None = None,
) -> bool:
    """Ask the same guard the services use, without raising."""
    try:
        authorize(db, actor, action, org, involvement)
    except (NotFound, PermissionDenied):
        return False
    return True
