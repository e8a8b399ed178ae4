"""Tenant scoping: how an actor relates to an organization, and the guard every service uses.

An organization the actor cannot see at all is reported as not found, never as forbidden, so that
nobody learns which other organizations exist.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from assay.auth.actor import Actor, Via
from assay.auth.policy import Relation, packaged_policy
from assay.errors import NotFound
from assay.tenancy.models import AuditorGrant, Membership, Organization, OrgKind, Role


def active_grant_exists(session: Session, client_id: int, auditor_org_id: int) -> bool:
    query = select(AuditorGrant.id).where(
        AuditorGrant.organization_id == client_id,
        AuditorGrant.auditor_org_id == auditor_org_id,
        AuditorGrant.revoked_at.is_(None),
    )
    return session.scalar(query.limit(1)) is not None


def relation_to(session: Session, actor: Actor, org: Organization) -> Relation | None:
    """The actor's relation to `org`, or None when the organization is out of the actor's reach."""
    if actor.organization_id is None:
        return None
    if org.id == actor.organization_id:
        return Relation.SELF
    if actor.org_kind is OrgKind.MSP and org.parent_id == actor.organization_id:
        return Relation.MANAGED
    if (
        actor.org_kind is OrgKind.AUDITOR
        and org.kind is OrgKind.CLIENT
        and active_grant_exists(session, org.id, actor.organization_id)
    ):
        return Relation.GRANTED
    return None


def org_by_slug(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound(f"organization '{slug}' not found")
    return org


def authorize(
    session: Session,
    actor: Actor,
    action: str,
    org: Organization,
    involvement: Mapping[str, Collection[int]] | None = None,
) -> Relation | None:
    """Raise NotFound when `org` is invisible to the actor, PermissionDenied when not allowed."""
    relation = relation_to(session, actor, org)
    if not actor.is_system and relation is None:
        raise NotFound(f"organization '{org.slug}' not found")
    packaged_policy().check(actor, action, relation, involvement)
    return relation


def authorize_owner(
    session: Session,
    actor: Actor,
    action: str,
    org_id: int | None,
    missing: str,
    involvement: Mapping[str, Collection[int]] | None = None,
) -> tuple[Organization, Relation | None]:
    """The organization owning an object, once `action` is authorized there. `NotFound(missing)`
    when there is no object (`org_id` None) or it is out of the actor's reach, so the answer
    never tells whether it exists; PermissionDenied when reached but not allowed."""
    org = session.get(Organization, org_id) if org_id is not None else None
    if org is None:
        raise NotFound(missing)
    try:
        relation = authorize(session, actor, action, org, involvement)
    except NotFound:
        raise NotFound(missing) from None
    return org, relation


def authorize_slug(
    session: Session,
    actor: Actor,
    action: str,
    slug: str,
    involvement: Mapping[str, Collection[int]] | None = None,
) -> Organization:
    org = org_by_slug(session, slug)
    authorize(session, actor, action, org, involvement)
    return org


def visible_orgs_query(actor: Actor) -> Select[Organization]:
    """Organizations the actor can reach; everything for the system actor."""
    query = select(Organization)
    if actor.is_system:
        return query
    own = actor.organization_id
    conditions = [Organization.id == own]
    if actor.org_kind is OrgKind.MSP:
        conditions.append(Organization.parent_id == own)
    if actor.org_kind is OrgKind.AUDITOR:
        granted = select(AuditorGrant.organization_id).where(
            AuditorGrant.auditor_org_id == own, AuditorGrant.revoked_at.is_(None)
        )
        conditions.append(Organization.id.in_(granted))
    return query.where(or_(*conditions))


def actor_for_membership(membership: Membership, label: str, via: Via) -> Actor:
    return Actor(
        user_id=membership.user_id,
        label=label,
        organization_id=membership.organization_id,
        org_kind=membership.organization.kind,
        role=Role(membership.role),
        via=via,
    )


def memberships_of(session: Session, user_id: int) -> list[Membership]:
    query = (
        select(Membership)
        .join(Organization, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.name)
    )
    return list(session.scalars(query))


def reachable_orgs(
    session: Session, user_id: int, label: str, via: Via, *, limit: int | None = None
) -> list[tuple[Organization, Actor]]:
    """The organizations a user can reach, each with the actor to use there.

    A direct membership wins over reach through an MSP or an auditor firm; the user's own
    organizations come first, then those reached through them, each group by name. With
    `limit`, only that many reached organizations follow the user's own (an MSP may have
    thousands of clients; a menu shows the first ones).
    """
    found: dict[int, tuple[Organization, Actor]] = {}
    memberships = memberships_of(session, user_id)
    for membership in memberships:
        found[membership.organization_id] = (
            membership.organization,
            actor_for_membership(membership, label, via),
        )
    direct = set(found)
    for membership in memberships:
        actor = actor_for_membership(membership, label, via)
        query = visible_orgs_query(actor).order_by(func.lower(Organization.name), Organization.id)
        if limit is not None:
            query = query.limit(limit + len(direct))
        for org in session.scalars(query):
            found.setdefault(org.id, (org, actor))
    ordered = sorted(
        found.values(),
        key=lambda pair: (pair[0].id not in direct, pair[0].name.lower(), pair[0].id),
    )
    return ordered if limit is None else ordered[: len(direct) + limit]


def _actor_where(
    session: Session, user_id: int, label: str, via: Via, condition: ColumnElement[bool]
) -> Actor | None:
    """The actor for the one organization matching `condition`, by the precedence of
    `reachable_orgs`: a direct membership, else the first membership that reaches it."""
    memberships = memberships_of(session, user_id)
    target = session.scalar(select(Organization.id).where(condition))
    if target is None:
        return None
    for membership in memberships:
        if membership.organization_id == target:
            return actor_for_membership(membership, label, via)
    for membership in memberships:
        actor = actor_for_membership(membership, label, via)
        reached = visible_orgs_query(actor).where(Organization.id == target)
        if session.scalar(reached.with_only_columns(Organization.id)) is not None:
            return actor
    return None


def actor_for_org_id(
    session: Session, user_id: int, label: str, via: Via, org_id: int
) -> Actor | None:
    """The actor a user acts as on an object of organization `org_id`; None if out of reach."""
    return _actor_where(session, user_id, label, via, Organization.id == org_id)


def actor_for_slug(session: Session, user_id: int, label: str, via: Via, slug: str) -> Actor | None:
    """The actor a user acts as in organization `slug`; None if out of reach."""
    return _actor_where(session, user_id, label, via, Organization.slug == slug)


def actor_in(session: Session, user_id: int, label: str, via: Via, slug: str) -> Actor:
    """The actor a user acts as when working in organization `slug` (NotFound if out of reach)."""
    actor = actor_for_slug(session, user_id, label, via, slug)
    if actor is not None:
        return actor
    raise NotFound(f"organization '{slug}' not found")
