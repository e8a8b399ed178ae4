"""Users, sign-in, throttling, web sessions and API tokens through the service layer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.accounts import service
from assay.accounts.models import ApiToken, LoginFailure, User
from assay.accounts.secrets import token_hash
from assay.auditlog.models import AuditEvent
from assay.auth.actor import Via
from assay.config import settings
from assay.db.base import utcnow
from assay.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Throttled,
)
from assay.tenancy.models import Role
from tests.factories import PASSWORD, SYSTEM, World, build_world


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def attempt(session: Session, email: str, password: str, client: str = "10.0.0.1") -> User:
    try:
        return service.authenticate(session, email, password, client=client, via=Via.WEB)
    finally:
        session.commit()  # failures are counted and audited even though sign-in is refused


def test_create_user_hashes_and_never_records_password(session: Session) -> None:
    user = service.create_user(session, SYSTEM, email="A@Example.org", name="A", password=PASSWORD)
    session.commit()
    assert user.email == "a@example.org"
    assert PASSWORD not in user.password_hash
    event = session.scalars(select(AuditEvent)).one()
    assert PASSWORD not in str(event.detail)
    with pytest.raises(Conflict):
        service.create_user(session, SYSTEM, email="a@example.org", name="A", password=PASSWORD)


def test_users_cannot_create_free_standing_users(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        service.create_user(
            session,
            world.actor("northwind", Role.ADMIN),
            email="x@example.org",
            name="X",
            password=PASSWORD,
        )


@pytest.mark.parametrize("role", list(Role))
def test_only_the_operator_lists_every_user(session: Session, world: World, role: Role) -> None:
    users, total = service.list_users(session, SYSTEM)
    assert total == len(users) > 0
    with pytest.raises(PermissionDenied):
        service.list_users(session, world.actor("northwind", role))


@pytest.mark.parametrize("role", list(Role))
def test_only_the_operator_replaces_passwords(session: Session, world: World, role: Role) -> None:
    target = world.user("client-a", Role.EXECUTIVE)
    before = target.password_hash
    for email in (target.email, "nobody@example.org"):  # the same answer, existing or not
        with pytest.raises(PermissionDenied):
            service.set_password(session, world.actor("northwind", role), email, "a-new-password!")
    assert target.password_hash == before
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    service.set_password(session, SYSTEM, target.email, "a-new-password!")
    assert target.password_hash != before


def test_sign_in_success_and_failure_are_audited(session: Session, world: World) -> None:
    email = world.user("client-a", Role.ADMIN).email
    assert attempt(session, email, PASSWORD).email == email
    with pytest.raises(AuthenticationFailed, match="wrong email or password"):
        attempt(session, email, "wrong password here")
    with pytest.raises(AuthenticationFailed):
        attempt(session, "nobody@example.org", "wrong password here")
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["auth.login", "auth.login_failed", "auth.login_failed"]
    details = " ".join(str(d) for d in session.scalars(select(AuditEvent.detail)))
    assert "wrong password here" not in details


def test_throttling_after_repeated_failures(session: Session, world: World) -> None:
    email = world.user("client-a", Role.ADMIN).email
    for _ in range(settings().login_max_failures):
        with pytest.raises(AuthenticationFailed):
            attempt(session, email, "wrong password here")
    with pytest.raises(Throttled):
        attempt(session, email, PASSWORD)
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None and last.action == "auth.login_throttled"
    # failures age out of the window
    session.execute(
        LoginFailure.__table__.update().values(
            at=utcnow() - timedelta(minutes=settings().login_window_minutes + 1)
        )
    )
    session.commit()
    assert attempt(session, email, PASSWORD).email == email
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_web_session_lifecycle(session: Session, world: World) -> None:
    user = world.user("client-a", Role.AUDITOR)
    raw = service.start_web_session(session, user)
    session.commit()
    assert service.user_for_web_session(session, raw) == user
    assert service.user_for_web_session(session, raw + "x") is None
    assert service.user_for_web_session(session, None) is None
    assert service.end_web_session(session, raw) == user
    session.commit()
    assert service.user_for_web_session(session, raw) is None


def test_token_is_shown_once_stored_hashed_and_resolves(session: Session, world: World) -> None:
    user = world.user("client-a", Role.IT_OPERATOR)
    issued = service.create_token(
        session, SYSTEM, user_email=user.email, org_slug="client-a", name="ci"
    )
    session.commit()
    stored = session.get(ApiToken, issued.token.id)
    assert stored is not None and stored.token_hash == token_hash(issued.secret)
    assert issued.secret not in str(session.scalars(select(AuditEvent.detail)).all())
    actor = service.actor_for_token(session, issued.secret)
    assert (actor.user_id, actor.organization_id, actor.role, actor.via) == (
        user.id,
        world.orgs["client-a"].id,
        Role.IT_OPERATOR,
        Via.API,
    )


def test_revoked_expired_and_orphaned_tokens_fail(session: Session, world: World) -> None:
    user = world.user("client-a", Role.EXECUTIVE)
    make = lambda: service.create_token(  # noqa: E731
        session, SYSTEM, user_email=user.email, org_slug="client-a", name="t"
    )
    revoked, expired, orphan = make(), make(), make()
    service.revoke_token(session, SYSTEM, revoked.token.id)
    expired.token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(AuthenticationFailed, match="revoked"):
        service.actor_for_token(session, revoked.secret)
    with pytest.raises(AuthenticationFailed, match="expired"):
        service.actor_for_token(session, expired.secret)
    with pytest.raises(AuthenticationFailed, match="invalid"):
        service.actor_for_token(session, "assay_forged")
    with pytest.raises(AuthenticationFailed):
        service.actor_for_token(session, "x" * 5000)
    session.delete(world.memberships[("client-a", Role.EXECUTIVE)])
    session.commit()
    with pytest.raises(AuthenticationFailed, match="membership"):
        service.actor_for_token(session, orphan.secret)


def test_token_rules(session: Session, world: World) -> None:
    user = world.user("client-a", Role.EXECUTIVE)
    with pytest.raises(InvalidInput, match="at most 100"):
        service.create_token(
            session, SYSTEM, user_email=user.email, org_slug="client-a", name="n" * 101
        )
    with pytest.raises(InvalidInput, match="not a member"):
        service.create_token(session, SYSTEM, user_email=user.email, org_slug="client-b", name="t")
    with pytest.raises(InvalidInput, match="expiry"):
        service.create_token(
            session, SYSTEM, user_email=user.email, org_slug="client-a", name="t", expires_in_days=0
        )
    other = world.actor("client-a", Role.ADMIN)
    with pytest.raises(NotFound):
        service.create_token(session, other, user_email=user.email, org_slug="client-a", name="t")


def test_token_visibility_and_revocation(session: Session, world: World) -> None:
    exec_a = world.user("client-a", Role.EXECUTIVE)
    exec_b = world.user("client-b", Role.EXECUTIVE)
    mine = service.create_token(
        session, SYSTEM, user_email=exec_a.email, org_slug="client-a", name="a"
    )
    foreign = service.create_token(
        session, SYSTEM, user_email=exec_b.email, org_slug="client-b", name="b"
    )
    session.commit()
    operator_a = world.actor("client-a", Role.IT_OPERATOR)
    admin_a = world.actor("client-a", Role.ADMIN)
    assert service.list_tokens(session, operator_a)[1] == 0
    assert [t.id for t in service.list_tokens(session, admin_a)[0]] == [mine.token.id]
    with pytest.raises(NotFound):
        service.revoke_token(session, operator_a, mine.token.id)
    with pytest.raises(NotFound):
        service.revoke_token(session, admin_a, foreign.token.id)
    service.revoke_token(session, admin_a, mine.token.id)
    with pytest.raises(Conflict):
        service.revoke_token(session, admin_a, mine.token.id)
