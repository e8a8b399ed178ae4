"""Accepting a risk: separation of duties (every role in every relation), a reason and an
expiry, the audit trail; an expired acceptance reopens its risk."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assay.auditlog.models import AuditEvent
from assay.auditlog.service import verify_chain
from assay.auth.actor import Via
from assay.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from assay.risk import service
from assay.risk.models import AcceptanceEnd, Risk, RiskAcceptance, RiskStatus
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World
from tests.risk_register.conftest import make_risk, stored

TODAY = date.today()
NEXT_YEAR = (TODAY + timedelta(days=365)).isoformat()

# (organization of the actor, its relation to client-a) x role -> may accept a client-a risk
ALLOWED = {
    ("client-a", Role.ADMIN),
    ("client-a", Role.EXECUTIVE),
    ("northwind", Role.ADMIN),
}
RELATIONS = {"client-a": "self", "northwind": "managed", "sentinel": "granted"}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("slug", list(RELATIONS), ids=lambda s: RELATIONS[s])
def test_separation_of_duties_for_acceptance(
    session: Session, world: World, slug: str, role: Role
) -> None:
    risk_id = make_risk(session)
    actor = world.actor(slug, role)
    before = stored(session)
    if (slug, role) not in ALLOWED:
        with pytest.raises(PermissionDenied, match=r"may not risk\.accept"):
            service.accept_risk(session, actor, risk_id, "Cheaper than fixing", NEXT_YEAR)
        assert stored(session) == before
        session.rollback()
        assert session.get(Risk, risk_id).status is RiskStatus.OPEN  # type: ignore[union-attr]
        return
    acceptance = service.accept_risk(session, actor, risk_id, "Cheaper than fixing", NEXT_YEAR)
    session.commit()
    risk = session.get(Risk, risk_id)
    assert risk is not None and risk.status is RiskStatus.ACCEPTED
    assert str(risk.treatment) == "accept"
    assert acceptance.accepted_by_id == world.user(slug, role).id
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "risk.accept"))
    assert event.actor_user_id == world.user(slug, role).id
    assert event.detail["reason"] == "Cheaper than fixing"
    assert event.detail["expires_on"] == NEXT_YEAR
    assert event.detail["previous_status"] == "open"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("slug", ["watchtower", "otherco", "client-b"])
def test_outsiders_cannot_even_see_the_risk(
    session: Session, world: World, slug: str, role: Role
) -> None:
    risk_id = make_risk(session)
    before = stored(session)
    with pytest.raises(NotFound, match=f"risk {risk_id} not found"):
        service.accept_risk(session, world.actor(slug, role), risk_id, "ok", NEXT_YEAR)
    assert stored(session) == before


def test_the_local_operator_is_no_named_person(session: Session, world: World) -> None:
    risk_id = make_risk(session)
    before = stored(session)
    with pytest.raises(PermissionDenied, match="named person"):
        service.accept_risk(session, SYSTEM, risk_id, "ok", NEXT_YEAR)
    assert stored(session) == before


@pytest.mark.parametrize(
    ("reason", "expires", "message"),
    [
        ("", NEXT_YEAR, "reason: must not be empty"),
        ("   ", NEXT_YEAR, "reason: must not be empty"),
        (None, NEXT_YEAR, "reason: must not be empty"),
        ("ok", TODAY.isoformat(), "expires_on: must be after today"),
        ("ok", (TODAY - timedelta(days=1)).isoformat(), "expires_on: must be after today"),
        ("ok", (TODAY + timedelta(days=3 * 366)).isoformat(), "expires_on: must be at most three"),
        ("ok", "next year", "expires_on: must be a date"),
        ("ok", "2027-02-30", "expires_on: must be a date"),
        ("ok", "", "expires_on: must be a date"),
        ("ok", None, "expires_on: must be a date"),
        ("ok\x00", NEXT_YEAR, "reason: must not contain control characters"),
    ],
)
def test_a_reason_and_a_sensible_expiry_are_required(
    session: Session, world: World, reason: str | None, expires: str | None, message: str
) -> None:
    risk_id = make_risk(session)
    before = stored(session)
    with pytest.raises(InvalidInput, match=message):
        service.accept_risk(
            session, world.actor("client-a", Role.EXECUTIVE), risk_id, reason, expires
        )
    assert stored(session) == before


def test_closed_risks_are_not_accepted(session: Session, world: World) -> None:
    risk_id = make_risk(session, status="closed")
    with pytest.raises(Conflict, match="closed"):
        service.accept_risk(session, world.actor("client-a", Role.ADMIN), risk_id, "ok", NEXT_YEAR)


def test_accepting_again_supersedes(session: Session, world: World) -> None:
    risk_id = make_risk(session)
    executive = world.actor("client-a", Role.EXECUTIVE)
    first = service.accept_risk(session, executive, risk_id, "for now", NEXT_YEAR)
    second = service.accept_risk(session, executive, risk_id, "still", NEXT_YEAR)
    session.commit()
    view = service.get_risk(session, executive, risk_id)
    assert [a.id for a in view.acceptances] == [second.id, first.id]
    assert view.active_acceptance is not None and view.active_acceptance.id == second.id
    assert view.acceptances[1].ended_reason is AcceptanceEnd.SUPERSEDED


def test_leaving_accepted_revokes_the_acceptance(session: Session, world: World) -> None:
    risk_id = make_risk(session)
    service.accept_risk(session, world.actor("client-a", Role.EXECUTIVE), risk_id, "ok", NEXT_YEAR)
    session.commit()
    operator = world.actor("client-a", Role.IT_OPERATOR)
    service.update_risk(session, operator, risk_id, {"status": "mitigating"})
    session.commit()
    view = service.get_risk(session, operator, risk_id)
    assert view.active_acceptance is None
    assert view.acceptances[0].ended_reason is AcceptanceEnd.REVOKED
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["risk.update", "risk.acceptance_revoked"]


def _age(session: Session, risk_id: int, expires_on: date) -> None:
    """Time passes: the acceptance now expired on `expires_on`."""
    session.execute(
        update(RiskAcceptance)
        .where(RiskAcceptance.risk_id == risk_id)
        .values(expires_on=expires_on)
    )
    session.commit()


@pytest.mark.parametrize("reader", ["list", "show", "heat_map", "portfolio"])
def test_an_expired_acceptance_reopens_the_risk_on_read(
    session: Session, world: World, reader: str
) -> None:
    from assay.risk import analysis

    risk_id = make_risk(session, fair={"lef": 1, "lm": 10})
    kept = make_risk(session, title="Still accepted")
    executive = world.actor("client-a", Role.EXECUTIVE)
    service.accept_risk(session, executive, risk_id, "until the new firewall", NEXT_YEAR)
    service.accept_risk(session, executive, kept, "for a while", NEXT_YEAR)
    session.commit()
    _age(session, risk_id, TODAY - timedelta(days=1))
    reader_actor = world.actor("client-a", Role.AUDITOR, Via.WEB)
    reads = {
        "list": lambda: service.list_risks(session, reader_actor, "client-a"),
        "show": lambda: service.get_risk(session, reader_actor, kept),
        "heat_map": lambda: analysis.heat_map(session, reader_actor, "client-a"),
        "portfolio": lambda: analysis.portfolio(session, reader_actor, "client-a", iterations=10),
    }
    reads[reader]()
    session.commit()
    risk = session.get(Risk, risk_id)
    assert risk is not None and risk.status is RiskStatus.OPEN
    still = session.get(Risk, kept)
    assert still is not None and still.status is RiskStatus.ACCEPTED
    [event] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "risk.acceptance_expired")
    )
    assert (event.actor_user_id, event.actor_label, event.via) == (
        None,
        "system:acceptance-expiry",
        "web",
    )
    assert event.object_id == str(risk_id)
    assert event.detail["status"] == ["accepted", "open"]
    assert event.detail["noticed_by"] == "auditor@client-a.test"
    ended = session.scalars(select(RiskAcceptance).where(RiskAcceptance.risk_id == risk_id)).one()
    assert ended.ended_reason is AcceptanceEnd.EXPIRED and ended.ended_at is not None
    reads[reader]()  # once only
    session.commit()
    count = session.scalars(
        select(AuditEvent.id).where(AuditEvent.action == "risk.acceptance_expired")
    ).all()
    assert len(count) == 1
    assert verify_chain(session, SYSTEM).intact


def test_expiry_is_due_the_day_after_the_expiry_date(session: Session, world: World) -> None:
    risk_id = make_risk(session)
    service.accept_risk(session, world.actor("client-a", Role.ADMIN), risk_id, "ok", NEXT_YEAR)
    session.commit()
    _age(session, risk_id, TODAY)
    assert service.expire_acceptances(session, SYSTEM) == []  # valid through its last day
    assert service.expire_acceptances(session, SYSTEM, today=TODAY + timedelta(days=1)) == [risk_id]


def test_a_risk_moved_on_is_not_reopened_by_an_old_acceptance(
    session: Session, world: World
) -> None:
    """An acceptance still marked in force on a risk no longer accepted only ends."""
    risk_id = make_risk(session)
    service.accept_risk(session, world.actor("client-a", Role.ADMIN), risk_id, "ok", NEXT_YEAR)
    session.execute(update(Risk).where(Risk.id == risk_id).values(status=RiskStatus.CLOSED))
    session.commit()
    _age(session, risk_id, TODAY - timedelta(days=3))
    assert service.expire_acceptances(session, SYSTEM, [world.orgs["client-a"].id]) == []
    session.commit()
    risk = session.get(Risk, risk_id)
    assert risk is not None and risk.status is RiskStatus.CLOSED
