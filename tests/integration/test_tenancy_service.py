"""Organizations, memberships and auditor grants through the service layer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.auditlog.models import AuditEvent
from assay.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from assay.tenancy import service
from assay.tenancy.models import AuditorGrant, Membership, Organization, Role
from tests.factories import SYSTEM, World, build_world


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def slugs(orgs: list[Organization]) -> set[str]:
    return {o.slug for o in orgs}


def test_visible_orgs_per_kind(session: Session, world: World) -> None:
    msp_admin = world.actor("northwind", Role.ADMIN)
    assert slugs(service.list_orgs(session, msp_admin)[0]) == {"northwind", "client-a", "client-b"}
    assert slugs(service.list_orgs(session, world.actor("client-a", Role.EXECUTIVE))[0]) == {
        "client-a"
    }
    assert slugs(service.list_orgs(session, world.actor("sentinel", Role.AUDITOR))[0]) == {
        "sentinel",
        "client-a",
    }
    assert slugs(service.list_orgs(session, world.actor("watchtower", Role.AUDITOR))[0]) == {
        "watchtower"
    }
    assert len(service.list_orgs(session, SYSTEM)[0]) == len(world.orgs)


def test_pagination_of_orgs(session: Session, world: World) -> None:
    page, total = service.list_orgs(session, SYSTEM, limit=2, offset=2)
    assert total == len(world.orgs)
    assert len(page) == 2


def test_other_clients_are_not_found(session: Session, world: World) -> None:
    for role in Role:
        with pytest.raises(NotFound):
            service.get_org(session, world.actor("client-a", role), "client-b")
    with pytest.raises(NotFound):
        service.get_org(session, world.actor("northwind", Role.ADMIN), "client-z")


def test_msp_admin_creates_client_and_it_is_audited(session: Session, world: World) -> None:
    admin = world.actor("northwind", Role.ADMIN)
    org = service.create_org(
        session, admin, slug="client-c", name="Client C", kind="client", parent_slug="northwind"
    )
    session.commit()
    assert org.parent_id == world.orgs["northwind"].id
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.action, event.organization_id, event.actor_user_id) == (
        "org.create",
        org.id,
        admin.user_id,
    )


@pytest.mark.parametrize("role", [Role.IT_OPERATOR, Role.AUDITOR, Role.EXECUTIVE])
def test_non_admins_cannot_create_clients(session: Session, world: World, role: Role) -> None:
    with pytest.raises(PermissionDenied):
        service.create_org(
            session,
            world.actor("northwind", role),
            slug="client-c",
            name="C",
            kind="client",
            parent_slug="northwind",
        )


def test_users_cannot_create_msps_or_clients_elsewhere(session: Session, world: World) -> None:
    admin = world.actor("northwind", Role.ADMIN)
    with pytest.raises(PermissionDenied):
        service.create_org(session, admin, slug="msp2", name="M", kind="msp")
    with pytest.raises(NotFound):
        service.create_org(
            session, admin, slug="c9", name="C", kind="client", parent_slug="otherco"
        )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"slug": "Bad Slug", "name": "x", "kind": "msp"}, InvalidInput),
        ({"slug": "ok", "name": " ", "kind": "msp"}, InvalidInput),
        ({"slug": "ok", "name": "x", "kind": "vendor"}, InvalidInput),
        ({"slug": "ok", "name": "x", "kind": "client"}, InvalidInput),
        ({"slug": "ok", "name": "x", "kind": "client", "parent_slug": "sentinel"}, InvalidInput),
        ({"slug": "ok", "name": "x", "kind": "client", "parent_slug": "nope"}, NotFound),
        ({"slug": "ok", "name": "x", "kind": "msp", "parent_slug": "northwind"}, InvalidInput),
        ({"slug": "northwind", "name": "x", "kind": "msp"}, Conflict),
    ],
)
def test_bad_org_input_writes_nothing(
    session: Session, world: World, kwargs: dict[str, str], error: type[Exception]
) -> None:
    before = (count(session, Organization), count(session, AuditEvent))
    with pytest.raises(error):
        service.create_org(session, SYSTEM, **kwargs)
    session.rollback()
    assert (count(session, Organization), count(session, AuditEvent)) == before


def test_add_and_remove_member_with_audit(session: Session, world: World) -> None:
    admin = world.actor("northwind", Role.ADMIN)
    newcomer = world.user("client-b", Role.EXECUTIVE)
    added = service.add_member(session, admin, "client-a", newcomer.email, "auditor")
    session.commit()
    assert added.new_password is None
    members, total = service.list_members(session, admin, "client-a")
    assert total == 5
    assert newcomer.email in {u.email for _, u in members}
    service.remove_member(session, admin, "client-a", added.membership.id)
    session.commit()
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["member.add", "member.remove"]


def test_add_member_creates_user_and_returns_password_once(session: Session, world: World) -> None:
    admin = world.actor("northwind", Role.ADMIN)
    added = service.add_member(
        session, admin, "client-b", "New.Person@Example.org", "it_operator", new_user_name="New"
    )
    session.commit()
    assert added.user.email == "new.person@example.org"
    assert added.new_password and len(added.new_password) >= 12
    assert added.new_password not in added.user.password_hash
    details = " ".join(str(d) for d in session.scalars(select(AuditEvent.detail)))
    assert added.new_password not in details


def test_unknown_user_without_name_is_not_found(session: Session, world: World) -> None:
    with pytest.raises(NotFound, match="give a name"):
        service.add_member(
            session, world.actor("client-a", Role.ADMIN), "client-a", "x@example.org", "admin"
        )


def test_admin_cannot_change_own_membership(session: Session, world: World) -> None:
    admin = world.actor("client-a", Role.ADMIN)
    own = world.memberships[("client-a", Role.ADMIN)]
    with pytest.raises(PermissionDenied, match="own membership"):
        service.remove_member(session, admin, "client-a", own.id)
    with pytest.raises(PermissionDenied, match="own membership"):
        service.add_member(session, admin, "client-a", admin.label, "executive")


@pytest.mark.parametrize("role", [Role.IT_OPERATOR, Role.AUDITOR, Role.EXECUTIVE])
def test_non_admins_cannot_manage_members(session: Session, world: World, role: Role) -> None:
    target = world.user("client-b", Role.ADMIN)
    with pytest.raises(PermissionDenied):
        service.add_member(
            session, world.actor("client-a", role), "client-a", target.email, "admin"
        )


def test_membership_of_another_org_cannot_be_removed_through_mine(
    session: Session, world: World
) -> None:
    foreign = world.memberships[("client-b", Role.EXECUTIVE)]
    with pytest.raises(NotFound):
        service.remove_member(session, world.actor("client-a", Role.ADMIN), "client-a", foreign.id)
    assert session.get(Membership, foreign.id) is not None


def test_duplicate_membership_is_a_conflict(session: Session, world: World) -> None:
    exec_a = world.user("client-a", Role.EXECUTIVE)
    with pytest.raises(Conflict):
        service.add_member(session, SYSTEM, "client-a", exec_a.email, "executive")


def test_grant_and_revoke_auditor(session: Session, world: World) -> None:
    msp_admin = world.actor("northwind", Role.ADMIN)
    watch = world.actor("watchtower", Role.AUDITOR)
    with pytest.raises(NotFound):
        service.get_org(session, watch, "client-b")
    grant = service.grant_auditor(session, msp_admin, "client-b", "watchtower")
    session.commit()
    assert service.get_org(session, watch, "client-b").slug == "client-b"
    with pytest.raises(Conflict):
        service.grant_auditor(session, msp_admin, "client-b", "watchtower")
    service.revoke_auditor(session, msp_admin, "client-b", "watchtower")
    session.commit()
    with pytest.raises(NotFound):
        service.get_org(session, watch, "client-b")
    assert session.get(AuditorGrant, grant.id).revoked_at is not None  # type: ignore[union-attr]
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["grant.create", "grant.revoke"]


def test_grant_rules(session: Session, world: World) -> None:
    msp_admin = world.actor("northwind", Role.ADMIN)
    with pytest.raises(InvalidInput, match="not an auditor firm"):
        service.grant_auditor(session, msp_admin, "client-b", "otherco")
    with pytest.raises(PermissionDenied):
        service.grant_auditor(session, world.actor("client-b", Role.ADMIN), "client-b", "sentinel")
    with pytest.raises(NotFound):
        service.grant_auditor(session, msp_admin, "client-z", "sentinel")
    with pytest.raises(PermissionDenied):
        service.revoke_auditor(session, world.actor("sentinel", Role.ADMIN), "client-a", "sentinel")


def test_granted_firm_sees_only_its_own_grant(session: Session, world: World) -> None:
    service.grant_auditor(session, SYSTEM, "client-a", "watchtower")
    session.commit()
    grants = service.list_grants(session, world.actor("sentinel", Role.AUDITOR), "client-a")
    assert {g.auditor_org_id for g in grants} == {world.orgs["sentinel"].id}
    all_grants = service.list_grants(session, world.actor("client-a", Role.ADMIN), "client-a")
    assert len(all_grants) == 2


def test_admins_cannot_pull_in_another_tenants_user(session: Session, world: World) -> None:
    foreign = world.user("client-b", Role.EXECUTIVE)
    with pytest.raises(PermissionDenied, match="outside your reach"):
        service.add_member(
            session, world.actor("client-a", Role.ADMIN), "client-a", foreign.email, "auditor"
        )
    with pytest.raises(PermissionDenied, match="outside your reach"):
        service.add_member(
            session, world.actor("otherco", Role.ADMIN), "otherco", foreign.email, "auditor"
        )


def test_msp_and_auditor_firms_keep_an_admin(session: Session, world: World) -> None:
    for slug in ("northwind", "sentinel"):
        last_admin = world.memberships[(slug, Role.ADMIN)]
        with pytest.raises(Conflict, match="at least one admin"):
            service.remove_member(session, SYSTEM, slug, last_admin.id)
        with pytest.raises(Conflict, match="at least one admin"):
            service.add_member(session, SYSTEM, slug, world.user(slug, Role.ADMIN).email, "auditor")
    client_admin = world.memberships[("client-a", Role.ADMIN)]
    service.remove_member(
        session, world.actor("northwind", Role.ADMIN), "client-a", client_admin.id
    )
