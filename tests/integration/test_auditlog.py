"""The audit trail: events in the same transaction, listing, and tamper detection."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from assay.auditlog.chain import GENESIS_HASH
from assay.auditlog.models import AuditEvent
from assay.auditlog.service import list_events, record, verify_chain
from assay.errors import NotFound, PermissionDenied
from assay.tenancy import service as tenancy
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World, build_world


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def add_events(session: Session, n: int) -> list[AuditEvent]:
    events = [
        record(
            session, SYSTEM, "test.event", organization_id=None, object_type="t", detail={"i": i}
        )
        for i in range(n)
    ]
    session.commit()
    return events


def test_chain_links_from_genesis(session: Session) -> None:
    events = add_events(session, 5)
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(events))
    report = verify_chain(session, SYSTEM)
    assert report.intact and report.checked == 5


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("detail", {"i": 99}),
        ("action", "test.other"),
        ("actor_label", "someone-else"),
        ("organization_id", 12345),
        ("object_id", "x"),
    ],
)
def test_editing_a_row_is_caught(session: Session, column: str, value: object) -> None:
    events = add_events(session, 4)
    target = events[2].id
    session.execute(update(AuditEvent).where(AuditEvent.id == target).values({column: value}))
    session.commit()
    report = verify_chain(session, SYSTEM)
    assert not report.intact
    assert report.first_bad_id == target
    assert report.checked == 2


def test_deleting_a_row_is_caught(session: Session) -> None:
    events = add_events(session, 4)
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    session.commit()
    report = verify_chain(session, SYSTEM)
    assert report.first_bad_id == events[2].id
    assert "link broken" in (report.problem or "")


def test_report_gives_the_head_hash(session: Session) -> None:
    assert verify_chain(session, SYSTEM).head == GENESIS_HASH
    events = add_events(session, 3)
    report = verify_chain(session, SYSTEM)
    assert (report.checked, report.head) == (3, events[-1].hash)


def test_deleting_the_newest_event_shows_only_in_the_head(session: Session) -> None:
    """The chain stays intact when its end is cut off: only the head (and count) tell."""
    events = add_events(session, 4)
    head = verify_chain(session, SYSTEM).head
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[-1].id})
    session.commit()
    report = verify_chain(session, SYSTEM)
    assert report.intact
    assert (report.checked, report.head) == (3, events[-2].hash)
    assert report.head != head


@pytest.mark.parametrize("role", list(Role))
def test_only_the_operator_verifies_the_whole_chain(
    session: Session, world: World, role: Role
) -> None:
    with pytest.raises(PermissionDenied):
        verify_chain(session, world.actor("northwind", role))


def test_rewriting_a_row_and_its_hash_breaks_the_next_link(session: Session) -> None:
    events = add_events(session, 3)
    session.execute(update(AuditEvent).where(AuditEvent.id == events[1].id).values(hash="f" * 64))
    session.commit()
    assert verify_chain(session, SYSTEM).first_bad_id == events[1].id


def test_event_is_rolled_back_with_the_change(session: Session, world: World) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(PermissionDenied):
        tenancy.add_member(
            session,
            world.actor("client-a", Role.ADMIN),
            "client-a",
            world.user("client-a", Role.ADMIN).email,
            "auditor",
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_listing_is_scoped(session: Session, world: World) -> None:
    for slug in ("client-a", "client-b"):
        tenancy.add_member(
            session, SYSTEM, slug, world.user("otherco", Role.ADMIN).email, "auditor"
        )
    session.commit()
    events, total = list_events(session, world.actor("sentinel", Role.AUDITOR), org_slug="client-a")
    assert total == 1 and events[0].organization_id == world.orgs["client-a"].id
    with pytest.raises(NotFound):
        list_events(session, world.actor("sentinel", Role.AUDITOR), org_slug="client-b")
    with pytest.raises(PermissionDenied):
        list_events(session, world.actor("client-a", Role.IT_OPERATOR), org_slug="client-a")
    own, own_total = list_events(session, world.actor("client-b", Role.EXECUTIVE))
    assert own_total == 1 and own[0].organization_id == world.orgs["client-b"].id
    assert list_events(session, SYSTEM)[1] == 2
