"""Organizations, memberships and auditor grants, each change written to the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.auth.policy import Relation
from assay.db.base import utcnow
from assay.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from assay.tenancy.access import authorize, authorize_slug, org_by_slug, visible_orgs_query
from assay.tenancy.models import AuditorGrant, Membership, Organization, OrgKind, Role
from assay.tenancy.validation import clean_name, clean_slug, parse_kind, parse_role

Page = tuple[list[Organization], int]


def create_org(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    kind: str,
    parent_slug: str | None = None,
) -> Organization:
    """Create an organization. Users (MSP admins) may only create clients of their own MSP."""
    org_kind = parse_kind(kind)
    slug = clean_slug(slug)
    name = clean_name(name)
    parent: Organization | None = None
    if org_kind is OrgKind.CLIENT:
        if not parent_slug:
            raise InvalidInput("a client organization needs its MSP (parent)")
        parent = org_by_slug(session, parent_slug)
        if parent.kind is not OrgKind.MSP:
            raise InvalidInput(f"parent '{parent.slug}' is not an MSP")
        authorize(session, actor, "org.create_client", parent)
    elif parent_slug:
        raise InvalidInput(f"an organization of kind {org_kind} has no parent")
    elif not actor.is_system:
        raise PermissionDenied(f"only a local operator may create {org_kind} organizations")
    if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise Conflict(f"organization '{slug}' already exists")
    org = Organization(slug=slug, name=name, kind=org_kind, parent_id=parent.id if parent else None)
    session.add(org)
    session.flush()
    record(
        session,
        actor,
        "org.create",
        organization_id=org.id,
        object_type="organization",
        object_id=org.id,
        detail={
            "slug": slug,
            "name": name,
            "kind": str(org_kind),
            "parent": parent.slug if parent else None,
        },
    )
    return org


def list_orgs(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0) -> Page:
    query = visible_orgs_query(actor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Organization.name, Organization.id).limit(limit).offset(offset)
    )
    return list(rows), total


def get_org(session: Session, actor: Actor, slug: str) -> Organization:
    return authorize_slug(session, actor, "org.view", slug)


def list_clients(session: Session, actor: Actor, msp_slug: str) -> list[Organization]:
    msp = authorize_slug(session, actor, "org.view", msp_slug)
    query = visible_orgs_query(actor).where(Organization.parent_id == msp.id)
    return list(session.scalars(query.order_by(Organization.name)))


def _user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"user '{email.strip()[:254]}' not found")
    return user


@dataclass(frozen=True)
class MemberAdded:
    """Result of adding a member; `new_password` is set, once, when the user was created."""

    membership: Membership
    user: User
    new_password: str | None = None


def add_member(
    session: Session,
    actor: Actor,
    org_slug: str,
    email: str,
    role: str,
    *,
    new_user_name: str | None = None,
) -> MemberAdded:
    """Give a user a role in an organization (or change the role they have there).

    With `new_user_name`, a user that does not exist yet is created with a generated password,
    returned once in the result.
    """
    from assay.accounts.secrets import generate_password
    from assay.accounts.service import clean_email, new_user

    parsed_role = parse_role(role)
    org = org_by_slug(session, org_slug)
    email = clean_email(email)
    user = session.scalar(select(User).where(User.email == email))
    password: str | None = None
    if user is None:
        if not new_user_name:
            authorize(session, actor, "member.manage", org)
            raise NotFound(f"user '{email}' not found (give a name to create the account)")
        authorize(session, actor, "user.create", org)
        password = generate_password()
        user = new_user(
            session,
            actor,
            email=email,
            name=new_user_name,
            password=password,
            organization_id=org.id,
        )
    authorize(session, actor, "member.manage", org, {"subject": [user.id]})
    if password is None and not _user_within_reach(session, actor, user.id):
        raise PermissionDenied(
            f"{email} belongs to organizations outside your reach; a local operator can add it"
        )
    existing = session.scalar(
        select(Membership).where(
            Membership.organization_id == org.id, Membership.user_id == user.id
        )
    )
    if existing is not None and existing.role == parsed_role:
        raise Conflict(f"{user.email} is already {parsed_role} of '{org.slug}'")
    if existing is not None:
        _keep_an_admin(session, org, existing)
    previous = str(existing.role) if existing is not None else None
    membership = existing or Membership(organization_id=org.id, user_id=user.id, role=parsed_role)
    membership.role = parsed_role
    session.add(membership)
    session.flush()
    record(
        session,
        actor,
        "member.add" if previous is None else "member.role_change",
        organization_id=org.id,
        object_type="membership",
        object_id=membership.id,
        detail={"user": user.email, "role": str(parsed_role), "previous_role": previous},
    )
    return MemberAdded(membership, user, password)


def _user_within_reach(session: Session, actor: Actor, user_id: int) -> bool:
    """An existing account may be added only by someone who can already see one of its orgs
    (or when no organization holds it yet), so that no admin can pull in, and learn the name
    of, another tenant's user by email."""
    if actor.is_system:
        return True
    memberships = select(Membership.organization_id).where(Membership.user_id == user_id)
    org_ids = set(session.scalars(memberships))
    if not org_ids:  # an account no organization holds yet (created by a local operator)
        return True
    visible = visible_orgs_query(actor).with_only_columns(Organization.id)
    return session.scalar(visible.where(Organization.id.in_(org_ids)).limit(1)) is not None


def _keep_an_admin(session: Session, org: Organization, leaving: Membership) -> None:
    """MSPs and auditor firms manage themselves, so they must keep at least one admin."""
    if org.kind is OrgKind.CLIENT or leaving.role != Role.ADMIN:
        return
    admins = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == org.id, Membership.role == Role.ADMIN)
    )
    if (admins or 0) <= 1:
        raise Conflict(f"'{org.slug}' must keep at least one admin")


def remove_member(session: Session, actor: Actor, org_slug: str, membership_id: int) -> None:
    """Remove a membership; it must belong to the named organization."""
    org = authorize_slug(session, actor, "member.view", org_slug)
    membership = session.scalar(
        select(Membership).where(
            Membership.id == membership_id, Membership.organization_id == org.id
        )
    )
    if membership is None:
        raise NotFound(f"membership {membership_id} not found in '{org.slug}'")
    authorize(session, actor, "member.manage", org, {"subject": [membership.user_id]})
    _keep_an_admin(session, org, membership)
    user = session.get(User, membership.user_id)
    detail = {"user": user.email if user else None, "role": str(membership.role)}
    session.delete(membership)
    session.flush()
    record(
        session,
        actor,
        "member.remove",
        organization_id=org.id,
        object_type="membership",
        object_id=membership_id,
        detail=detail,
    )


def remove_member_by_email(session: Session, actor: Actor, org_slug: str, email: str) -> None:
    org = org_by_slug(session, org_slug)
    user = _user_by_email(session, email)
    membership_id = session.scalar(
        select(Membership.id).where(
            Membership.organization_id == org.id, Membership.user_id == user.id
        )
    )
    if membership_id is None:
        raise NotFound(f"{user.email} is not a member of '{org.slug}'")
    remove_member(session, actor, org_slug, membership_id)


def list_members(
    session: Session, actor: Actor, org_slug: str, *, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[Membership, User]], int]:
    org = authorize_slug(session, actor, "member.view", org_slug)
    query = (
        select(Membership, User)
        .join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id)
    )
    total = (
        session.scalar(
            select(func.count()).select_from(Membership).where(Membership.organization_id == org.id)
        )
        or 0
    )
    rows = session.execute(query.order_by(User.email).limit(limit).offset(offset))
    return [(m, u) for m, u in rows], total


def grant_auditor(
    session: Session, actor: Actor, client_slug: str, auditor_slug: str
) -> AuditorGrant:
    """Let an auditor firm see and audit one client organization."""
    client = org_by_slug(session, client_slug)
    authorize(session, actor, "grant.manage", client)
    if client.kind is not OrgKind.CLIENT:
        raise InvalidInput(f"'{client.slug}' is not a client organization")
    auditor = org_by_slug(session, auditor_slug)
    if auditor.kind is not OrgKind.AUDITOR:
        raise InvalidInput(f"'{auditor.slug}' is not an auditor firm")
    if _active_grant(session, client.id, auditor.id) is not None:
        raise Conflict(f"'{auditor.slug}' already has access to '{client.slug}'")
    grant = AuditorGrant(
        organization_id=client.id, auditor_org_id=auditor.id, granted_by_id=actor.user_id
    )
    session.add(grant)
    try:
        session.flush()
    except IntegrityError as exc:  # pragma: no cover - guarded by the check above
        raise Conflict("grant already exists") from exc
    record(
        session,
        actor,
        "grant.create",
        organization_id=client.id,
        object_type="auditor_grant",
        object_id=grant.id,
        detail={"client": client.slug, "auditor": auditor.slug},
    )
    return grant


def _active_grant(session: Session, client_id: int, auditor_id: int) -> AuditorGrant | None:
    return session.scalar(
        select(AuditorGrant).where(
            AuditorGrant.organization_id == client_id,
            AuditorGrant.auditor_org_id == auditor_id,
            AuditorGrant.revoked_at.is_(None),
        )
    )


def revoke_grant(session: Session, actor: Actor, client_slug: str, grant_id: int) -> AuditorGrant:
    client = authorize_slug(session, actor, "grant.view", client_slug)
    grant = session.scalar(
        select(AuditorGrant).where(
            AuditorGrant.id == grant_id,
            AuditorGrant.organization_id == client.id,
            AuditorGrant.revoked_at.is_(None),
        )
    )
    if grant is None:
        raise NotFound(f"active grant {grant_id} not found for '{client.slug}'")
    authorize(session, actor, "grant.manage", client)
    grant.revoked_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "grant.revoke",
        organization_id=client.id,
        object_type="auditor_grant",
        object_id=grant.id,
        detail={"client": client.slug, "auditor": grant.auditor_org.slug},
    )
    return grant


def revoke_auditor(
    session: Session, actor: Actor, client_slug: str, auditor_slug: str
) -> AuditorGrant:
    client = org_by_slug(session, client_slug)
    auditor = org_by_slug(session, auditor_slug)
    grant = _active_grant(session, client.id, auditor.id)
    if grant is None:
        authorize(session, actor, "grant.view", client)
        raise NotFound(f"'{auditor.slug}' has no active access to '{client.slug}'")
    return revoke_grant(session, actor, client_slug, grant.id)


def list_grants(session: Session, actor: Actor, org_slug: str) -> list[AuditorGrant]:
    """Active grants on a client, or those an auditor firm holds when the org is the firm."""
    org = org_by_slug(session, org_slug)
    relation = authorize(session, actor, "grant.view", org)
    column = (
        AuditorGrant.auditor_org_id if org.kind is OrgKind.AUDITOR else AuditorGrant.organization_id
    )
    query = select(AuditorGrant).where(column == org.id, AuditorGrant.revoked_at.is_(None))
    if relation is Relation.GRANTED:  # a firm sees its own grant, not other firms'
        query = query.where(AuditorGrant.auditor_org_id == actor.organization_id)
    return list(session.scalars(query.order_by(AuditorGrant.id)))
