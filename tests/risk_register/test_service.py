"""The register through the service: create, read, list, change, delete; links to assets and
catalog controls; every change in the audit trail; out of reach is not found."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.assets.service import create_asset
from assay.assets.validation import AssetInput
from assay.auditlog.models import AuditEvent
from assay.auditlog.service import verify_chain
from assay.errors import InvalidInput, NotFound, PermissionDenied
from assay.risk import service
from assay.risk.models import RiskStatus, Treatment
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World
from tests.risk_register.conftest import make_risk, stored

FULL: dict[str, Any] = {
    "title": "  Ransomware   on the file server ",
    "threat_actor": "Criminal group",
    "threat_event": "Encrypts the shares after phishing an operator",
    "weakness": "Flat network; shares writable by everyone",
    "description": "The practice stops for days.",
    "owner": "it-operator@client-a.test",
    "treatment": "mitigate",
    "status": "mitigating",
    "due_on": "2027-03-31",
    "inherent_likelihood": "high",
    "inherent_impact": 5,
    "residual_likelihood": "3",
    "residual_impact": "very high",
    "fair": {
        "tef": "2,6,24",
        "vuln": [0.05, 0.2, 0.5],
        "lm": {"kind": "lognormal", "low": 2e4, "high": 9e5},
    },
    "tolerance": "500000",
}


def events(session: Session, action: str) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_create_reads_back_typed_and_audited(session: Session, world: World) -> None:
    actor = world.actor("client-a", Role.IT_OPERATOR)
    risk = service.create_risk(session, actor, "client-a", FULL)
    session.commit()
    view = service.get_risk(session, world.actor("client-a", Role.EXECUTIVE), risk.id)
    data = view.to_dict()
    assert data["title"] == "Ransomware on the file server"
    assert data["treatment"] == "mitigate" and data["status"] == "mitigating"
    assert data["due_on"] == "2027-03-31"
    assert data["owner"] == "it-operator@client-a.test" and data["owner_is_user"]
    assert data["inherent"]["likelihood"] == 4 and data["inherent"]["impact"] == 5
    assert data["inherent"]["level_name"] == "very high"
    assert data["residual"] == {
        "likelihood": 3,
        "likelihood_name": "moderate",
        "impact": 5,
        "impact_name": "very high",
        "level": 4,
        "level_name": "high",
    }
    assert data["fair"]["tef"] == {
        "kind": "pert",
        "min": 2.0,
        "mode": 6.0,
        "max": 24.0,
        "confidence": 4.0,
    }
    assert data["fair"]["lm"] == {"kind": "lognormal", "low": 2e4, "high": 9e5}
    assert data["tolerance"] == 500000.0
    [created] = events(session, "risk.create")
    assert created.actor_label == "it-operator@client-a.test"
    assert created.detail["title"] == "Ransomware on the file server"
    assert created.detail["fair"]["vuln"]["max"] == 0.5


def test_free_text_owner_and_owner_outside_the_client(session: Session, world: World) -> None:
    one = make_risk(session, owner="The practice manager")
    other = make_risk(session, owner="admin@client-b.test")  # a user, but not of client-a
    msp = make_risk(session, owner="ADMIN@northwind.test")  # its MSP: linked
    owners = {
        risk_id: service.get_risk(session, SYSTEM, risk_id).to_dict()
        for risk_id in (one, other, msp)
    }
    assert (owners[one]["owner"], owners[one]["owner_is_user"]) == ("The practice manager", False)
    assert owners[other]["owner_is_user"] is False
    assert (owners[msp]["owner"], owners[msp]["owner_is_user"]) == ("admin@northwind.test", True)


def test_assets_by_name_or_id_of_the_same_client_only(session: Session, world: World) -> None:
    operator = world.actor("client-a", Role.IT_OPERATOR)
    web = create_asset(session, operator, "client-a", AssetInput(name="web1", kind="host"))
    create_asset(session, operator, "client-a", AssetInput(name="db1", kind="data_store"))
    foreign = create_asset(
        session,
        world.actor("client-b", Role.IT_OPERATOR),
        "client-b",
        AssetInput(name="b1", kind="host"),
    )
    session.commit()
    risk_id = make_risk(session, assets=[web.id, "db1", "web1"])
    view = service.get_risk(session, SYSTEM, risk_id)
    assert [a.name for a in view.assets] == ["db1", "web1"]
    before = stored(session)
    with pytest.raises(InvalidInput, match=r"assets\[0\]: no asset .* in 'client-a'"):
        make_risk(session, assets=[foreign.id])
    with pytest.raises(InvalidInput, match=r"assets\[1\]: no asset named 'b1'"):
        make_risk(session, assets=["web1", "b1"])
    assert stored(session) == before


def test_list_orders_by_inherent_level_and_filters_by_status(
    session: Session, world: World
) -> None:
    low = make_risk(session, title="low", inherent_likelihood=1, inherent_impact=2)
    high = make_risk(session, title="high", inherent_likelihood=5, inherent_impact=5)
    closed = make_risk(session, title="closed", status="closed")
    rows, total = service.list_risks(session, world.actor("client-a", Role.AUDITOR), "client-a")
    assert total == 3 and [r.id for r in rows] == [high, closed, low]
    rows, total = service.list_risks(session, SYSTEM, "client-a", status="closed")
    assert (total, [r.id for r in rows]) == (1, [closed])
    with pytest.raises(InvalidInput, match="status: must be one of open"):
        service.list_risks(session, SYSTEM, "client-a", status="shut")
    with pytest.raises(InvalidInput, match="not a client"):
        service.list_risks(session, SYSTEM, "northwind")


def test_update_records_changes_and_never_sets_accepted(session: Session, world: World) -> None:
    risk_id = make_risk(session)
    actor = world.actor("northwind", Role.IT_OPERATOR)
    service.update_risk(
        session,
        actor,
        risk_id,
        {"status": "mitigating", "residual_likelihood": 2, "residual_impact": 3, "title": "Ransom"},
    )
    session.commit()
    [changed] = events(session, "risk.update")
    assert changed.detail["changes"] == {
        "title": ["Ransomware on the file server", "Ransom"],
        "status": ["open", "mitigating"],
        "residual_likelihood": [None, 2],
        "residual_impact": [None, 3],
    }
    service.update_risk(session, actor, risk_id, {"title": "Ransom"})  # nothing changes
    session.commit()
    assert len(events(session, "risk.update")) == 1
    before = stored(session)
    with pytest.raises(InvalidInput, match="status: a risk becomes accepted only through"):
        service.update_risk(session, actor, risk_id, {"status": "accepted"})
    with pytest.raises(InvalidInput, match="title: must not be empty"):
        service.update_risk(session, actor, risk_id, {"title": "  "})
    with pytest.raises(InvalidInput, match="inherent_impact: missing"):
        service.update_risk(session, actor, risk_id, {"inherent_impact": None})
    with pytest.raises(InvalidInput, match="colour: unknown field"):
        service.update_risk(session, actor, risk_id, {"colour": "red"})
    assert stored(session) == before


def test_clearing_optional_fields(session: Session, world: World) -> None:
    risk_id = make_risk(session, **{k: v for k, v in FULL.items() if k != "owner"})
    service.update_risk(
        session, SYSTEM, risk_id, {"fair": None, "tolerance": None, "due_on": "", "treatment": None}
    )
    session.commit()
    data = service.get_risk(session, SYSTEM, risk_id).to_dict()
    assert (data["fair"], data["tolerance"], data["due_on"], data["treatment"]) == (
        None,
        None,
        None,
        None,
    )


def test_delete_keeps_what_it_was_in_the_trail(session: Session, world: World) -> None:
    risk_id = make_risk(session, **FULL)
    service.delete_risk(session, world.actor("client-a", Role.ADMIN), risk_id)
    session.commit()
    assert stored(session)[:4] == (0, 0, 0, 0)
    [deleted] = events(session, "risk.delete")
    assert deleted.detail["title"] == "Ransomware on the file server"
    assert deleted.detail["fair"]["tef"]["mode"] == 6.0
    assert verify_chain(session, SYSTEM).intact


@pytest.mark.parametrize(
    ("slug", "role"),
    [
        ("client-b", Role.ADMIN),
        ("watchtower", Role.AUDITOR),
        ("otherco", Role.ADMIN),
        ("sentinel", Role.ADMIN),
    ],
)
def test_out_of_reach_is_not_found(session: Session, world: World, slug: str, role: Role) -> None:
    risk_id = make_risk(session, slug="client-b") if slug != "client-b" else make_risk(session)
    target = "client-b" if slug != "client-b" else "client-a"
    actor = world.actor(slug, role)
    before = stored(session)
    for call in (
        lambda: service.get_risk(session, actor, risk_id),
        lambda: service.update_risk(session, actor, risk_id, {"title": "x"}),
        lambda: service.delete_risk(session, actor, risk_id),
        lambda: service.accept_risk(session, actor, risk_id, "ok", "2099-01-01"),
    ):
        with pytest.raises(NotFound, match=f"risk {risk_id} not found"):
            call()
    for call in (
        lambda: service.list_risks(session, actor, target),
        lambda: service.create_risk(session, actor, target, {"title": "x"}),
    ):
        with pytest.raises(NotFound, match=f"organization '{target}' not found"):
            call()
    assert stored(session) == before


@pytest.mark.parametrize(
    ("slug", "role", "allowed"),
    [
        ("client-a", Role.ADMIN, True),
        ("client-a", Role.IT_OPERATOR, True),
        ("client-a", Role.AUDITOR, True),
        ("client-a", Role.EXECUTIVE, False),
        ("northwind", Role.ADMIN, True),
        ("northwind", Role.IT_OPERATOR, True),
        ("northwind", Role.AUDITOR, False),  # an MSP's auditors check its work, never do it
        ("northwind", Role.EXECUTIVE, False),
        ("sentinel", Role.AUDITOR, True),  # granted: auditors propose risks
        ("sentinel", Role.ADMIN, False),
    ],
)
def test_who_may_create(
    session: Session, world: World, slug: str, role: Role, allowed: bool
) -> None:
    actor = world.actor(slug, role)
    data = {"title": "Lost laptop", "inherent_likelihood": 3, "inherent_impact": 2}
    if allowed:
        service.create_risk(session, actor, "client-a", data)
    else:
        with pytest.raises(PermissionDenied):
            service.create_risk(session, actor, "client-a", data)


def test_statuses_and_treatments_are_the_documented_ones() -> None:
    assert [s.value for s in RiskStatus] == [
        "open",
        "mitigating",
        "accepted",
        "transferred",
        "avoided",
        "closed",
    ]
    assert [t.value for t in Treatment] == ["mitigate", "accept", "transfer", "avoid"]
