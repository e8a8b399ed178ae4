"""The register's service: changes with their audit events, uniqueness of names and
identifiers, filters and pages, and finding the asset an identifier names."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.assets import service
from assay.assets.importing import import_assets
from assay.assets.models import Asset, AssetIdentifier
from assay.assets.service import AssetChanges, AssetFilter
from assay.assets.validation import AssetInput
from assay.auditlog.models import AuditEvent
from assay.auditlog.service import verify_chain
from assay.errors import Conflict, InvalidInput, NotFound
from assay.tenancy.models import Role
from tests.assets.conftest import stored
from tests.factories import SYSTEM, World

WEB1 = AssetInput(
    name="web1",
    kind="host",
    criticality="high",
    data_classification="confidential",
    owner="ops@client-a.test",
    description="Portal",
    tags=["DMZ", "pci"],
    identifiers=[("hostname", "WEB1.client-a.test"), ("ip", "10.0.0.5")],
)


def events(session: Session, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(session.scalars(query))


def test_create_update_delete_each_write_one_audit_event(session: Session, world: World) -> None:
    operator = world.actor("client-a", Role.IT_OPERATOR)
    asset = service.create_asset(session, operator, "client-a", WEB1)
    session.commit()
    assert (asset.name, asset.tags, asset.created_by_id) == (
        "web1",
        ["dmz", "pci"],
        world.user("client-a", Role.IT_OPERATOR).id,
    )
    assert [(str(i.kind), i.value) for i in asset.identifiers] == [
        ("hostname", "web1.client-a.test"),
        ("ip", "10.0.0.5"),
    ]
    [created] = events(session, "asset.create")
    assert (created.organization_id, created.object_id, created.actor_label) == (
        world.orgs["client-a"].id,
        str(asset.id),
        "it-operator@client-a.test",
    )
    assert created.detail["identifiers"] == ["hostname:web1.client-a.test", "ip:10.0.0.5"]

    changes = AssetChanges(
        criticality="critical", owner="", identifiers=[("ip", "10.0.0.5"), ("mac", "AABBCCDDEEFF")]
    )
    service.update_asset(session, operator, asset.id, changes)
    session.commit()
    [updated] = events(session, "asset.update")
    assert updated.detail == {
        "name": "web1",
        "changes": {
            "criticality": ["high", "critical"],
            "owner": ["ops@client-a.test", None],
            "identifiers": [
                ["hostname:web1.client-a.test", "ip:10.0.0.5"],
                ["ip:10.0.0.5", "mac:aa:bb:cc:dd:ee:ff"],
            ],
        },
    }
    session.refresh(asset)
    assert {i.value for i in asset.identifiers} == {"10.0.0.5", "aa:bb:cc:dd:ee:ff"}

    service.update_asset(session, operator, asset.id, AssetChanges(criticality="Critical"))
    session.commit()
    assert len(events(session, "asset.update")) == 1  # nothing changed, nothing written

    service.delete_asset(session, operator, asset.id)
    session.commit()
    [deleted] = events(session, "asset.delete")
    assert deleted.detail["name"] == "web1" and deleted.detail["criticality"] == "critical"
    assert stored(session)[:2] == (0, 0)
    assert verify_chain(session, SYSTEM).intact


def test_names_and_identifiers_are_unique_within_an_organization(
    session: Session, world: World
) -> None:
    admin = world.actor("northwind", Role.ADMIN)
    first = service.create_asset(session, admin, "client-a", WEB1)
    session.commit()
    before = stored(session)
    with pytest.raises(Conflict, match="an asset named 'web1' exists already"):
        service.create_asset(session, admin, "client-a", AssetInput(" web1 ", "application"))
    with pytest.raises(Conflict, match=r"ip:10\.0\.0\.5 belongs to asset 'web1' already"):
        service.create_asset(
            session,
            admin,
            "client-a",
            AssetInput("web2", "host", identifiers=[("ip", "::ffff:10.0.0.5")]),
        )
    session.rollback()
    assert stored(session) == before
    other = service.create_asset(session, admin, "client-a", AssetInput("web2", "host"))
    with pytest.raises(Conflict, match="exists already"):
        service.update_asset(session, admin, other.id, AssetChanges(name="web1"))
    with pytest.raises(Conflict, match="belongs to asset 'web1'"):
        service.update_asset(
            session, admin, other.id, AssetChanges(identifiers=[("hostname", "web1.client-a.test")])
        )
    session.rollback()
    # another organization may use the same name and addresses (private ranges repeat)
    service.create_asset(session, admin, "client-b", WEB1)
    session.commit()
    found = service.find_by_identifier(session, admin, "client-b", "ip", "10.0.0.5")
    assert found is not None and found.id != first.id


def test_an_identifier_may_move_between_kinds_and_assets(session: Session, world: World) -> None:
    admin = world.actor("client-a", Role.ADMIN)
    asset = service.create_asset(session, admin, "client-a", WEB1)
    service.update_asset(
        session, admin, asset.id, AssetChanges(identifiers=[("fqdn", "web1.client-a.test")])
    )
    other = service.create_asset(
        session, admin, "client-a", AssetInput("new-web", "host", identifiers=[("ip", "10.0.0.5")])
    )
    session.commit()
    assert service.find_by_identifier(session, admin, "client-a", "ip", "10.0.0.5") == other


def test_find_by_identifier_normalizes_what_a_host_reports(session: Session, world: World) -> None:
    viewer = world.actor("sentinel", Role.AUDITOR)
    asset = service.create_asset(session, world.actor("client-a", Role.ADMIN), "client-a", WEB1)
    session.commit()
    for kind, value in [
        ("hostname", "Web1.Client-A.test."),
        ("ip", "::ffff:10.0.0.5"),
        ("IP", " 10.0.0.5 "),
    ]:
        assert service.find_by_identifier(session, viewer, "client-a", kind, value) == asset
    assert service.find_by_identifier(session, viewer, "client-a", "ip", "10.0.0.6") is None
    assert (
        service.find_by_identifier(session, viewer, "client-a", "fqdn", "web1.client-a.test")
        is None
    )
    with pytest.raises(InvalidInput, match="not an IP address"):
        service.find_by_identifier(session, viewer, "client-a", "ip", "web1")
    with pytest.raises(NotFound):  # sentinel has no grant on client-b
        service.find_by_identifier(session, viewer, "client-b", "ip", "10.0.0.5")


@pytest.fixture
def register(session: Session, world: World) -> None:
    data = (
        "name,kind,criticality,owner,identifiers,tags,description\n"
        "web1,host,high,Ops Team,hostname:web1;ip:10.0.0.5,dmz;pci,Portal\n"
        "web2,host,medium,,hostname:web2;ip:10.0.0.6,dmz,Portal B\n"
        "db1,data_store,critical,dba@client-a.test,ip:10.0.1.5,pci;backup,Orders 100%_done\n"
        "M365,saas,high,,url:https://outlook.office.com/,mail;é-tag,Mail\n"
        "fw1,network_device,critical,,mac:00:11:22:33:44:55,perimeter,Edge\n"
    ).encode()
    import_assets(session, world.actor("client-a", Role.ADMIN), "client-a", data, "seed.csv")
    session.commit()


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        (AssetFilter(), ["db1", "fw1", "M365", "web1", "web2"]),
        (AssetFilter(kind="host"), ["web1", "web2"]),
        (AssetFilter(criticality="critical"), ["db1", "fw1"]),
        (AssetFilter(tag="PCI"), ["db1", "web1"]),
        (AssetFilter(tag="é-tag"), ["M365"]),
        (AssetFilter(tag="pc"), []),  # whole tags only
        (AssetFilter(text="10.0.0"), ["web1", "web2"]),
        (AssetFilter(text="ops team"), ["web1"]),
        (AssetFilter(text="100%_"), ["db1"]),  # LIKE wildcards are literal
        (AssetFilter(text="%"), ["db1"]),
        (AssetFilter(text="OUTLOOK"), ["M365"]),
        (AssetFilter(kind="host", tag="pci", text="web"), ["web1"]),
        (
            AssetFilter(kind=" ", criticality="", tag="", text=" "),
            ["db1", "fw1", "M365", "web1", "web2"],
        ),
    ],
)
def test_filters(
    filters: AssetFilter, names: list[str], session: Session, world: World, register: None
) -> None:
    rows, total = service.list_assets(
        session, world.actor("client-a", Role.EXECUTIVE), "client-a", filters
    )
    assert [a.name for a in rows] == names and total == len(names)


def test_bad_filters_are_refused(session: Session, world: World, register: None) -> None:
    viewer = world.actor("client-a", Role.EXECUTIVE)
    for filters, message in [
        (AssetFilter(kind="spaceship"), "unknown asset kind"),
        (AssetFilter(criticality="urgent"), "unknown criticality"),
        (AssetFilter(tag="<b>"), "may hold letters"),
        (AssetFilter(text="x" * 201), "at most 200"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            service.list_assets(session, viewer, "client-a", filters)


def test_pages_and_totals(session: Session, world: World, register: None) -> None:
    viewer = world.actor("client-a", Role.EXECUTIVE)
    pages = [service.list_assets(session, viewer, "client-a", limit=2, offset=o) for o in (0, 2, 4)]
    assert [[a.name for a in rows] for rows, _ in pages] == [
        ["db1", "fw1"],
        ["M365", "web1"],
        ["web2"],
    ]
    assert {total for _, total in pages} == {5}
    msp = world.actor("northwind", Role.ADMIN)
    assert service.list_assets(session, msp, "client-b") == ([], 0)  # scoped by organization


def test_import_creates_or_with_update_changes_only_the_given_columns(
    session: Session, world: World, register: None
) -> None:
    admin = world.actor("client-a", Role.IT_OPERATOR)
    before = stored(session)
    again = b"name,kind,criticality\nweb1,host,low\nweb3,host,low\n"
    with pytest.raises(InvalidInput) as refused:
        import_assets(session, admin, "client-a", again, "again.csv")
    assert getattr(refused.value, "problems", None) == [
        "line 2: name: an asset named 'web1' exists already (to change it, import in update mode)"
    ]
    session.rollback()
    assert stored(session) == before

    report = import_assets(session, admin, "client-a", again, "again.csv", update=True)
    session.commit()
    assert (report.created, report.updated, report.unchanged) == (("web3",), ("web1",), ())
    web1 = session.scalars(select(Asset).where(Asset.name == "web1")).one()
    assert (web1.criticality, web1.owner, web1.tags) == ("low", "Ops Team", ["dmz", "pci"])
    assert {i.value for i in web1.identifiers} == {"web1", "10.0.0.5"}  # column not in the file
    [event] = events(session, "asset.import")[-1:]
    assert event.detail["created"] == ["web3"]
    assert event.detail["updated"] == {"web1": ["criticality"]}
    assert event.detail["unchanged"] == 0 and len(event.detail["sha256"]) == 64
    assert verify_chain(session, SYSTEM).intact


def test_import_identifier_clashes_and_moves(
    session: Session, world: World, register: None
) -> None:
    admin = world.actor("client-a", Role.ADMIN)
    before = stored(session)
    clash = b"name,kind,identifiers\nweb9,host,ip:10.0.0.5\n"
    with pytest.raises(InvalidInput) as refused:
        import_assets(session, admin, "client-a", clash, "clash.csv", update=True)
    assert getattr(refused.value, "problems", None) == [
        "line 2: identifiers: ip:10.0.0.5 belongs to asset 'web1' already"
    ]
    session.rollback()
    assert stored(session) == before
    # web1 gives its address to the new web9 within the same file: allowed, in one go
    moved = b"name,kind,identifiers\nweb1,host,hostname:web1\nweb9,host,ip:10.0.0.5\n"
    report = import_assets(session, admin, "client-a", moved, "moved.csv", update=True)
    session.commit()
    assert report.created == ("web9",) and report.updated == ("web1",)
    web9 = service.find_by_identifier(session, admin, "client-a", "ip", "10.0.0.5")
    assert web9 is not None and web9.name == "web9"
    owners = dict(
        session.execute(
            select(AssetIdentifier.value, Asset.name)
            .join(Asset)
            .where(Asset.name.in_(["web1", "web9"]))
        ).all()
    )
    assert owners == {"web1": "web1", "10.0.0.5": "web9"}
