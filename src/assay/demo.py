"""The demo world: an MSP with two clients, an auditor firm, one user per role. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.accounts.secrets import generate_password
from assay.accounts.service import new_user, set_password
from assay.auth.actor import Actor
from assay.tenancy.access import active_grant_exists, org_by_slug
from assay.tenancy.models import Membership, Organization, Role
from assay.tenancy.service import add_member, create_org, grant_auditor

MSP = ("northwind-it", "Northwind IT", "msp", None)
ORGS = (
    MSP,
    ("contoso-dental", "Contoso Dental", "client", "northwind-it"),
    ("fabrikam-logistics", "Fabrikam Logistics", "client", "northwind-it"),
    ("sentinel-assurance", "Sentinel Assurance", "auditor", None),
)
GRANTS = (("contoso-dental", "sentinel-assurance"),)
USERS = (
    ("admin@northwind.example", "Nadia Admin", "northwind-it", Role.ADMIN),
    ("ops@northwind.example", "Omar Operator", "northwind-it", Role.IT_OPERATOR),
    ("auditor@sentinel.example", "Ada Auditor", "sentinel-assurance", Role.AUDITOR),
    ("ceo@contoso.example", "Chris Executive", "contoso-dental", Role.EXECUTIVE),
)


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    organization: str
    role: Role
    password: str


def seed_demo(session: Session, actor: Actor) -> list[DemoUser]:
    """Create what is missing of the demo world and give every demo user a fresh password."""
    for slug, name, kind, parent in ORGS:
        exists = session.scalar(select(Organization.id).where(Organization.slug == slug))
        if exists is None:
            create_org(session, actor, slug=slug, name=name, kind=kind, parent_slug=parent)
    for client, auditor in GRANTS:
        if not active_grant_exists(
            session, org_by_slug(session, client).id, org_by_slug(session, auditor).id
        ):
            grant_auditor(session, actor, client, auditor)
    users: list[DemoUser] = []
    for email, name, org_slug, role in USERS:
        password = generate_password()
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = new_user(session, actor, email=email, name=name, password=password)
        else:
            set_password(session, actor, email, password)
        org = org_by_slug(session, org_slug)
        membership = session.scalar(
            select(Membership).where(
                Membership.organization_id == org.id, Membership.user_id == user.id
            )
        )
        if membership is None or membership.role != role:
            add_member(session, actor, org_slug, email, role.value)
        users.append(DemoUser(email, name, org_slug, role, password))
    return users
