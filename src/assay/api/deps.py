"""Request dependencies: one transaction per request and the caller behind the bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.accounts.service import actor_for_token
from assay.auth.actor import Actor
from assay.db.engine import unit_of_work
from assay.errors import AuthenticationFailed
from assay.tenancy.models import Organization, Role

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    bearerFormat="assay_…",
    description="A personal API token: `Authorization: Bearer <token>`.",
)


def db_session() -> Iterator[Session]:
    """The request's unit of work: committed before the response is sent, rolled back on error."""
    with unit_of_work() as session:
        yield session


# scope="function": the transaction ends (commit or rollback) before the response goes out, so
# a client never sees success for a change that was not committed.
DbSession = Annotated[Session, Depends(db_session, scope="function")]
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def current_actor(session: DbSession, credentials: BearerCredentials) -> Actor:
    """The actor the bearer token stands for; AuthenticationFailed (401) without a valid one."""
    if credentials is None:
        raise AuthenticationFailed("missing bearer token: send 'Authorization: Bearer <token>'")
    return actor_for_token(session, credentials.credentials)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def streaming_actor(credentials: BearerCredentials) -> Actor:
    """The token's actor, checked in a short transaction of its own, for routes that read a
    large body before they act (uploads): the database is not held while the body streams in,
    and the change itself then runs in one unit of work."""
    if credentials is None:
        raise AuthenticationFailed("missing bearer token: send 'Authorization: Bearer <token>'")
    with unit_of_work() as session:
        return actor_for_token(session, credentials.credentials)


StreamingActor = Annotated[Actor, Depends(streaming_actor)]


@dataclass(frozen=True)
class Caller:
    """The authenticated actor with its user and the organization it acts in."""

    actor: Actor
    user: User
    organization: Organization
    role: Role


def current_caller(session: DbSession, actor: CurrentActor) -> Caller:
    """Load the token's own user and organization (rows the actor is, not rows it asks for)."""
    user = session.get(User, actor.user_id)
    organization = session.get(Organization, actor.organization_id)
    if user is None or organization is None or actor.role is None:  # pragma: no cover
        raise AuthenticationFailed("API token's membership no longer exists")
    return Caller(actor, user, organization, actor.role)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
